"""OpenMMLab glue: registered losses and the detection heads that feed them.

Losses need mmengine only; heads subclass mmdet's and are registered when mmdet is installed.
"""
from importlib.util import find_spec

from . import losses  # noqa: F401

if find_spec('mmdet') is not None:
    from . import dense_heads, roi_heads  # noqa: F401
