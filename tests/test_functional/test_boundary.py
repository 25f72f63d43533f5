"""Boundary maps of ASL eq. (5-6) against brute-force pixel loops and max-pooling."""
import itertools

import pytest
import torch

from mmautoloss.functional.boundary import (
    binary_boundary,
    biou_band,
    biou_band_of_labels,
    dilate,
    dilate_mask,
    dilation_argmax,
    erode,
    label_edges,
    soft_boundary,
)
from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.soft_logic import soft_xor


def _neighbours(h, w, height, width, radius):
    for dh, dw in itertools.product(range(-radius, radius + 1), repeat=2):
        if 0 <= h + dh < height and 0 <= w + dw < width:
            yield h + dh, w + dw


def _blocky_labels(num, num_classes, height, width, seed):
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, num_classes, (num, 1, 3, 3), generator=generator).float()
    labels = torch.nn.functional.interpolate(coarse, size=(height, width), mode='nearest')
    return labels[:, 0].long()


def _one_hot(labels, num_classes, ignore_index=255):
    out = torch.zeros(labels.shape[0], num_classes, *labels.shape[1:])
    for n, h, w in itertools.product(*map(range, labels.shape)):
        if labels[n, h, w] != ignore_index:
            out[n, labels[n, h, w], h, w] = 1
    return out


def test_erode_dilate_match_in_image_loops():
    maps = torch.rand(2, 2, 6, 7)
    eroded, dilated = erode(maps), dilate(maps, 2)
    for n, c, h, w in itertools.product(range(2), range(2), range(6), range(7)):
        window3 = [maps[n, c, i, j] for i, j in _neighbours(h, w, 6, 7, 1)]
        window5 = [maps[n, c, i, j] for i, j in _neighbours(h, w, 6, 7, 2)]
        assert eroded[n, c, h, w] == min(window3)
        assert dilated[n, c, h, w] == max(window5)
    assert torch.equal(dilate(maps, 0), maps)


def test_binary_boundary_of_a_square():
    maps = torch.zeros(1, 1, 7, 7)
    maps[0, 0, 2:5, 2:5] = 1
    expected = maps.clone()
    expected[0, 0, 3, 3] = 0  # the only interior pixel of the 3x3 square
    assert torch.equal(binary_boundary(maps), expected)
    full = torch.ones(1, 1, 4, 4)  # the image border is not a boundary
    assert binary_boundary(full).sum() == 0


@pytest.mark.parametrize('ignore_background', [True, False])
def test_biou_band_matches_loops(ignore_background):
    labels = _blocky_labels(2, 3, 10, 11, seed=1)
    labels[0, 0:2, 0:4] = 255
    one_hot = _one_hot(labels, 3)
    tolerance = 1
    band = biou_band(one_hot, tolerance, ignore_background)
    assert band.shape == (2, 1, 10, 11)
    first = 1 if ignore_background else 0
    edge = torch.zeros(2, 10, 11, dtype=torch.bool)
    for n, h, w in itertools.product(range(2), range(10), range(11)):
        for c in range(first, 3):
            # a pixel of class c with a 3x3 in-image neighbour of another class (or ignored):
            # eq. (5)'s y XOR erode(y), the authors' compute_edge(seg) * seg
            window = [one_hot[n, c, i, j].item() for i, j in _neighbours(h, w, 10, 11, 1)]
            if one_hot[n, c, h, w].item() == 1 and min(window) == 0:
                edge[n, h, w] = True
    for n, h, w in itertools.product(range(2), range(10), range(11)):
        expected = any(edge[n, i, j] for i, j in _neighbours(h, w, 10, 11, tolerance))
        assert band[n, 0, h, w].item() == float(expected)
    assert 0 < band.sum() < band.numel()


def test_biou_band_ignore_background_drops_background_only_edges():
    one_hot = torch.zeros(1, 2, 5, 5)
    one_hot[0, 0, :, :3] = 1  # background next to ignored pixels (all-zero rows) only
    assert biou_band(one_hot, 0, ignore_background=True).sum() == 0
    assert biou_band(one_hot, 0, ignore_background=False)[0, 0, :, 2].sum() == 5


def test_biou_band_keeps_each_class_own_side():
    one_hot = torch.zeros(1, 2, 4, 6)
    one_hot[0, 0, :, :3] = 1  # background on the left, class 1 on the right
    one_hot[0, 1, :, 3:] = 1
    band = biou_band(one_hot, 0, ignore_background=True)[0, 0]
    assert band[:, 3].sum() == 4 and band.sum() == 4  # class 1's side only
    both = biou_band(one_hot, 0, ignore_background=False)[0, 0]
    assert both[:, 2].sum() == 4 and both[:, 3].sum() == 4 and both.sum() == 8


