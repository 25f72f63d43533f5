"""ToySeg generator, CLI and ToySegDataset."""
import os
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from mmautoloss.datasets.toy_segmentation import (
    IGNORE_INDEX,
    TOYSEG_CLASSES,
    generate_toyseg,
    render_toyseg_sample,
    toyseg_sample,
)
from mmautoloss.testing import REPO

pytestmark = pytest.mark.usefixtures('mmseg_scope')

def _samples(split='train', count=30, seed=0):
    return [toyseg_sample(seed, split, i) for i in range(count)]


def _erode(mask):
    """3x3 binary erosion, outside the image counts as inside."""
    padded = np.pad(mask, 1, mode='edge')
    height, width = mask.shape
    out = np.ones_like(mask)
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy:dy + height, dx:dx + width]
    return out


def test_samples_are_deterministic_and_depend_on_seed_split_and_index():
    image, label = toyseg_sample(0, 'train', 3)
    again_image, again_label = toyseg_sample(0, 'train', 3)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert label.shape == (64, 64) and label.dtype == np.uint8
    assert np.array_equal(image, again_image) and np.array_equal(label, again_label)
    for other in (toyseg_sample(1, 'train', 3), toyseg_sample(0, 'val', 3),
                  toyseg_sample(0, 'train', 4)):
        assert not np.array_equal(label, other[1])


def test_labels_classes_thin_structures_and_ignored_contours():
    labels = np.stack([label for _, label in _samples()])
    values = set(np.unique(labels).tolist())
    assert values == set(range(len(TOYSEG_CLASSES))) | {IGNORE_INDEX}
    # lines and rings are thin: a 3x3 erosion removes nearly all of their pixels
    for cls in (3, 4):
        kept = sum(_erode(label == cls).sum() for label in labels)
        assert kept < 0.1 * (labels == cls).sum()
    # ignored pixels are a thin contour: a few percent, each touching two real classes
    ignored = labels == IGNORE_INDEX
    assert 0.002 < ignored.mean() < 0.05
    touching = 0
    for label in labels:
        padded = np.pad(label, 1, constant_values=IGNORE_INDEX)
        for y, x in zip(*np.nonzero(label == IGNORE_INDEX)):
            around = set(padded[y:y + 3, x:x + 3].ravel().tolist()) - {IGNORE_INDEX}
            touching += len(around) >= 2
    assert touching > 0.9 * ignored.sum()


def test_colour_tells_the_colour_group_but_not_the_class():
    """Learnable but not trivial: nearest class-mean colour on val pixels (train means)."""
    train, val = _samples('train', 20), _samples('val', 10)
    means = np.stack([np.concatenate([img[lab == c] for img, lab in train]).mean(0)
                      for c in range(len(TOYSEG_CLASSES))])
    images = np.stack([img for img, _ in val]).astype(np.float64)
    labels = np.stack([lab for _, lab in val])
    pred = ((images[..., None, :] - means)**2).sum(-1).argmin(-1)
    valid = labels != IGNORE_INDEX
    group = np.array([0, 1, 2, 2, 1])  # disk/ring and box/line share a colour
    assert (group[pred] == group[np.where(valid, labels, 0)])[valid].mean() > 0.95
    objects = valid & (labels > 0)
    assert (pred == labels)[objects].mean() < 0.75


def test_generate_writes_mmseg_layout_losslessly(tmp_path):
    counts = generate_toyseg(str(tmp_path), seed=2, num_train=3, num_val=2, size=32,
                             num_search=1)
    assert counts == {'train': 3, 'search': 1, 'val': 2}
    for split, count in counts.items():
        names = sorted(os.listdir(tmp_path / 'img_dir' / split))
        assert names == [f'{i:05d}.png' for i in range(count)]
        assert sorted(os.listdir(tmp_path / 'ann_dir' / split)) == names
        for index, name in enumerate(names):
            image, label = toyseg_sample(2, split, index, size=32)
            with Image.open(tmp_path / 'ann_dir' / split / name) as ann:
                assert ann.mode == 'L'
                assert np.array_equal(np.asarray(ann), label)
            with Image.open(tmp_path / 'img_dir' / split / name) as img:
                assert img.mode == 'RGB'
                assert np.array_equal(np.asarray(img), image)


