"""loss_weight: bounded to the range where a float32 gradient stays finite."""
import pytest
import torch

from mmautoloss.models.losses.loss_weight import LOSS_WEIGHT_RANGE, check_loss_weight


def test_the_largest_accepted_weight_keeps_a_float32_gradient_finite():
    # a float32 chain of 20 layers with gradient gain ~10 each, as a deep network can have
    x = torch.full((4, ), 1.0, requires_grad=True)
    y = x
    for _ in range(20):
        y = y * 10.0
    (check_loss_weight(LOSS_WEIGHT_RANGE[1]) * y.sum()).backward(retain_graph=True)
    assert torch.isfinite(x.grad).all()
    x.grad = None
    (1e308 * y.sum()).backward()  # the weight the range refuses
    assert not torch.isfinite(x.grad).all()


@pytest.mark.parametrize('weight', [-1.0, 1e4 * 1.001, 1e308, float('inf'), float('nan'), True,
                                    '1'])
def test_out_of_range_or_non_numeric_weights_are_refused_by_name(weight):
    with pytest.raises(ValueError, match=r'loss_weight must be a finite number in \[0.0, '
                       r'10000.0\], got'):
        check_loss_weight(weight)


def test_accepted_weights_come_back_as_floats():
    assert check_loss_weight(0) == 0.0 and isinstance(check_loss_weight(2), float)