def test_soft_boundary_equals_direct_xor_and_binary_boundary():
    generator = torch.Generator().manual_seed(0)
    g_or = MonotoneFunction.from_params('bezier', torch.rand(3, 2, generator=generator))
    g_and = MonotoneFunction.from_params('linear', torch.rand(4, 2, generator=generator))
    probs = torch.rand(2, 3, 8, 8, generator=generator)
    direct = soft_xor(probs, erode(probs), g_or, g_and).clamp(0, 1)
    torch.testing.assert_close(soft_boundary(probs, g_or, g_and), direct)
    binary = (torch.rand(2, 3, 8, 8, generator=generator) > 0.5).float()
    assert torch.equal(soft_boundary(binary, g_or, g_and), binary_boundary(binary))


def test_bad_inputs_raise_naming_the_value():
    with pytest.raises(ValueError, match='tolerance.*-1'):
        dilate(torch.zeros(1, 1, 3, 3), -1)
    with pytest.raises(ValueError, match=r'maps.*\(3, 3\)'):
        erode(torch.zeros(3, 3))
    with pytest.raises(ValueError, match='one_hot must hold only 0 and 1'):
        biou_band(torch.full((1, 2, 3, 3), 0.5))


@pytest.mark.parametrize('ignore_background', [True, False])
@pytest.mark.parametrize('tolerance', [0, 1, 3])
def test_band_of_labels_is_the_band_of_their_one_hot_map(tolerance, ignore_background):
    generator = torch.Generator().manual_seed(tolerance)
    for _ in range(20):
        classes = int(torch.randint(2, 6, (1, ), generator=generator))
        height, width = (int(v) for v in torch.randint(1, 20, (2, ), generator=generator))
        labels = torch.randint(0, classes, (2, height, width), generator=generator)
        labels[torch.rand(labels.shape, generator=generator) < 0.15] = 255
        valid = labels != 255
        one_hot = torch.zeros(2, classes, height, width).scatter_(
            1, torch.where(valid, labels, 0).unsqueeze(1), valid.unsqueeze(1).float())
        assert torch.equal(biou_band_of_labels(labels, 255, tolerance, ignore_background),
                           biou_band(one_hot, tolerance, ignore_background))


def _random_masks(generator, count=20):
    """Random boolean (N, C, H, W) maps of odd sizes (1-pixel sides included), both layouts."""
    for _ in range(count):
        height, width = (int(v) for v in torch.randint(1, 24, (2, ), generator=generator))
        mask = torch.rand(2, 3, height, width, generator=generator) > 0.9
        yield mask
        yield mask.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('tolerance', [0, 1, 2, 3, 5, 8])
def test_dilate_mask_is_max_pooling_of_the_mask(tolerance):
    generator = torch.Generator().manual_seed(tolerance)
    for mask in _random_masks(generator):
        dilated = dilate_mask(mask, tolerance)
        assert torch.equal(dilated, dilate(mask.float(), tolerance) > 0)
        assert dilated.stride() == mask.stride()  # the layout is kept
    with pytest.raises(ValueError, match='boolean'):
        dilate_mask(torch.zeros(1, 1, 3, 3), 1)


@pytest.mark.parametrize('ties', [False, True])
@pytest.mark.parametrize('tolerance', [0, 1, 2, 5])
def test_dilation_argmax_is_where_max_pooling_takes_its_value(tolerance, ties):
    """The dilated value at each site, and its gradient sent where max-pooling's backward
    sends it (ties: many equal values in a window, the first in row-major order wins)."""
    generator = torch.Generator().manual_seed(10 + tolerance)
    for mask in _random_masks(generator, count=8):
        maps = torch.rand(mask.shape, generator=generator, dtype=torch.float64)
        if ties:
            maps = (maps * 3).floor() / 3
        maps = maps.contiguous(memory_format=torch.channels_last) \
            if not mask.is_contiguous() else maps
        sites = (torch.rand(mask.shape, generator=generator) > 0.5).nonzero(as_tuple=True)
        weights = torch.rand(sites[0].numel(), generator=generator, dtype=torch.float64)
        pooled = maps.clone().requires_grad_(True)
        reference = dilate(pooled, tolerance)[sites]
        (reference * weights).sum().backward()
        rows, cols = dilation_argmax(maps, sites, tolerance)
        taken = maps.clone().requires_grad_(True)
        value = taken[sites[0], sites[1], rows, cols]
        (value * weights).sum().backward()
        assert torch.equal(value, reference)
        # the same pixels; sums of many outputs may differ in the last bit (order)
        torch.testing.assert_close(taken.grad, pooled.grad, rtol=1e-12, atol=1e-12)


def test_label_edges_are_the_binary_boundary_of_the_one_hot_map():
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        classes = int(torch.randint(1, 5, (1, ), generator=generator))
        height, width = (int(v) for v in torch.randint(1, 16, (2, ), generator=generator))
        labels = torch.randint(0, classes, (2, height, width), generator=generator)
        labels[torch.rand(labels.shape, generator=generator) < 0.15] = 255
        boundary = binary_boundary(_one_hot(labels, classes))
        edges = label_edges(labels, 255)
        assert torch.equal(edges, boundary.sum(dim=1) > 0)
        # and each edge pixel is on its own label's channel
        assert torch.equal(boundary.sum(dim=1), edges.float())
