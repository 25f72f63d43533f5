"""mmautoloss.engine.hooks."""
