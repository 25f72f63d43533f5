"""Searchers: PPO2 on a truncated normal (ASL, PAP) and the random-search baseline."""
from .base import SEARCHERS, BaseSearcher, Candidate
from .ppo2 import PPO2Searcher
from .random_search import RandomSearcher

__all__ = ['SEARCHERS', 'BaseSearcher', 'Candidate', 'PPO2Searcher', 'RandomSearcher']
