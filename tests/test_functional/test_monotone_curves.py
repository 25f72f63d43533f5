"""Curves of ASL eq. (12-13) / PAP eq. (6) against independent references.

References: bisection on the Bezier polynomial in float64, ``numpy.interp`` for linear
interpolation, and central finite differences for slopes.
"""
import numpy as np
import pytest
import torch

from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.monotone_params import (
    identity_params,
    params_to_points,
    points_to_params,
)
from mmautoloss.functional.piecewise_bezier import piecewise_bezier
from mmautoloss.functional.piecewise_linear import piecewise_linear

# The ASL release: the released mIoU AND curve (interior control points, 2 segments).
RELEASED_MIOU_AND = [5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01,
                     6.25281252e-01, 7.79551927e-01]


def bezier_by_bisection(y: float, control: np.ndarray) -> float:
    """g(y) for control points (2n+1, 2): find the segment, bisect u(s) = y, return v(s)."""
    for k in range(0, len(control) - 1, 2):
        p0, p1, p2 = control[k], control[k + 1], control[k + 2]
        if y <= p2[0] or k == len(control) - 3:
            lo, hi = 0.0, 1.0
            for _ in range(200):
                mid = (lo + hi) / 2
                u = (1 - mid)**2 * p0[0] + 2 * mid * (1 - mid) * p1[0] + mid**2 * p2[0]
                lo, hi = (mid, hi) if u < y else (lo, mid)
            s = (lo + hi) / 2
            return (1 - s)**2 * p0[1] + 2 * s * (1 - s) * p1[1] + s**2 * p2[1]
    raise AssertionError('unreachable')


def random_params(generator: torch.Generator, num_points: int) -> torch.Tensor:
    return torch.rand(num_points, 2, generator=generator, dtype=torch.float64) * 0.9 + 0.05


@pytest.mark.parametrize('num_segments', [1, 2, 4])
def test_bezier_matches_bisection(num_segments):
    generator = torch.Generator().manual_seed(num_segments)
    for _ in range(5):
        curve = MonotoneFunction.from_params(
            'bezier', random_params(generator, 2 * num_segments - 1))
        control = np.concatenate([[[0, 0]], curve.points.numpy(), [[1, 1]]])
        y = torch.rand(200, generator=generator, dtype=torch.float64)
        expected = [bezier_by_bisection(v, control) for v in y.tolist()]
        np.testing.assert_allclose(curve(y).numpy(), expected, atol=1e-10)


def test_bezier_degenerate_midpoint_segment_is_exact():
    # the middle control point at the segment midpoint makes u(s) linear (a = 0)
    points = torch.tensor([[0.25, 0.1], [0.5, 0.6], [0.75, 0.9]], dtype=torch.float64)
    y = torch.linspace(0, 1, 1001, dtype=torch.float64)
    control = np.concatenate([[[0, 0]], points.numpy(), [[1, 1]]])
    expected = [bezier_by_bisection(v, control) for v in y.tolist()]
    np.testing.assert_allclose(piecewise_bezier(y, points).numpy(), expected, atol=1e-12)
    # nearly degenerate in float32: still matches the float64 reference
    nearly = points.clone()
    nearly[0, 0] = 0.25 + 1e-7
    got32 = piecewise_bezier(y.float(), nearly.float()).double().numpy()
    control = np.concatenate([[[0, 0]], nearly.numpy(), [[1, 1]]])
    expected = [bezier_by_bisection(v, control) for v in y.tolist()]
    np.testing.assert_allclose(got32, expected, atol=2e-6)


def test_bezier_slope_matches_finite_difference():
    curve = MonotoneFunction.from_points('bezier', RELEASED_MIOU_AND)
    y = torch.linspace(0.01, 0.99, 97, dtype=torch.float64).requires_grad_()
    curve(y).sum().backward()
    h = 1e-6
    numeric = (curve(y.detach() + h) - curve(y.detach() - h)) / (2 * h)
    np.testing.assert_allclose(y.grad.numpy(), numeric.numpy(), rtol=1e-5, atol=1e-6)


