"""Auto Seg-Loss surrogates in the arithmetic of the authors' public release.

fundamentalvision/Auto-Seg-Loss, ``mmseg/models/losses/auto_seg_loss.py``: the form that
produced the paper's numbers with the released curves, written here independently. Same
inputs and curve conventions as :mod:`.seg_surrogates` (the paper / evaluator form) except:

* every class average runs over all C classes, each ratio with ``EPS = 1e-8`` added to its
  denominator (a class absent from the batch counts 0 in mIoU, BIoU and mAcc, where the
  evaluator form leaves it out);
* BIoU's band is the evaluator's (:func:`~.boundary.biou_band`), the mean over all classes;
* BF1 builds the soft predicted edge as the XOR of ``p`` and ``erode(p)`` with one curve per
  operand, ``[g_AND(p), g_AND(erode p), g_OR(p), g_OR(erode p)]`` (the released vector's
  order): ``edge = g3(p) + g4(e) - g3(p) g4(e) - g1(p) g2(e)``; precision and recall use no
  curve; ignored pixels are not masked out of the predicted edge; F1 is averaged over the
  classes that have a ground-truth edge.

At one-hot predictions mIoU, FWIoU and gAcc equal the metric (up to EPS); mIoU / BIoU / mAcc
differ from it when a class has no pixel (union or count zero), BF1 when a class has a
predicted edge but no ground-truth edge, or when pixels are ignored. Where the release
divides 0 by 0 (FWIoU or BF1 with no ground truth at all) these functions return 0.
"""
from collections.abc import Callable

import torch
from torch import Tensor

from .boundary import binary_boundary, biou_band, dilate, erode
from .seg_surrogates import Curves, _check_inputs, _mask_and_index, _one_hot
from .soft_logic import apply_curve_or_identity

EPS = 1e-8
DIMS = (0, 2, 3)


def _target(probs: Tensor, labels: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
    """One-hot target (zero rows at ignored pixels) and the valid mask (N, 1, H, W)."""
    _, index, valid = _mask_and_index(probs, labels, ignore_index)
    return _one_hot(probs, index, valid), valid.unsqueeze(1).to(probs.dtype)


def _iou(probs: Tensor, target: Tensor, mask: Tensor, g_and: Callable | None,
         g_or: Callable | None) -> Tensor:
    inter_p = apply_curve_or_identity(g_and, probs)
    union_p = apply_curve_or_identity(g_or, probs)
    intersection = (inter_p * target * mask).sum(DIMS)
    union = ((union_p + target - union_p * target) * mask).sum(DIMS) + EPS
    return intersection / union


def miou_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                 ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Release mIoU: mean over all classes of sum g_AND(p) y / (sum h_OR(p, y) + EPS)."""
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    target, mask = _target(probs, labels, ignore_index)
    return _iou(probs, target, mask, g_and, g_or).mean()


def fwiou_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                  ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Release FWIoU: IoU weighted by the ground-truth pixel count of each class."""
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    target, mask = _target(probs, labels, ignore_index)
    freq = target.sum(DIMS)
    weighted = (_iou(probs, target, mask, g_and, g_or) * freq).sum()
    return torch.where(freq.sum() > 0, weighted / freq.sum().clamp_min(EPS),
                       weighted * 0)


def biou_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                 ignore_index: int = 255, tolerance: int = 5,
                 ignore_background: bool = True, validate: bool = True) -> Tensor:
    """Release BIoU: the release mIoU inside the ground-truth band (``drop_bg`` =
    ``ignore_background``)."""
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    target, mask = _target(probs, labels, ignore_index)
    band = biou_band(target.detach(), tolerance, ignore_background, validate=False)
    return _iou(probs, target, mask * band, g_and, g_or).mean()


def macc_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                 ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Release mAcc: mean over all classes of sum g_AND(p) y / (sum y + EPS)."""
    (g_and, ) = _check_inputs(probs, labels, ignore_index, curves, 1,
                                validate)
    target, _ = _target(probs, labels, ignore_index)
    correct = (apply_curve_or_identity(g_and, probs) * target).sum(DIMS)
    return (correct / (target.sum(DIMS) + EPS)).mean()


def gacc_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                 ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Release gAcc: sum g_AND(p) y / (sum y + EPS) over all pixels and classes."""
    (g_and, ) = _check_inputs(probs, labels, ignore_index, curves, 1,
                                validate)
    target, _ = _target(probs, labels, ignore_index)
    return (apply_curve_or_identity(g_and, probs) * target).sum() / (target.sum() + EPS)


def bf1_release(probs: Tensor, labels: Tensor, curves: Curves = None,
                ignore_index: int = 255, tolerance: int = 5,
                ignore_background: bool = False, validate: bool = True) -> Tensor:
    """Release BF1 (see the module docstring), curves
    ``[g_AND(p), g_AND(erode p), g_OR(p), g_OR(erode p)]``."""
    g1, g2, g3, g4 = _check_inputs(probs, labels, ignore_index, curves, 4,
                                validate)
    target, _ = _target(probs, labels, ignore_index)
    with torch.no_grad():
        target_edge = binary_boundary(target)
        target_dilated = dilate(target_edge, tolerance)
    eroded = erode(probs)
    union_p, union_e = apply_curve_or_identity(g3, probs), apply_curve_or_identity(g4, eroded)
    pred_edge = union_p + union_e - union_p * union_e - \
        apply_curve_or_identity(g1, probs) * apply_curve_or_identity(g2, eroded)
    freq = target_edge.sum(DIMS)
    precision = (pred_edge * target_dilated).sum(DIMS) / (pred_edge.sum(DIMS) + EPS)
    recall = (dilate(pred_edge, tolerance) * target_edge).sum(DIMS) / (freq + EPS)
    f1 = 2 * precision * recall / (precision + recall + EPS)
    counted = freq != 0
    if ignore_background:
        counted[0] = False
    return (f1 * counted).sum() / counted.sum().clamp_min(1)


#: metric name -> (release surrogate, number of curves)
RELEASE_SURROGATES: dict[str, tuple[Callable[..., Tensor], int]] = {
    'mIoU': (miou_release, 2),
    'FWIoU': (fwiou_release, 2),
    'BIoU': (biou_release, 2),
    'BF1': (bf1_release, 4),
    'mAcc': (macc_release, 1),
    'gAcc': (gacc_release, 1),
}
