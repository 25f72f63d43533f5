"""ToySeg: a small synthetic semantic-segmentation set generated from a seed.

It stands in for PASCAL VOC in the Auto Seg-Loss proxy task (ASL section 4.3: a light
proxy with small images and a short schedule) on machines that cannot download data.
Each image shows a shaded grey background with filled disks, striped boxes, thin lines and
rings; disks and rings share a colour, boxes and lines another, so context matters. Lines
and rings are mostly boundary, so the region metrics (mIoU, FWIoU, mAcc, gAcc; ASL Table 1
eq. 1-4) and the boundary metrics (BIoU, BF1; eq. 5-6) disagree.
As in VOC, the outermost one-pixel ring of some objects is labelled ``255`` (ignored).

Three splits: ``train``; ``search``, drawn like ``train`` and held out from it, on which a
proxy rewards candidate losses; ``val``, the untouched split a re-training reports on.
``shapes='b'`` draws a second set for transfer (the same five classes, colours and
noise, other objects: rotated ellipses for disks, triangles for boxes, arcs for lines,
square outlines for rings), so a search on the standard set can be re-trained on data
whose objects it never saw.

Every sample is drawn from its own generator seeded by ``(seed, split, index)``, so a
set is reproducible and a smaller set is a prefix of a larger one. Layout written by
:func:`generate_toyseg` (mmseg's ``img_dir`` / ``ann_dir`` convention)::

    out_dir/img_dir/{train,search,val}/00000.png   RGB uint8 images
    out_dir/ann_dir/{train,search,val}/00000.png   single-channel labels, 0..4 and 255
"""
import os

import numpy as np

from .generator_args import check_int

TOYSEG_CLASSES: tuple[str, ...] = ('background', 'disk', 'box', 'line', 'ring')
TOYSEG_PALETTE: list[list[int]] = [[0, 0, 0], [200, 70, 50], [60, 170, 80], [50, 80, 210],
                                   [220, 200, 60]]
# Object colours by class index (the background is grey): disks and rings share one, boxes
# and lines another, so a pixel's colour alone does not give its class.
_CLASS_COLOURS: tuple[tuple[int, int, int], ...] = ((0, 0, 0), (200, 70, 50), (60, 170, 80),
                                                   (60, 170, 80), (200, 70, 50))
IGNORE_INDEX = 255
#: the rng seed holds the split's index here, so appending a split keeps the others' samples
SPLITS: tuple[str, ...] = ('train', 'val', 'search')
#: 'a': disks, boxes, lines, rings; 'b': the transfer set's ellipses, triangles, arcs, outlines
SHAPE_SETS: tuple[str, ...] = ('a', 'b')

_NOISE_STD = 20.0  # per-pixel Gaussian noise on every channel
_COLOUR_JITTER = 25  # per-object uniform offset of the class colour
_IGNORE_CONTOUR_PROB = 0.5  # chance that a disk / box gets a VOC-like ignored contour


def _inner_contour(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image border counts as inside)."""
    padded = np.pad(mask, 1, mode='edge')
    eroded = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return mask & ~eroded


def _shape_masks(rng: np.random.Generator, size: int) -> list[tuple[int, np.ndarray]]:
    """Draw the objects of one image of shape set 'a' as (class index, boolean mask), in
    painting order."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    scale = size / 64.0
    objects: list[tuple[int, np.ndarray]] = []
    for _ in range(rng.integers(1, 3)):  # disks
        cy, cx = rng.uniform(0, size, 2)
        radius = rng.uniform(5, 12) * scale
        objects.append((1, (yy - cy)**2 + (xx - cx)**2 <= radius**2))
    for _ in range(rng.integers(0, 3)):  # boxes
        h, w = rng.uniform(8, 20, 2) * scale
        top, left = rng.uniform(-h / 2, size - h / 2), rng.uniform(-w / 2, size - w / 2)
        objects.append((2, (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w)))
    for _ in range(rng.integers(1, 3)):  # thin lines, 1-2 px thick
        p0, p1 = rng.uniform(0, size, (2, 2))
        direction = p1 - p0
        length_sq = max(float(direction @ direction), 1e-6)
        t = np.clip(((yy - p0[0]) * direction[0] + (xx - p0[1]) * direction[1]) / length_sq,
                    0, 1)
        dist = np.hypot(yy - p0[0] - t * direction[0], xx - p0[1] - t * direction[1])
        objects.append((3, dist <= rng.uniform(0.5, 1.0)))
    for _ in range(rng.integers(0, 2)):  # rings, 2-3 px thick
        cy, cx = rng.uniform(0.2 * size, 0.8 * size, 2)
        radius = rng.uniform(8, 16) * scale
        dist = np.hypot(yy - cy, xx - cx)
        objects.append((4, np.abs(dist - radius) <= rng.uniform(1.0, 1.5)))
    order = rng.permutation(len(objects))
    return [objects[i] for i in order]


