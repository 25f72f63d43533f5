"""mmautoloss.engine."""
