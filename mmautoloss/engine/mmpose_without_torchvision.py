"""Let mmpose 1.3.2 import on a machine without torchvision.

mmpose's registries import ``mmpose.visualization`` when they resolve a type, and its
``simcc_vis`` module (a heatmap drawer for SimCC heads, nothing else) imports
``torchvision.transforms.ToPILImage`` at module level; torchvision cannot be installed
beside the CPU torch build (README, Install). When torchvision is missing, this registers a
stand-in ``mmpose.visualization.simcc_vis`` whose ``SimCCVisualizer`` raises a clear error
if it is ever used; every other mmpose module is the real one.
"""
import sys
import types
from importlib.util import find_spec

MODULE = 'mmpose.visualization.simcc_vis'


class SimCCVisualizer:
    """Stand-in for mmpose's SimCC heatmap drawer, which needs torchvision."""

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError('mmpose.visualization.SimCCVisualizer needs torchvision, which is '
                           'not installed (it cannot sit beside the CPU torch build)')


def install() -> None:
    """Register the stand-in when mmpose is installed and torchvision is not."""
    if MODULE in sys.modules or find_spec('mmpose') is None or find_spec('torchvision'):
        return
    stand_in = types.ModuleType(MODULE)
    stand_in.__doc__ = __doc__
    stand_in.SimCCVisualizer = SimCCVisualizer
    sys.modules[MODULE] = stand_in
