"""mmautoloss: automated loss-function search for OpenMMLab 2.x.

``import mmautoloss`` (or ``custom_imports=dict(imports=['mmautoloss'])`` in an mmdet, mmseg
or mmpose config) registers every loss, head, hook, metric and dataset of the package in
mmengine's root registries, where the three libraries' registries find them by bare name.
Components for a library that is not installed are skipped; ``mmautoloss.functional`` needs
torch alone.
"""
from importlib.util import find_spec

from .version import __version__

if find_spec('mmengine') is not None:
    from .engine.mmpose_without_torchvision import install as _mmpose_without_torchvision
    _mmpose_without_torchvision()
    from . import datasets, engine, evaluation, models  # noqa: F401  (registration)

__all__ = ['__version__']
