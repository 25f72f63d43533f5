"""mmautoloss.models.roi_heads."""