def test_linear_matches_numpy_interp_and_gradcheck():
    generator = torch.Generator().manual_seed(0)
    curve = MonotoneFunction.from_params('linear', random_params(generator, 4))
    knot_x, knot_y = curve.knots()
    x = torch.rand(500, generator=generator, dtype=torch.float64)
    np.testing.assert_allclose(curve(x).numpy(), np.interp(x.numpy(), knot_x, knot_y),
                               atol=1e-12)
    x = x.requires_grad_()
    assert torch.autograd.gradcheck(lambda t: piecewise_linear(t, knot_x, knot_y), (x[:50],))


def test_linear_step_function_is_left_continuous():
    # a Heaviside step at 0.5 as knots (0,0), (0.5,0), (0.5,1), (1,1)
    knot_x = torch.tensor([0, 0.5, 0.5, 1.0], dtype=torch.float64)
    knot_y = torch.tensor([0, 0.0, 1.0, 1.0], dtype=torch.float64)
    x = torch.tensor([0.0, 0.3, 0.5, 0.5000001, 0.9, 1.0], dtype=torch.float64)
    assert piecewise_linear(x, knot_x, knot_y).tolist() == [0, 0, 0, 1, 1, 1]
    # a step at 0 keeps the truth table: f(0) = 0, f(x > 0) = 1
    knot_x = torch.tensor([0, 0.0, 1.0], dtype=torch.float64)
    knot_y = torch.tensor([0, 1.0, 1.0], dtype=torch.float64)
    assert piecewise_linear(torch.tensor([0.0, 1e-9, 0.4]).double(), knot_x,
                            knot_y).tolist() == [0, 1, 1]


@pytest.mark.parametrize('kind', ['bezier', 'linear'])
def test_truth_table_and_monotonicity_for_any_params(kind):
    generator = torch.Generator().manual_seed(1)
    grid = torch.linspace(0, 1, 2001, dtype=torch.float64)
    for _ in range(20):
        params = torch.rand(5, 2, generator=generator, dtype=torch.float64)
        params[0] = torch.tensor([0.0, 1.0])  # corner cases of the search box
        values = MonotoneFunction.from_params(kind, params)(grid)
        assert values[0] == 0 and abs(values[-1] - 1) < 1e-12
        assert (values[1:] - values[:-1]).min() >= -1e-12
        assert values.min() >= 0 and values.max() <= 1 + 1e-12


