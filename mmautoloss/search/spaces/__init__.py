"""Search spaces: candidate vectors <-> loss config overrides."""
from .asl_space import ASLSpace
from .base import SPACES, BaseSpace
from .pap_space import PAPSpace

__all__ = ['SPACES', 'BaseSpace', 'ASLSpace', 'PAPSpace']
