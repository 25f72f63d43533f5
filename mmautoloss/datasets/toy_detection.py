"""ToyDet: a small synthetic COCO-format detection set generated from a seed.

It stands in for COCO 2017 in the Parameterized AP Loss proxy task (PAP section 3.3 /
4.1: detectors trained briefly on a training split, AP measured on a held-out split) on
machines that cannot download data. Each 128x128 image shows 1-6 filled shapes of three
categories (box, disk, triangle) on a shaded, noisy background. Every class has its own
colour, jittered per object; sizes span COCO's small and medium ranges (and a few large
ones); objects may overlap, the later one occluding the earlier one, but never so much
that less than ``MIN_VISIBLE`` of an object stays visible.

Annotations follow COCO: ``bbox`` is the tight ``[x, y, w, h]`` box of the object's
visible pixels (pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``), ``area`` is the
number of visible pixels, ``segmentation`` is the visible mask as COCO RLE (for Mask R-CNN
and ``CocoMetric(metric='segm')``), ``iscrowd`` is 0. Every sample is drawn from its own generator
seeded by ``(seed, split, index)``, so a set is reproducible and a smaller set is a prefix
of a larger one. Layout written by :func:`generate_toydet` (mmdet's ``CocoDataset``
reads it with ``metainfo=dict(classes=TOYDET_CLASSES)``)::

    out_dir/annotations/instances_{train,search,val}.json
    out_dir/{train,search,val}/00000.jpg
"""
import json
import os

import numpy as np

from .generator_args import check_int

TOYDET_CLASSES: tuple[str, ...] = ('box', 'disk', 'triangle')
TOYDET_PALETTE: list[tuple[int, int, int]] = [(220, 60, 50), (60, 190, 70), (50, 90, 220)]
#: ``search`` is drawn like ``train`` and held out from it: a proxy rewards candidate losses
#: on it, and re-training reports on the untouched ``val`` (the rng seed holds the split's
#: index, so appending a split keeps the others' samples)
SPLITS: tuple[str, ...] = ('train', 'val', 'search')
MIN_VISIBLE = 0.6  # an object keeps at least this fraction of its pixels visible

_MIN_SIDE, _MAX_SIDE = 8.0, 100.0  # object extent in pixels, drawn log-uniformly
_NOISE_STD = 10.0
_COLOUR_JITTER = 30
_PLACEMENT_TRIES = 20