@pytest.mark.parametrize('kind', ['bezier', 'linear'])
def test_extreme_inputs_give_finite_gradients(kind):
    # control points with vertical tangents at both ends (u1 == u0, u1 == u2)
    params = torch.tensor([[0.0, 0.9], [0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    curve = MonotoneFunction.from_params(kind, params)
    y = torch.tensor([0.0, 1e-30, 0.5, 1 - 1e-7, 1.0, -3.0, 7.0]).requires_grad_()
    out = curve(y)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(y.grad).all()
    assert out[5] == 0 and out[6] == 1  # clamped outside [0, 1]


def test_identity_curves_and_params():
    # the PAP release's identity initialisation for 4 interior points
    np.testing.assert_allclose(identity_params(4)[:, 0], [0.2, 0.25, 1 / 3, 0.5])
    y = torch.rand(100, dtype=torch.float64)
    for kind, segments in [('bezier', 1), ('bezier', 2), ('bezier', 3), ('linear', 1),
                           ('linear', 5)]:
        np.testing.assert_allclose(MonotoneFunction.identity(kind, segments)(y), y, atol=1e-12)
        from_params = MonotoneFunction.from_params(
            kind, MonotoneFunction.identity_params(kind, segments))
        np.testing.assert_allclose(from_params(y), y, atol=1e-12)


def test_params_points_roundtrip():
    generator = torch.Generator().manual_seed(2)
    params = torch.rand(3, 7, 2, generator=generator, dtype=torch.float64)
    points = params_to_points(params)
    assert (points[:, 1:] >= points[:, :-1]).all()
    np.testing.assert_allclose(points_to_params(points), params, atol=1e-12)
    # recursion B_i = B_{i-1} + theta_i (1 - B_{i-1}) written out
    manual, previous = [], torch.zeros(2, dtype=torch.float64)
    for theta in params[0]:
        previous = previous + theta * (1 - previous)
        manual.append(previous)
    np.testing.assert_allclose(points[0], torch.stack(manual), atol=1e-15)
    released = MonotoneFunction.from_points('bezier', RELEASED_MIOU_AND)
    again = MonotoneFunction.from_params('bezier', released.params())
    np.testing.assert_allclose(again.points, released.points, atol=1e-12)


def test_pap_format_with_endpoints():
    flat = [0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1]
    curve = MonotoneFunction.from_points('linear', flat, num_segments=5, include_endpoints=True)
    assert curve.num_segments == 5 and curve.to_list(include_endpoints=True) == flat
    with pytest.raises(ValueError, match='functions.0 must start at'):
        MonotoneFunction.from_points('linear', flat[2:] + [1, 1], name='functions.0',
                                     include_endpoints=True)
    with pytest.raises(ValueError, match='must hold 14 numbers'):
        MonotoneFunction.from_points('linear', flat, num_segments=6, include_endpoints=True)


@pytest.mark.parametrize('points, message', [
    ([0.5, 0.5, 0.4, 0.6, 0.7, 0.8], 'non-decreasing'),
    ([0.1, 0.2, 0.3, 1.2, 0.7, 0.8], r'in \[0, 1\]'),
    ([0.1, float('nan'), 0.3, 0.4, 0.7, 0.8], 'finite'),
    ([0.1, 0.2, 0.3, 0.4], '2n - 1 interior control points'),
    ([0.1, 0.2, 0.3], 'pairs'),
])
def test_bad_points_name_key_and_value(points, message):
    with pytest.raises(ValueError, match=message) as info:
        MonotoneFunction.from_points('bezier', points, name='loss.theta')
    assert 'loss.theta' in str(info.value)


def test_bad_kind_and_params():
    with pytest.raises(ValueError, match="'cubic'"):
        MonotoneFunction.identity('cubic', 2)
    with pytest.raises(ValueError, match='params must lie in'):
        MonotoneFunction.from_params('linear', [[0.2, 1.5]])


def test_chunked_evaluation_keeps_values_layout_and_gradients():
    from mmautoloss.functional.curve_gradient import CHUNK_SIZE
    curve = MonotoneFunction.from_points('bezier', RELEASED_MIOU_AND)
    # more elements than one chunk, channels-last like the BF1 boundary maps
    generator = torch.Generator().manual_seed(3)
    x = torch.rand(2, 5, 160, 200, generator=generator).contiguous(
        memory_format=torch.channels_last)
    assert x.numel() > CHUNK_SIZE
    x.requires_grad_()
    out = curve(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    control = np.concatenate([[[0, 0]], curve.points.numpy(), [[1, 1]]])
    picks = [0, CHUNK_SIZE - 1, CHUNK_SIZE, x.numel() - 1]
    for flat_index in picks:
        index = np.unravel_index(flat_index, tuple(x.shape))
        expected = bezier_by_bisection(x[index].item(), control)
        assert abs(out[index].item() - expected) < 1e-6
    (out * 2).sum().backward()
    # central differences in float64, away from the joint of the two segments (a kink), from
    # the steep start near 0 and from the end of the domain (x + h would be clamped to 1)
    h = 1e-6
    detached = x.detach().double()
    numeric = (curve(detached + h) - curve(detached - h)) / (2 * h)
    joint = curve.points[1, 0].item()
    smooth = ((detached - joint).abs() > 1e-4) & (detached > 1e-2) & (detached < 1 - 1e-4)
    np.testing.assert_allclose(x.grad.double()[smooth].numpy(), 2 * numeric[smooth].numpy(),
                               rtol=1e-3, atol=1e-4)
