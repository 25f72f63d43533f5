"""RetinaNet head trained with the Parameterized AP Loss (PAP eq. 6, section 4.1)."""

from mmdet.models.dense_heads import RetinaHead
from mmdet.utils import ConfigType

from mmautoloss.registry import MODELS

from ..param_ap_head_setup import attach_ap_loss, unified_loss_parent_kwargs
from .param_ap_anchor_loss import ParamAPAnchorLossMixin


@MODELS.register_module()
class ParamAPRetinaHead(ParamAPAnchorLossMixin, RetinaHead):
    """mmdet's ``RetinaHead`` whose focal + box losses are replaced by ONE ParamAPLoss.

    PAP eq. (6) is computed once per mini-batch over every (anchor, class) pair of all
    FPN levels and all images (section 4.1); the scores are the per-class sigmoid logits
    that RetinaNet already predicts (inference is unchanged), the positives are the
    assigner's positive anchors at their GT class, and anchors with label weight 0
    (ignored by ``MaxIoUAssigner`` or outside the image) are excluded. Predicted deltas
    of the positives are decoded to boxes for the localization score l(b) of eq. (4).

    Config (the search engine overrides ``loss_ap``)::

        bbox_head=dict(type='ParamAPRetinaHead', loss_cls=None, loss_bbox=None,
                       loss_ap=dict(type='ParamAPLoss', functions=..., grad_scale=...))

    ``loss_cls`` and ``loss_bbox`` must be ``None`` (they would be unused); the loss is
    reported as ``loss_ap``.

    Args:
        num_classes (int): Number of foreground categories.
        in_channels (int): Channels of the input feature maps.
        loss_ap (ConfigType):
            Config of the unified loss, normally ``dict(type='ParamAPLoss', ...)``.
        loss_cls (Optional[dict]): Must be ``None``.
        loss_bbox (Optional[dict]): Must be ``None``.
        **kwargs: Remaining ``RetinaHead`` arguments (anchor generator, box coder,
            train / test cfg, init cfg, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_ap: ConfigType = dict(type='ParamAPLoss'),
                 loss_cls: dict | None = None,
                 loss_bbox: dict | None = None,
                 **kwargs) -> None:
        super().__init__(
            num_classes, in_channels,
            **unified_loss_parent_kwargs(type(self).__name__, loss_cls, loss_bbox, kwargs,
                                         use_sigmoid=True))
        attach_ap_loss(self, loss_ap)