def _shape_mask(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """Boolean (size, size) mask of one object of class ``label`` at a random place."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5  # pixel centres
    extent = float(np.exp(rng.uniform(np.log(_MIN_SIDE), np.log(_MAX_SIDE))))
    aspect = float(np.exp(rng.uniform(-0.5, 0.5)))
    h = min(extent * np.sqrt(aspect), size - 2.0)
    w = min(extent / np.sqrt(aspect), size - 2.0)
    top = rng.uniform(1.0, size - 1.0 - h)
    left = rng.uniform(1.0, size - 1.0 - w)
    if label == 0:  # axis-aligned box
        return (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w)
    if label == 1:  # ellipse inscribed in the box
        cy, cx = top + h / 2, left + w / 2
        return ((yy - cy) / (h / 2))**2 + ((xx - cx) / (w / 2))**2 <= 1.0
    # triangle: apex on the top edge, base on the bottom edge
    apex = left + rng.uniform(0.2, 0.8) * w
    t = (yy - top) / h
    inside_rows = (t >= 0) & (t <= 1)
    return inside_rows & (xx >= apex - t * (apex - left)) & (xx <= apex + t * (left + w - apex))


def _place_objects(rng: np.random.Generator, size: int) -> list[tuple[int, np.ndarray]]:
    """Choose the objects of one image as (class, full mask), in painting order.

    A candidate is rejected when it would leave less than ``MIN_VISIBLE`` of itself or of
    an earlier object visible, or when it has fewer than 16 pixels.
    """
    objects: list[tuple[int, np.ndarray]] = []
    for _ in range(int(rng.integers(1, 7))):
        for _ in range(_PLACEMENT_TRIES):
            label = int(rng.integers(0, len(TOYDET_CLASSES)))
            mask = _shape_mask(rng, label, size)
            if mask.sum() < 16:
                continue
            candidate = objects + [(label, mask)]
            visible = _visible_masks([m for _, m in candidate])
            if all(v.sum() >= MIN_VISIBLE * m.sum() for v, (_, m) in zip(visible, candidate)):
                objects = candidate
                break
    return objects


def _visible_masks(masks: list[np.ndarray]) -> list[np.ndarray]:
    """Visible part of each mask when they are painted in order (later ones on top)."""
    covered = np.zeros_like(masks[0])
    visible = []
    for mask in reversed(masks):
        visible.append(mask & ~covered)
        covered = covered | mask
    return visible[::-1]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Grey background with a linear shading in a random direction, float (H, W, 3)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, 2 * np.pi)
    shade = rng.uniform(60, 140) + 40 * (np.cos(angle) * xx + np.sin(angle) * yy)
    return np.repeat(shade[..., None], 3, axis=2)


def render_toydet_sample(
        rng: np.random.Generator,
        size: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one sample.

    Returns:
        image: RGB uint8 (size, size, 3).
        labels: int64 (K,) class indices into ``TOYDET_CLASSES``.
        masks: bool (K, size, size) visible pixels of each object (non-empty).
    """
    check_int('size', size, 32)
    objects = _place_objects(rng, size)
    image = _background(rng, size)
    for label, mask in objects:
        colour = np.asarray(TOYDET_PALETTE[label], np.float64)
        colour = colour + rng.integers(-_COLOUR_JITTER, _COLOUR_JITTER + 1, 3)
        image[mask] = colour
    image = image + rng.normal(0, _NOISE_STD, image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    labels = np.asarray([label for label, _ in objects], dtype=np.int64)
    masks = np.stack(_visible_masks([mask for _, mask in objects]))
    return image, labels, masks


def toydet_sample(seed: int, split: str, index: int,
                  size: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return sample ``index`` of ``split`` for ``seed``; independent of the set's length."""
    check_int('seed', seed, 0)
    check_int('index', index, 0)
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    rng = np.random.default_rng((seed, 1 + SPLITS.index(split), index))
    return render_toydet_sample(rng, size)


def mask_to_coco_box(mask: np.ndarray) -> list[float]:
    """Tight COCO ``[x, y, w, h]`` box of a non-empty boolean mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError('mask must have at least one True pixel, got an empty mask')
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1 - cols[0]),
            float(rows[-1] + 1 - rows[0])]


def generate_toydet(out_dir: str,
                    seed: int = 0,
                    num_train: int = 100,
                    num_val: int = 30,
                    size: int = 128,
                    num_search: int | None = None) -> dict[str, int]:
    """Write the ToyDet set under ``out_dir`` (layout in the module docstring); the search
    split has ``num_search`` images (default: as many as val).

    Returns the number of images written per split.
    """
    from PIL import Image  # imported here: only writing needs Pillow
    from pycocotools import mask as mask_utils

    check_int('seed', seed, 0)
    check_int('num_train', num_train, 1)
    check_int('num_val', num_val, 1)
    check_int('size', size, 32)
    num_search = num_val if num_search is None else num_search
    check_int('num_search', num_search, 1)
    counts = {'train': num_train, 'search': num_search, 'val': num_val}
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(TOYDET_CLASSES)]
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    for split, count in counts.items():
        img_dir = os.path.join(out_dir, split)
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            image, labels, masks = toydet_sample(seed, split, index, size)
            file_name = f'{index:05d}.jpg'
            Image.fromarray(image, mode='RGB').save(
                os.path.join(img_dir, file_name), quality=95)
            images.append(dict(id=index + 1, file_name=file_name, height=size, width=size))
            for label, mask in zip(labels, masks):
                rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=index + 1,
                         category_id=int(label) + 1, bbox=mask_to_coco_box(mask),
                         area=float(mask.sum()), iscrowd=0,
                         segmentation=dict(size=[int(v) for v in rle['size']],
                                           counts=rle['counts'].decode('ascii'))))
        coco = dict(images=images, annotations=annotations, categories=categories)
        with open(os.path.join(out_dir, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)
    return counts
