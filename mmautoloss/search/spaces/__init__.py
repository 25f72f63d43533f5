"""Search spaces: candidates (vectors or formulas) <-> loss config overrides."""
from .asl_space import ASLSpace
from .base import SPACES, BaseSpace
from .formula_space import FormulaSpace
from .pap_space import PAPSpace

__all__ = ['SPACES', 'BaseSpace', 'ASLSpace', 'FormulaSpace', 'PAPSpace']
