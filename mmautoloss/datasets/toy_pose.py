"""ToyPose: a small synthetic COCO-keypoint set generated from a seed.

It stands in for COCO person keypoints in the AutoLoss-Zero pose proxy (ALZ section 4.4)
on machines that cannot download data. Each 96x96 image shows 1-2 stick figures with the
17 COCO keypoints (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles): a
jittered human template at a random scale, position and lean, limbs drawn as lines in the
COCO skeleton and every keypoint as a small disk of its own colour, on a shaded, noisy
background. All keypoints are visible (v = 2). Annotations follow COCO:
``keypoints`` = [x, y, v] * 17 (pixel coordinates), ``num_keypoints``, ``bbox`` = the
keypoints' box with a margin, ``area`` = its area, category 1 ``person`` with COCO's
keypoint names and skeleton, so mmpose's ``CocoDataset`` (its default COCO metainfo) and
``CocoMetric`` read it as COCO. Layout written by :func:`generate_toypose`::

    out_dir/annotations/person_keypoints_{train,search,val}.json
    out_dir/{train,search,val}/00000.jpg
"""
import json
import os

import numpy as np

from .generator_args import check_int

#: ``search`` is drawn like ``train`` and held out from it: a proxy rewards candidate losses
#: on it, and re-training reports on the untouched ``val`` (the rng seed holds the split's
#: index, so appending a split keeps the others' samples)
SPLITS: tuple[str, ...] = ('train', 'val', 'search')
KEYPOINT_NAMES: tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
#: COCO's skeleton, 1-based keypoint indices
SKELETON: tuple[tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
    (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
#: a standing person facing the camera, (x, y) in units of its height, feet at y = 1
_TEMPLATE = np.array([
    (0.00, 0.06), (-0.03, 0.04), (0.03, 0.04), (-0.06, 0.06), (0.06, 0.06),
    (-0.12, 0.20), (0.12, 0.20), (-0.17, 0.36), (0.17, 0.36), (-0.19, 0.50), (0.19, 0.50),
    (-0.08, 0.52), (0.08, 0.52), (-0.09, 0.76), (0.09, 0.76), (-0.10, 0.98), (0.10, 0.98)])
_NOISE_STD = 8.0


def _keypoint_colours() -> np.ndarray:
    hues = np.linspace(0, 1, len(KEYPOINT_NAMES), endpoint=False)
    return np.stack([np.clip(np.abs(((hues * 6 + shift) % 6) - 3) - 1, 0, 1)
                     for shift in (0, 4, 2)], axis=1) * 200 + 40


def _figure(rng: np.random.Generator, size: int) -> np.ndarray:
    """Keypoints (17, 2) of one figure inside the image."""
    height = rng.uniform(0.45, 0.85) * size
    points = _TEMPLATE + rng.normal(0, 0.025, _TEMPLATE.shape)
    lean = rng.uniform(-0.25, 0.25)
    rotation = np.array([[np.cos(lean), -np.sin(lean)], [np.sin(lean), np.cos(lean)]])
    points = (points - [0, 0.5]) @ rotation.T * height
    low, high = points.min(0), points.max(0)
    centre = rng.uniform(-low + 3, size - high - 3)
    return points + centre


def render_toypose_sample(rng: np.random.Generator,
                          size: int = 96) -> tuple[np.ndarray, list[np.ndarray]]:
    """One image (size, size, 3) uint8 and the keypoints (17, 2) of each figure."""
    from PIL import Image, ImageDraw

    check_int('size', size, 48)
    yy, xx = np.mgrid[0:size, 0:size] / size
    shade = rng.uniform(60, 140) + 40 * (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))
    image = Image.fromarray(np.repeat(shade[..., None], 3, 2).clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    colours = _keypoint_colours()
    figures = [_figure(rng, size) for _ in range(int(rng.integers(1, 3)))]
    radius = max(1.5, size / 48)
    for points in figures:
        for a, b in SKELETON:
            draw.line([tuple(points[a - 1]), tuple(points[b - 1])], fill=(230, 230, 230),
                      width=max(1, size // 64))
        for point, colour in zip(points, colours):
            x, y = point
            draw.ellipse([x - radius, y - radius, x + radius, y + radius],
                         fill=tuple(int(c) for c in colour))
    pixels = np.asarray(image, np.float64) + rng.normal(0, _NOISE_STD, (size, size, 3))
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8), figures


def generate_toypose(out_dir: str, seed: int = 0, num_train: int = 200, num_val: int = 30,
                     size: int = 96, num_search: int | None = None) -> dict[str, int]:
    """Write the ToyPose set under ``out_dir`` (layout in the module docstring; the search
    split has ``num_search`` images, default as many as val); returns the number of images
    per split. Sample i of a split depends on (seed, split, i) only."""
    from PIL import Image

    check_int('seed', seed, 0)
    check_int('num_train', num_train, 1)
    check_int('num_val', num_val, 1)
    check_int('size', size, 48)
    num_search = num_val if num_search is None else num_search
    check_int('num_search', num_search, 1)
    counts = {'train': num_train, 'search': num_search, 'val': num_val}
    categories = [dict(id=1, name='person', supercategory='person',
                       keypoints=list(KEYPOINT_NAMES), skeleton=[list(s) for s in SKELETON])]
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    for split, count in counts.items():
        os.makedirs(os.path.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            rng = np.random.default_rng((seed, 1 + SPLITS.index(split), index))
            image, figures = render_toypose_sample(rng, size)
            file_name = f'{index:05d}.jpg'
            Image.fromarray(image).save(os.path.join(out_dir, split, file_name), quality=95)
            images.append(dict(id=index + 1, file_name=file_name, height=size, width=size))
            for points in figures:
                low = np.clip(points.min(0) - 2, 0, size)
                high = np.clip(points.max(0) + 2, 0, size)
                w, h = (high - low).tolist()
                keypoints = [v for x, y in points.tolist() for v in (x, y, 2)]
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=index + 1, category_id=1,
                    bbox=[float(low[0]), float(low[1]), w, h], area=float(w * h),
                    iscrowd=0, keypoints=keypoints, num_keypoints=len(KEYPOINT_NAMES)))
        coco = dict(images=images, annotations=annotations, categories=categories)
        path = os.path.join(out_dir, 'annotations', f'person_keypoints_{split}.json')
        with open(path, 'w') as f:
            json.dump(coco, f)
    return counts
