"""The faster curve evaluation and surrogates give what the previous implementation gave.

The reference is the code before the throughput change, frozen in
``tests/assets/previous_implementation``. Values and gradients must be equal bit for bit in
float32 and float64 (stronger than the 1e-6 asked for in float64: a proxy training then
follows the same trajectory, so a search's rewards do not move), on the released ASL
curves, on curves that need the zero-denominator guard (a segment with b = 0), on one, two
and three segments, and on inputs outside [0, 1], NaN and infinities. One exception: the
BF1 surrogate sums its recall hits in float64 over the ground-truth boundary pixels only
(the previous one summed a whole float32 map), so it is compared to within rounding
(1e-6 relative in float64, as asked, and 1e-5 in float32).
"""
import importlib.util

import pytest
import torch

from mmautoloss.functional import piecewise_bezier as bezier_module
from mmautoloss.functional import seg_surrogates
from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.piecewise_bezier import piecewise_bezier
from mmautoloss.testing import REPO
from mmautoloss.testing.released_references import released_asl_theta

PREVIOUS = REPO / 'tests' / 'assets' / 'previous_implementation'


def _load(name):
    spec = importlib.util.spec_from_file_location(name, PREVIOUS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


previous_bezier = _load('piecewise_bezier_c051863')
previous_surrogates = _load('seg_surrogates_c051863')

CURVES = {
    'one segment': [[0.3, 0.8]],
    'two segments': [[0.2, 0.05], [0.5, 0.5], [0.9, 0.7]],
    'three segments': [[0.1, 0.2], [0.3, 0.3], [0.4, 0.35], [0.6, 0.8], [0.8, 0.9]],
    'b = 0 (vertical start)': [[0.0, 0.4], [0.5, 0.6], [0.7, 0.9]],
    'b = 0 in the second segment': [[0.3, 0.1], [0.5, 0.5], [0.5, 0.8]],
    'zero-width last segment': [[0.5, 0.2], [1.0, 0.6], [1.0, 0.9]],
}
SPECIAL = [0.0, 1.0, -0.5, 1.5, float('nan'), float('inf'), -float('inf'), -0.0, 1e-9,
           0.2, 0.5, 0.9999999]
#: values inside [0, 1] only (on CPU a chunk of them skips the clamping and masks)
INSIDE = [0.0, 1.0, -0.0, 1e-9, 0.2, 0.5, 0.9999999]


def _value_and_grad(fn, x):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    (grad, ) = torch.autograd.grad((y * torch.linspace(0.5, 2, y.numel()).view_as(y).to(y)).sum(),
                                   x)
    return y.detach(), grad


@pytest.mark.parametrize('inputs', ['special values', 'inside [0, 1]'])
@pytest.mark.parametrize('host_read', [True, False])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('name', list(CURVES))
def test_bezier_curve_equals_the_previous_one_bit_for_bit(name, dtype, host_read, inputs,
                                                         monkeypatch):
    if not host_read:  # what GPUs do: per-element selection, clamping and masks always
        monkeypatch.setattr(bezier_module, 'HOST_READ_DEVICES', ())
    points = torch.tensor(CURVES[name], dtype=dtype)
    special = SPECIAL if inputs == 'special values' else INSIDE
    x = torch.cat([torch.tensor(special, dtype=dtype),
                   torch.rand(100_001, generator=torch.Generator().manual_seed(0),
                              dtype=dtype)])
    for shaped in (x, x[:100_008].view(6, 16_668)[:, ::2]):  # flat, and a strided view
        new = _value_and_grad(lambda t: piecewise_bezier(t, points), shaped)
        old = _value_and_grad(lambda t: previous_bezier.piecewise_bezier(t, points), shaped)
        assert torch.equal(new[0], old[0]) and torch.equal(new[1], old[1])
        # and the values without a gradient take the same path
        assert torch.equal(piecewise_bezier(shaped, points), old[0])


def _released_curves(metric, previous, plain=False):
    theta = released_asl_theta(metric)
    count = seg_surrogates.SURROGATES[metric][1]
    size = len(theta) // count
    curves = []
    for i in range(count):
        curve = MonotoneFunction.from_points('bezier', theta[i * size:(i + 1) * size])
        if previous:
            curves.append(lambda t, p=curve.points: previous_bezier.piecewise_bezier(t, p.to(t)))
        elif plain:  # a callable without value_and_slope: the surrogates' autograd path
            curves.append(lambda t, g=curve: g(t))
        else:
            curves.append(curve)
    return curves


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('metric', list(seg_surrogates.SURROGATES))
@pytest.mark.parametrize('curves', ['identity', 'released', 'released, plain callables'])
def test_surrogates_equal_the_previous_ones(metric, curves, dtype):
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 7, 40, 48, generator=generator, dtype=dtype)
    labels = torch.randint(0, 7, (2, 40, 48), generator=generator)
    labels[torch.rand(labels.shape, generator=generator) < 0.1] = 255
    results = []
    for module, previous in ((seg_surrogates, False), (previous_surrogates, True)):
        given = None if curves == 'identity' else _released_curves(
            metric, previous, plain=curves.endswith('plain callables'))
        fn = module.SURROGATES[metric][0]
        x = logits.clone().requires_grad_(True)
        value = fn(x.softmax(dim=1), labels, given, validate=False)
        (grad, ) = torch.autograd.grad(value, x)
        results.append((value.detach(), grad))
    (new_value, new_grad), (old_value, old_grad) = results
    if metric == 'BF1':
        rtol = 1e-6 if dtype == torch.float64 else 1e-5
        torch.testing.assert_close(new_value, old_value, rtol=rtol, atol=0)
        torch.testing.assert_close(new_grad, old_grad, rtol=rtol, atol=rtol * 1e-3)
    else:
        assert torch.equal(new_value, old_value) and torch.equal(new_grad, old_grad)
    assert new_grad.abs().sum() > 0  # a gradient that can differ
