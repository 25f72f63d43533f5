"""mmautoloss.functional."""
