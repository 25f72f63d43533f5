"""ToyDet generator: COCO files readable by pycocotools and mmdet, boxes match pixels."""
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mmautoloss.datasets.toy_detection import (
    TOYDET_CLASSES,
    TOYDET_PALETTE,
    generate_toydet,
    toydet_sample,
)
from mmautoloss.testing import REPO

pytestmark = pytest.mark.usefixtures('mmdet_scope')

@pytest.fixture(scope='module')
def toydet_dir(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp('toydet'))
    generate_toydet(out, seed=3, num_train=6, num_val=3)
    return out


def _tight_box_by_loop(mask: np.ndarray):
    """Brute-force tight [x, y, w, h] of a boolean mask, pixel (r, c) = [c, c+1) x [r, r+1)."""
    xs, ys = [], []
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            if mask[r, c]:
                xs.append(c)
                ys.append(r)
    return [min(xs), min(ys), max(xs) + 1 - min(xs), max(ys) + 1 - min(ys)]


def test_pycocotools_loads_and_boxes_match_the_drawn_objects(toydet_dir):
    from PIL import Image
    from pycocotools.coco import COCO

    for split, count in (('train', 6), ('search', 3), ('val', 3)):
        coco = COCO(os.path.join(toydet_dir, 'annotations', f'instances_{split}.json'))
        assert sorted(coco.getImgIds()) == list(range(1, count + 1))
        assert [coco.cats[i]['name'] for i in sorted(coco.cats)] == list(TOYDET_CLASSES)
        for img_id in coco.getImgIds():
            info = coco.imgs[img_id]
            image = np.asarray(Image.open(os.path.join(toydet_dir, split, info['file_name'])))
            assert image.shape == (info['height'], info['width'], 3) == (128, 128, 3)
            _, labels, masks = toydet_sample(3, split, img_id - 1)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id]))
            assert len(anns) == len(labels) >= 1
            for ann, label, mask in zip(anns, labels, masks):
                x, y, w, h = ann['bbox']
                assert ann['category_id'] == label + 1 and ann['iscrowd'] == 0
                assert [x, y, w, h] == _tight_box_by_loop(mask)
                assert 0 <= x and 0 <= y and x + w <= 128 and y + h <= 128
                assert ann['area'] == mask.sum() <= w * h
                # the jpg shows the object in its class colour (jitter 30 < half the gap)
                mean = image[mask].reshape(-1, 3).mean(0)
                dists = [np.linalg.norm(mean - np.asarray(c)) for c in TOYDET_PALETTE]
                assert int(np.argmin(dists)) == label


def test_visible_masks_are_disjoint_and_sizes_and_overlaps_vary():
    areas, all_labels, overlapping_pairs = [], [], 0
    for index in range(40):
        _, labels, masks = toydet_sample(0, 'train', index)
        all_labels += labels.tolist()
        assert masks.sum(0).max() == 1  # every pixel belongs to at most one object
        areas += [int(m.sum()) for m in masks]
        boxes = [_tight_box_by_loop(m) for m in masks]
        for (x1, y1, w1, h1), (x2, y2, w2, h2) in itertools.combinations(boxes, 2):
            if min(x1 + w1, x2 + w2) > max(x1, x2) and min(y1 + h1, y2 + h2) > max(y1, y2):
                overlapping_pairs += 1
    areas = np.asarray(areas)
    assert overlapping_pairs > 0
    assert (areas < 32**2).sum() > 0 and (areas >= 32**2).sum() > 0  # COCO small and medium
    assert sorted(set(all_labels)) == list(range(len(TOYDET_CLASSES)))


def test_generation_is_deterministic_per_seed(tmp_path):
    generate_toydet(str(tmp_path / 'a'), seed=1, num_train=2, num_val=1)
    generate_toydet(str(tmp_path / 'b'), seed=1, num_train=2, num_val=1)
    generate_toydet(str(tmp_path / 'c'), seed=2, num_train=2, num_val=1)

    def anns(name):
        with open(tmp_path / name / 'annotations' / 'instances_train.json') as f:
            return json.load(f)['annotations']

    assert anns('a') == anns('b')
    assert anns('a') != anns('c')
    # a smaller set is a prefix of a larger one
    _, labels, _ = toydet_sample(1, 'train', 1)
    assert [a['category_id'] - 1 for a in anns('a') if a['image_id'] == 2] == labels.tolist()


def test_cli_writes_the_requested_counts(tmp_path):
    out = tmp_path / 'cli'
    subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'generate_toydet.py'),
                    '--out', str(out), '--seed', '0', '--num-train', '2', '--num-val', '1'],
                   check=True, capture_output=True)
    for split, count in (('train', 2), ('search', 1), ('val', 1)):
        with open(out / 'annotations' / f'instances_{split}.json') as f:
            assert len(json.load(f)['images']) == count
        assert sorted(os.listdir(out / split)) == [f'{i:05d}.jpg' for i in range(count)]


def test_mmdet_coco_dataset_reads_the_boxes(toydet_dir):
    from mmdet.datasets import CocoDataset
    from pycocotools.coco import COCO

    dataset = CocoDataset(
        data_root=toydet_dir,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        metainfo=dict(classes=TOYDET_CLASSES),
        pipeline=[],
        test_mode=True)
    coco = COCO(os.path.join(toydet_dir, 'annotations', 'instances_val.json'))
    assert len(dataset) == 3
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[info['img_id']]))
        expected = [[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)]
        assert [inst['bbox'] for inst in info['instances']] == expected
        assert [inst['bbox_label'] for inst in info['instances']] == \
            [a['category_id'] - 1 for a in anns]


@pytest.mark.parametrize('key, kwargs', [('num_train', dict(num_train=0)),
                                          ('seed', dict(seed=-1)),
                                          ('size', dict(size=8))])
def test_bad_arguments_name_the_key(tmp_path, key, kwargs):
    with pytest.raises(ValueError, match=key):
        generate_toydet(str(tmp_path), **kwargs)


def test_bad_split_is_named():
    with pytest.raises(ValueError, match='split'):
        toydet_sample(0, 'test', 0)


def test_annotations_carry_rle_masks_of_the_visible_pixels(tmp_path):
    from pycocotools.coco import COCO

    from mmautoloss.datasets.toy_detection import generate_toydet, toydet_sample
    generate_toydet(str(tmp_path), seed=2, num_train=3, num_val=1)
    coco = COCO(str(tmp_path / 'annotations' / 'instances_train.json'))
    for image_id in coco.getImgIds():
        _, _, masks = toydet_sample(2, 'train', image_id - 1)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        assert len(anns) == len(masks)
        for ann, mask in zip(anns, masks):
            decoded = coco.annToMask(ann).astype(bool)
            assert (decoded == mask).all() and decoded.sum() == ann['area']
