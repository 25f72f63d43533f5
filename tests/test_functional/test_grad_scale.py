"""Gradient scale lambda of PAP section 3.2."""
import pytest
import torch

from mmautoloss.functional.grad_scale import check_grad_scale, grad_scale, grad_scale_from_param


def test_forward_is_identity_and_backward_is_scaled():
    x = torch.randn(5, requires_grad=True)
    weights = torch.randn(5)
    y = grad_scale(x, 4.1231)
    assert torch.equal(y, x.detach())
    (y * weights).sum().backward()
    torch.testing.assert_close(x.grad, 4.1231 * weights)


@pytest.mark.parametrize('theta, expected', [(0.0, 0.1), (0.5, 1.0), (1.0, 10.0),
                                             (0.75, 10**0.5)])
def test_param_mapping(theta, expected):
    assert grad_scale_from_param(theta) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize('scale', [0.0, -1.0, float('nan'), float('inf'), '2'])
def test_bad_scale_raises(scale):
    with pytest.raises(ValueError, match='grad_scale'):
        grad_scale(torch.ones(1), scale)


@pytest.mark.parametrize('theta', [-0.1, 1.5, float('nan'), None])
def test_bad_param_raises(theta):
    with pytest.raises(ValueError, match='grad_scale_param'):
        grad_scale_from_param(theta)


@pytest.mark.parametrize('scale', [1e308, 1e5, 1e-5, 1e-308])
def test_extreme_explicit_scales_are_refused_by_name(scale):
    """1e308 made the box gradient inf; the accepted range keeps float32 gradients finite."""
    from mmautoloss.functional.grad_scale import GRAD_SCALE_RANGE
    assert GRAD_SCALE_RANGE == (1e-4, 1e4)
    with pytest.raises(ValueError, match=r'grad_scale \(lambda, PAP section 3.2\) must be a '
                                         r'finite number in \[0.0001, 10000.0\]'):
        check_grad_scale(scale)
    assert check_grad_scale(1e4) == 1e4 and check_grad_scale(1e-4) == 1e-4
