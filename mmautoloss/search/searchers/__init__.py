"""Searchers: PPO2 on a truncated normal (ASL, PAP), the random-search baseline over
vectors, and random formula search (the baseline of AutoLoss-Zero / CSE-Autoloss)."""
from .base import SEARCHERS, BaseSearcher, Candidate, Genotype, VectorSearcher
from .ppo2 import PPO2Searcher
from .random_formula import RandomFormulaSearcher
from .random_search import RandomSearcher

__all__ = ['SEARCHERS', 'BaseSearcher', 'Candidate', 'Genotype', 'PPO2Searcher',
           'RandomFormulaSearcher', 'RandomSearcher', 'VectorSearcher']
