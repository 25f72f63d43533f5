"""mmautoloss.models.losses."""
