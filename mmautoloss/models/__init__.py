"""mmautoloss.models."""
