"""ToyPose: COCO keypoint annotations that mmpose's CocoDataset and xtcocotools read."""
import json

import numpy as np

from mmautoloss.datasets.toy_pose import KEYPOINT_NAMES, generate_toypose


def test_generated_set_is_coco_keypoints_and_reproducible(tmp_path):
    generate_toypose(str(tmp_path / 'a'), seed=1, num_train=4, num_val=2, size=96)
    generate_toypose(str(tmp_path / 'b'), seed=1, num_train=2, num_val=1, size=96)
    with open(tmp_path / 'a' / 'annotations' / 'person_keypoints_train.json') as f:
        coco = json.load(f)
    assert coco['categories'][0]['keypoints'] == list(KEYPOINT_NAMES)
    for ann in coco['annotations']:
        points = np.asarray(ann['keypoints']).reshape(-1, 3)
        assert points.shape == (17, 3) and (points[:, 2] == 2).all()
        x, y, w, h = ann['bbox']
        assert (points[:, 0] >= x).all() and (points[:, 0] <= x + w).all()
        assert (points[:, 1] >= y).all() and (points[:, 1] <= y + h).all()
        assert 0 <= x and x + w <= 96 and 0 <= y and y + h <= 96
    with open(tmp_path / 'b' / 'annotations' / 'person_keypoints_train.json') as f:
        prefix = json.load(f)
    first = [a for a in coco['annotations'] if a['image_id'] <= 2]
    assert [a['keypoints'] for a in first] == [a['keypoints'] for a in prefix['annotations']]


def test_mmpose_coco_dataset_reads_it(tmp_path):
    from mmpose.datasets import CocoDataset
    generate_toypose(str(tmp_path), seed=0, num_train=3, num_val=1)
    dataset = CocoDataset(data_root=str(tmp_path), data_mode='topdown',
                          ann_file='annotations/person_keypoints_train.json',
                          data_prefix=dict(img='train/'), pipeline=[])
    sample = dataset[0]
    assert sample['keypoints'].shape == (1, 17, 2)
    assert len(dataset) >= 3
