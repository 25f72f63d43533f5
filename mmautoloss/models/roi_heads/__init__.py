"""mmautoloss.models.roi_heads."""
from .iou_bbox_head import IoUShared2FCBBoxHead  # noqa: F401
from .param_ap_bbox_head import ParamAPBBoxHead  # noqa: F401
