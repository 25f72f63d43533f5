"""mmautoloss.models.losses."""
from .auto_seg_loss import AutoSegLoss  # noqa: F401
from .expr_loss import ExprLoss  # noqa: F401
from .param_ap_loss import ParamAPLoss  # noqa: F401