def _shape_masks_b(rng: np.random.Generator, size: int) -> list[tuple[int, np.ndarray]]:
    """Shape set 'b' (the transfer set): the classes of set 'a' drawn as other objects,
    rotated ellipses (1), triangles (2), arcs 1-2 px thick (3) and square outlines 2-3 px
    thick (4), as (class index, boolean mask) in painting order."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    scale = size / 64.0
    objects: list[tuple[int, np.ndarray]] = []
    for _ in range(rng.integers(1, 3)):  # ellipses
        cy, cx = rng.uniform(0, size, 2)
        a, b = rng.uniform(6, 14) * scale, rng.uniform(3, 7) * scale
        angle = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
        v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
        objects.append((1, (u / a)**2 + (v / b)**2 <= 1))
    for _ in range(rng.integers(0, 3)):  # triangles
        corners = rng.uniform(0, size, 2) + rng.uniform(-18, 18, (3, 2)) * scale
        signs = []
        for i in range(3):
            (y0, x0), (y1, x1) = corners[i], corners[(i + 1) % 3]
            signs.append((x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0))
        inside = ((signs[0] >= 0) & (signs[1] >= 0) & (signs[2] >= 0)) | \
            ((signs[0] <= 0) & (signs[1] <= 0) & (signs[2] <= 0))
        objects.append((2, inside))
    for _ in range(rng.integers(1, 3)):  # arcs, 1-2 px thick
        cy, cx = rng.uniform(0, size, 2)
        radius = rng.uniform(10, 24) * scale
        start, extent = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 1.5) * np.pi
        phase = np.mod(np.arctan2(yy - cy, xx - cx) - start, 2 * np.pi)
        dist = np.abs(np.hypot(yy - cy, xx - cx) - radius)
        objects.append((3, (dist <= rng.uniform(0.5, 1.0)) & (phase <= extent)))
    for _ in range(rng.integers(0, 2)):  # square outlines, 2-3 px thick
        cy, cx = rng.uniform(0.2 * size, 0.8 * size, 2)
        half = rng.uniform(7, 14) * scale
        dist = np.maximum(np.abs(yy - cy), np.abs(xx - cx))
        objects.append((4, np.abs(dist - half) <= rng.uniform(1.0, 1.5)))
    order = rng.permutation(len(objects))
    return [objects[i] for i in order]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Grey background with a smooth random shading, float (H, W, 3)."""
    level = rng.uniform(70, 130)
    coarse = rng.normal(0, 15, (5, 5))
    ramp = np.linspace(0, 4, size)
    i0 = np.floor(ramp).astype(int).clip(0, 3)
    frac = ramp - i0
    rows = coarse[i0] * (1 - frac)[:, None] + coarse[i0 + 1] * frac[:, None]
    field = rows[:, i0] * (1 - frac)[None] + rows[:, i0 + 1] * frac[None]
    return np.repeat((level + field)[..., None], 3, axis=2)


