"""mmautoloss.datasets."""
from importlib.util import find_spec

if find_spec('mmseg') is not None:
    from .toy_seg_dataset import ToySegDataset  # noqa: F401
