"""mmautoloss.datasets."""
from importlib.util import find_spec

from .held_out_split import held_out_split, split_indices  # noqa: F401

if find_spec('mmseg') is not None:
    from .toy_seg_dataset import ToySegDataset  # noqa: F401
