"""mmautoloss.search."""
