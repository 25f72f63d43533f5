"""mmautoloss.evaluation."""