def test_the_search_split_is_drawn_like_train_apart_from_train_and_val():
    """Appending the search split kept every train / val sample (each is drawn from the
    generator seeded by (seed, split's index, index), train 0 and val 1 as before)."""
    for split, key in (('train', 0), ('val', 1), ('search', 2)):
        image, label = render_toyseg_sample(np.random.default_rng((4, key, 3)), 32)
        assert np.array_equal(toyseg_sample(4, split, 3, size=32)[0], image)
        assert np.array_equal(toyseg_sample(4, split, 3, size=32)[1], label)
    search = [toyseg_sample(4, 'search', i, size=32)[0] for i in range(5)]
    others = [toyseg_sample(4, s, i, size=32)[0] for s in ('train', 'val') for i in range(5)]
    assert not any(np.array_equal(a, b) for a in search for b in others)


def test_shape_set_b_draws_other_objects_of_the_same_classes():
    """The transfer set: the same classes, every one present, on other objects (a disk
    of set 'a' fills its bounding circle; an ellipse of set 'b' leaves it partly empty)."""
    pixels = np.zeros(6)
    for index in range(20):
        a_image, _ = toyseg_sample(0, 'train', index, size=64)
        b_image, b_label = toyseg_sample(0, 'train', index, size=64, shapes='b')
        assert not np.array_equal(a_image, b_image)
        values, counts = np.unique(b_label, return_counts=True)
        assert set(values.tolist()) <= {0, 1, 2, 3, 4, IGNORE_INDEX}
        for value, count in zip(values.tolist(), counts.tolist()):
            pixels[min(value, 5)] += count
    assert (pixels[:5] > 0).all(), pixels
    with pytest.raises(ValueError, match="shapes.*'c'"):
        toyseg_sample(0, 'train', 0, shapes='c')


def test_generate_rejects_bad_arguments_and_stale_files(tmp_path):
    for key, value in (('num_train', 0), ('num_val', -1), ('seed', -3), ('size', 8),
                       ('num_search', 0)):
        with pytest.raises(ValueError, match=f'{key}.*{value}'):
            generate_toyseg(str(tmp_path / 'bad'), **{key: value})
    with pytest.raises(ValueError, match="split.*'test'"):
        toyseg_sample(0, 'test', 0)
    generate_toyseg(str(tmp_path / 'set'), num_train=3, num_val=1, size=16)
    with pytest.raises(ValueError, match='out_dir.*00002.png'):
        generate_toyseg(str(tmp_path / 'set'), num_train=2, num_val=1, size=16)


def test_cli_writes_the_requested_set(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'toyseg'
    monkeypatch.setattr(sys, 'argv', [
        'generate_toyseg.py', '--out', str(out), '--seed', '1', '--num-train', '2',
        '--num-val', '1', '--size', '24'
    ])
    runpy.run_path(os.path.join(REPO, 'tools', 'generate_toyseg.py'), run_name='__main__')
    assert 'train 2, search 1, val 1' in capsys.readouterr().out
    with Image.open(out / 'ann_dir' / 'train' / '00001.png') as ann:
        assert np.array_equal(np.asarray(ann), toyseg_sample(1, 'train', 1, size=24)[1])
    assert sorted(os.listdir(out / 'img_dir' / 'val')) == ['00000.png']


def test_toyseg_dataset_loads_through_the_config_pipeline(tmp_path):
    from mmengine.config import Config
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules

    import mmautoloss  # noqa: F401  (registers ToySegDataset)

    register_all_modules()
    generate_toyseg(str(tmp_path), seed=0, num_train=2, num_val=2)
    cfg = Config.fromfile(os.path.join(REPO, 'configs', '_base_', 'datasets', 'toyseg.py'))
    # training validates on the search split; the test split is val (the report's)
    for loader, split in ((cfg.val_dataloader, 'search'), (cfg.test_dataloader, 'val')):
        dataset_cfg = loader.dataset
        dataset_cfg.data_root = str(tmp_path)
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) == 2
        assert dataset.metainfo['classes'] == TOYSEG_CLASSES
        sample = dataset[1]
        label = toyseg_sample(0, split, 1)[1]
        assert np.array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), label)
        assert tuple(sample['inputs'].shape) == (3, 64, 64)
