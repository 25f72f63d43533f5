"""Parameterized soft logic of ASL eq. (8-9)."""
import itertools

import pytest
import torch

from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.soft_logic import soft_and, soft_or, soft_xor


def _random_curves(seed):
    generator = torch.Generator().manual_seed(seed)
    return (MonotoneFunction.from_params('bezier', torch.rand(3, 2, generator=generator)),
            MonotoneFunction.from_params('linear', torch.rand(4, 2, generator=generator)))


@pytest.mark.parametrize('seed', [0, 1])
def test_truth_table_holds_for_any_valid_curves(seed):
    g1, g2 = _random_curves(seed)
    for a, b in itertools.product([0.0, 1.0], repeat=2):
        y1, y2 = torch.tensor([a]), torch.tensor([b])
        assert soft_and(y1, y2, g1).item() == float(bool(a) and bool(b))
        assert soft_or(y1, y2, g1).item() == float(bool(a) or bool(b))
        assert soft_xor(y1, y2, g_or=g1, g_and=g2).item() == float(bool(a) != bool(b))


def test_identity_is_eq8_and_curves_enter_as_eq9():
    y1, y2 = torch.tensor([0.2, 0.7, 0.5]), torch.tensor([0.9, 0.4, 0.5])
    torch.testing.assert_close(soft_and(y1, y2), torch.tensor([0.18, 0.28, 0.25]))
    torch.testing.assert_close(soft_or(y1, y2), torch.tensor([0.92, 0.82, 0.75]))

    def square(y):
        return y * y

    def root(y):
        return y.sqrt()

    expected_xor = [
        (a * a + b * b - a * a * b * b) - (a ** 0.5) * (b ** 0.5)
        for a, b in zip(y1.tolist(), y2.tolist())
    ]
    torch.testing.assert_close(soft_xor(y1, y2, g_or=square, g_and=root),
                               torch.tensor(expected_xor))


def test_gradient_flows_through_the_curve():
    g, _ = _random_curves(3)
    y1 = torch.tensor([0.3, 0.6], requires_grad=True)
    y2 = torch.tensor([0.8, 0.1])
    soft_and(y1, y2, g).sum().backward()
    step = 1e-4
    numeric = (g(y1.detach() + step) - g(y1.detach() - step)) / (2 * step) * g(y2)
    torch.testing.assert_close(y1.grad, numeric, rtol=1e-3, atol=1e-4)


def test_bad_inputs_raise():
    y = torch.rand(3)
    with pytest.raises(ValueError, match='g must be callable'):
        soft_and(y, y, g=3)
    with pytest.raises(ValueError, match=r'y1 and y2 must broadcast.*\(3,\).*\(4,\)'):
        soft_or(y, torch.rand(4))
    with pytest.raises(ValueError, match='y2 must be a floating tensor'):
        soft_and(y, torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match='same shape'):
        soft_and(y, y, g=lambda t: t.sum())
