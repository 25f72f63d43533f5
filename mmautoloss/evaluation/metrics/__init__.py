"""mmautoloss.evaluation.metrics."""
from .boundary_metric import BoundaryF1Metric, BoundaryIoUMetric  # noqa: F401
from .fwiou_metric import FWIoUMetric  # noqa: F401
