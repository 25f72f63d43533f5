"""mmautoloss.datasets."""
