"""``ToySegDataset``: mmseg loader for the synthetic ToySeg set (see toy_segmentation.py)."""
from mmseg.datasets import BaseSegDataset

from mmautoloss.registry import DATASETS

from .toy_segmentation import TOYSEG_CLASSES, TOYSEG_PALETTE


@DATASETS.register_module()
class ToySegDataset(BaseSegDataset):
    """ToySeg in mmseg's ``img_dir`` / ``ann_dir`` layout: PNG images and PNG label maps.

    Label 0 is a real class (background), so ``reduce_zero_label`` is False; 255 is ignored.
    """

    METAINFO = dict(classes=TOYSEG_CLASSES, palette=TOYSEG_PALETTE)

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)
