"""mmautoloss.evaluation.metrics."""
