"""HeldOutSplit: every 5th image held out, the proxy trains on (a share of) the rest."""
import pytest
from mmengine.registry import DATASETS

from mmautoloss.datasets.held_out_split import split_indices
from mmautoloss.datasets.toy_segmentation import generate_toyseg


def test_split_indices_by_hand():
    assert split_indices(10, 5, 'held_out') == [4, 9]
    assert split_indices(10, 5, 'train') == [0, 1, 2, 3, 5, 6, 7, 8]
    assert split_indices(10, 5, 'train', 0.5) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match='3 samples'):
        split_indices(3, 5, 'train')
    with pytest.raises(ValueError, match="part must be one of"):
        split_indices(10, 5, 'val')


def test_a_split_of_a_real_dataset_holds_the_chosen_images(tmp_path, mmseg_scope):
    generate_toyseg(str(tmp_path), seed=0, num_train=10, num_val=2, size=32)
    dataset = dict(type='ToySegDataset', data_root=str(tmp_path), pipeline=[],
                   data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
    full = DATASETS.build(dataset)
    held = DATASETS.build(dict(type='HeldOutSplit', dataset=dataset, part='held_out'))
    train = DATASETS.build(dict(type='HeldOutSplit', dataset=dataset, part='train'))
    paths = [full.get_data_info(i)['img_path'] for i in range(len(full))]
    assert [held.get_data_info(i)['img_path'] for i in range(len(held))] == \
        [paths[4], paths[9]]
    assert len(train) == 8 and not {train.get_data_info(i)['img_path']
                                    for i in range(8)} & {paths[4], paths[9]}
