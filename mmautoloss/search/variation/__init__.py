"""Variation of formula trees for the evolutionary searches: random initialisation
(ALZ Figure 2), mutations and the offspring rule (ALZ Figure 3)."""
from .mutation import MUTATIONS, mutate, mutate_or_keep, offspring
from .random_tree import leaf_names, random_formula

__all__ = ['MUTATIONS', 'leaf_names', 'mutate', 'mutate_or_keep', 'offspring', 'random_formula']
