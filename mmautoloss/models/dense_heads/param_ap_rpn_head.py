"""Faster R-CNN RPN head trained with the Parameterized AP Loss (PAP eq. 6, section 4.1)."""

from mmdet.models.dense_heads import RPNHead
from mmdet.utils import ConfigType

from mmautoloss.registry import MODELS

from ..param_ap_head_setup import attach_ap_loss, unified_loss_parent_kwargs
from .param_ap_anchor_loss import ParamAPAnchorLossMixin


@MODELS.register_module()
class ParamAPRPNHead(ParamAPAnchorLossMixin, RPNHead):
    """mmdet's ``RPNHead`` whose objectness + box losses are replaced by ONE ParamAPLoss.

    The paper searches one Parameterized AP Loss for the RPN and another for the R-CNN
    head of Faster R-CNN at once (section 4.1, Appendix Fig. 4). Here eq. (6) runs over
    all anchors of all levels and images of the mini-batch with one class (objectness
    logit, sigmoid as in mmdet); B is the set of anchors the RPN sampler keeps (label
    weight > 0) and P its positive anchors, whose decoded boxes give l(b) of eq. (4).

    Config (the search engine overrides ``loss_ap``)::

        rpn_head=dict(type='ParamAPRPNHead', loss_cls=None, loss_bbox=None,
                      loss_ap=dict(type='ParamAPLoss', functions=..., grad_scale=...))

    ``loss_cls`` and ``loss_bbox`` must be ``None``; the loss is reported as
    ``loss_rpn_ap`` (``TwoStageDetector`` keeps keys that contain ``rpn``).

    Args:
        in_channels (int): Channels of the input feature maps.
        loss_ap (ConfigType):
            Config of the unified loss, normally ``dict(type='ParamAPLoss', ...)``.
        loss_cls (Optional[dict]): Must be ``None``.
        loss_bbox (Optional[dict]): Must be ``None``.
        **kwargs: Remaining ``RPNHead`` arguments.
    """

    ap_loss_key = 'loss_rpn_ap'

    def __init__(self,
                 in_channels: int,
                 loss_ap: ConfigType = dict(type='ParamAPLoss'),
                 loss_cls: dict | None = None,
                 loss_bbox: dict | None = None,
                 **kwargs) -> None:
        super().__init__(
            in_channels,
            **unified_loss_parent_kwargs(type(self).__name__, loss_cls, loss_bbox, kwargs,
                                         use_sigmoid=True))
        attach_ap_loss(self, loss_ap)
