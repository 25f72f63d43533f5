"""mmautoloss.models.roi_heads."""
from .param_ap_bbox_head import ParamAPBBoxHead  # noqa: F401
