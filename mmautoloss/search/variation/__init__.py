"""Variation of formula trees for the evolutionary searches: random initialisation."""
from .random_tree import leaf_names, random_formula

__all__ = ['leaf_names', 'random_formula']
