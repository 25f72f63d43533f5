"""Handing the IoU input ``w`` of CSE-Autoloss (section 3.1) to a classification loss."""
import inspect

from torch import Tensor, nn


def iou_kwargs(loss: nn.Module, iou: Tensor) -> dict[str, Tensor]:
    """``{'iou': iou}`` when ``loss`` takes an ``iou`` argument (``ExprLoss``), else ``{}``,
    so that the IoU heads also train with mmdet's own classification losses."""
    return {'iou': iou} if 'iou' in inspect.signature(loss.forward).parameters else {}
