"""mmautoloss.models.dense_heads."""
