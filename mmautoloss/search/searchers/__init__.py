"""Searchers: PPO2 on a truncated normal (ASL, PAP), the random-search baseline over
vectors, random formula search, regularised evolution (AutoLoss-Zero) and
convergence-simulation driven evolution (CSE-Autoloss)."""
from .base import SEARCHERS, BaseSearcher, VectorSearcher
from .convergence_simulation import ConvergenceSimulationSearcher
from .ppo2 import PPO2Searcher
from .random_formula import RandomFormulaSearcher
from .random_search import RandomSearcher
from .regularized_evolution import RegularizedEvolutionSearcher

__all__ = ['SEARCHERS', 'BaseSearcher', 'ConvergenceSimulationSearcher', 'PPO2Searcher',
           'RandomFormulaSearcher', 'RandomSearcher', 'RegularizedEvolutionSearcher',
           'VectorSearcher']
