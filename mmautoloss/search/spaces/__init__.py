"""Search spaces: candidates (vectors or formulas) <-> loss config overrides."""
from .asl_space import ASLSpace
from .base import SPACES, BaseSpace
from .formula_space import FormulaSpace
from .pap_space import PAPSpace
from .vector_space import VectorSpace

__all__ = ['SPACES', 'ASLSpace', 'BaseSpace', 'FormulaSpace', 'PAPSpace', 'VectorSpace']
