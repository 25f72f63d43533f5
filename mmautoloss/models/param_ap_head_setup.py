"""Constructor plumbing shared by the mmdet heads that train with one ParamAPLoss.

The RetinaNet, RPN and R-CNN box heads replace their classification and box losses by ONE
Parameterized AP Loss (PAP eq. 6) given as ``loss_ap``. Their mmdet parents still build
``loss_cls`` / ``loss_bbox`` from config (and read ``use_sigmoid`` from it), so the heads
hand the parent placeholders, drop the two modules afterwards and build ``loss_ap``.
The Deformable DETR head builds its ``loss_ap`` with the same :func:`build_ap_loss`.
"""

from mmdet.registry import MODELS as MMDET_MODELS
from torch import nn

from mmautoloss.models.losses.param_ap_loss import ParamAPLoss


def unified_loss_parent_kwargs(head: str, loss_cls: dict | None,
                               loss_bbox: dict | None, kwargs: dict,
                               use_sigmoid: bool) -> dict:
    """Check a ParamAP head's loss arguments; return the parent constructor's kwargs.

    ``loss_cls`` and ``loss_bbox`` must be ``None`` (a separate loss would be silently
    unused; configs inheriting mmdet's detectors write ``loss_cls=None, loss_bbox=None``)
    and ``reg_decoded_bbox`` must stay True (the localization score of eq. 4 needs boxes).
    """
    for key, value in (('loss_cls', loss_cls), ('loss_bbox', loss_bbox)):
        if value is not None:
            raise ValueError(f'{head} trains with the single ParamAPLoss given as `loss`; '
                             f'set {key}=None, got {key}={value!r}')
    parent_kwargs = dict(kwargs)
    reg_decoded_bbox = parent_kwargs.pop('reg_decoded_bbox', True)
    if not reg_decoded_bbox:
        raise ValueError(f'{head} regresses decoded boxes (eq. 4 needs them); '
                         f'reg_decoded_bbox must be True, got {reg_decoded_bbox!r}')
    parent_kwargs.update(loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=use_sigmoid),
                         loss_bbox=dict(type='L1Loss'), reg_decoded_bbox=True)
    return parent_kwargs


def build_ap_loss(head: str, loss: dict) -> ParamAPLoss:
    """Build a ParamAP head's single loss from its ``loss_ap`` config; it must be a
    ``ParamAPLoss`` (eq. 6).

    The heads call it as ``loss(scores, pos_mask, pos_pred_boxes, pos_gt_boxes)``, so any
    other loss would only fail at the first training step.
    """
    if not isinstance(loss, dict) or 'type' not in loss:
        raise ValueError(
            f"{head}: loss_ap must be a config dict with a 'type' key, got loss_ap={loss!r}")
    module = MMDET_MODELS.build(loss)  # mmdet's registry falls back to the root
    if not isinstance(module, ParamAPLoss):
        raise ValueError(f'{head}: loss_ap must build a ParamAPLoss (eq. 6), got '
                         f"loss_ap.type={loss['type']!r}")
    return module


def attach_ap_loss(head: nn.Module, loss: dict) -> None:
    """Drop the parent's placeholder losses and build ``head.loss_ap`` from its config:
    config key, attribute and log key are all ``loss_ap`` (``loss_rpn_ap`` in the log of
    the RPN, as mmdet's ``loss_rpn_cls``)."""
    head.loss_cls = None
    head.loss_bbox = None
    head.loss_ap = build_ap_loss(type(head).__name__, loss)
