"""mmautoloss.models.losses."""
from .param_ap_loss import ParamAPLoss  # noqa: F401
