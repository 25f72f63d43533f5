"""mmautoloss.models.dense_heads."""
from .iou_atss_head import IoUATSSHead  # noqa: F401
from .iou_fcos_head import IoUFCOSHead  # noqa: F401
from .param_ap_deformable_detr_head import ParamAPDeformableDETRHead  # noqa: F401
from .param_ap_retina_head import ParamAPRetinaHead  # noqa: F401
from .param_ap_rpn_head import ParamAPRPNHead  # noqa: F401
