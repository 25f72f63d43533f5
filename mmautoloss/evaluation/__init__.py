"""mmautoloss.evaluation."""
from . import metrics  # noqa: F401