def render_toyseg_sample(rng: np.random.Generator, size: int = 64,
                         shapes: str = 'a') -> tuple[np.ndarray, np.ndarray]:
    """Render one sample: an RGB uint8 image (H, W, 3) and its uint8 label map (H, W), with
    the objects of shape set ``shapes``.

    Disks and rings share a colour, boxes and lines another, jittered per object; boxes
    carry a stripe texture; Gaussian noise covers the whole image. Disks and boxes get an ignored
    (``IGNORE_INDEX``) one-pixel contour with probability 0.5, like VOC's object outlines.
    """
    check_int('size', size, 16)
    if shapes not in SHAPE_SETS:
        raise ValueError(f'shapes must be one of {SHAPE_SETS}, got {shapes!r}')
    image = _background(rng, size)
    label = np.zeros((size, size), dtype=np.uint8)
    stripes = 20.0 * np.sin(np.arange(size) * np.pi / 2)[:, None, None]
    for cls, mask in (_shape_masks if shapes == 'a' else _shape_masks_b)(rng, size):
        colour = np.asarray(_CLASS_COLOURS[cls], np.float64)
        colour = colour + rng.integers(-_COLOUR_JITTER, _COLOUR_JITTER + 1, 3)
        appearance = np.broadcast_to(colour, image.shape)
        if cls == 2:
            appearance = appearance + stripes
        image[mask] = appearance[mask]
        label[mask] = cls
        if cls in (1, 2) and rng.random() < _IGNORE_CONTOUR_PROB:
            label[_inner_contour(mask)] = IGNORE_INDEX
    image = image + rng.normal(0, _NOISE_STD, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), label


def _is_sample_name(name: str, count: int) -> bool:
    stem, ext = os.path.splitext(name)
    return ext == '.png' and len(stem) == 5 and stem.isdigit() and int(stem) < count


def toyseg_sample(seed: int, split: str, index: int, size: int = 64,
                  shapes: str = 'a') -> tuple[np.ndarray, np.ndarray]:
    """Return sample ``index`` of ``split`` for ``seed`` (and shape set ``shapes``);
    independent of the set's length."""
    check_int('seed', seed, 0)
    check_int('index', index, 0)
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    if shapes not in SHAPE_SETS:
        raise ValueError(f'shapes must be one of {SHAPE_SETS}, got {shapes!r}')
    key = (seed, SPLITS.index(split), index) + ((SHAPE_SETS.index(shapes), )
                                                if shapes != 'a' else ())
    return render_toyseg_sample(np.random.default_rng(key), size, shapes)


def generate_toyseg(out_dir: str,
                    seed: int = 0,
                    num_train: int = 100,
                    num_val: int = 30,
                    size: int = 64,
                    num_search: int | None = None,
                    shapes: str = 'a') -> dict[str, int]:
    """Write the ToySeg set under ``out_dir`` (layout in the module docstring); the search
    split has ``num_search`` images (default: as many as val).

    Returns the number of images written per split.
    """
    from PIL import Image  # imported here: only writing needs Pillow

    check_int('seed', seed, 0)
    check_int('num_train', num_train, 1)
    check_int('num_val', num_val, 1)
    check_int('size', size, 16)
    num_search = num_val if num_search is None else num_search
    check_int('num_search', num_search, 1)
    if shapes not in SHAPE_SETS:
        raise ValueError(f'shapes must be one of {SHAPE_SETS}, got {shapes!r}')
    counts = {'train': num_train, 'search': num_search, 'val': num_val}
    for split, count in counts.items():
        img_dir = os.path.join(out_dir, 'img_dir', split)
        ann_dir = os.path.join(out_dir, 'ann_dir', split)
        for folder in (img_dir, ann_dir):
            os.makedirs(folder, exist_ok=True)
            stale = [name for name in os.listdir(folder) if not _is_sample_name(name, count)]
            if stale:
                raise ValueError(f'out_dir={out_dir!r} already holds {len(stale)} files in '
                                 f'{folder} that are not part of a {count}-image split, '
                                 f'e.g. {sorted(stale)[0]!r}; use an empty out_dir')
        for index in range(count):
            image, label = toyseg_sample(seed, split, index, size, shapes)
            name = f'{index:05d}.png'
            Image.fromarray(image, mode='RGB').save(os.path.join(img_dir, name))
            Image.fromarray(label, mode='L').save(os.path.join(ann_dir, name))
    return counts
