"""The per-iteration forward of AutoSegLoss and ParamAPLoss reads no value back from the
device (no ``.item()``, ``.tolist()``, ``bool()`` / ``int()`` / ``float()`` of a tensor):
value checks run at construction or with ``debug=True``. The Bezier curves do read values
on CPU, where it is free (``HOST_READ_DEVICES``); the test runs the path of the other
devices. Also the mmseg calling convention of AutoSegLoss."""
import collections
import contextlib

import pytest
import torch

from mmautoloss.functional import piecewise_bezier
from mmautoloss.models.losses import AutoSegLoss, ParamAPLoss

READ_BACKS = ('item', 'tolist', '__bool__', '__int__', '__float__', '__index__')


@contextlib.contextmanager
def count_read_backs():
    counts = collections.Counter()
    originals = {name: getattr(torch.Tensor, name) for name in READ_BACKS}

    def counting(name):
        def method(self, *args, **kwargs):
            counts[name] += 1
            return originals[name](self, *args, **kwargs)
        return method

    for name in READ_BACKS:
        setattr(torch.Tensor, name, counting(name))
    try:
        yield counts
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)


@pytest.mark.parametrize('formulation', ['paper', 'release'])
@pytest.mark.parametrize('metric', ['mIoU', 'FWIoU', 'BIoU', 'BF1', 'mAcc', 'gAcc'])
def test_auto_seg_loss_forward_reads_nothing_back(metric, formulation, monkeypatch):
    monkeypatch.setattr(piecewise_bezier, 'HOST_READ_DEVICES', ())
    loss = AutoSegLoss(metric=metric, num_classes=4, formulation=formulation)
    logits = torch.randn(2, 4, 24, 24, requires_grad=True)
    labels = torch.randint(0, 4, (2, 24, 24))
    labels[0, :3] = 255
    with count_read_backs() as counts:
        value = loss(logits, labels)
    assert not counts, dict(counts)
    value.backward()  # and it is still the loss
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize('formulation', ['paper', 'release'])
def test_param_ap_loss_forward_reads_nothing_back(formulation):
    torch.manual_seed(0)
    loss = ParamAPLoss(params=torch.rand(40).tolist(), grad_scale_param=0.3,
                       formulation=formulation)
    scores = torch.randn(500, requires_grad=True)
    pos_mask = torch.zeros(500, dtype=torch.bool)
    pos_mask[::25] = True
    gt = torch.rand(20, 2) * 50
    gt = torch.cat([gt, gt + 10 + 20 * torch.rand(20, 2)], 1)
    pred = (gt + torch.randn(20, 4)).requires_grad_()
    with count_read_backs() as counts:
        value = loss(scores, pos_mask, pred, gt)
    assert not counts, dict(counts)
    value.backward()
    assert torch.isfinite(scores.grad).all() and torch.isfinite(pred.grad).all()


def test_the_counter_sees_a_read_back():
    with count_read_backs() as counts:
        bool(torch.ones(1).any())
        torch.ones(2).tolist()
    assert counts == {'__bool__': 1, 'tolist': 1}


def test_debug_checks_the_values_in_forward():
    labels = torch.full((1, 8, 8), 7)  # outside [0, 4) and not ignore_index
    logits = torch.randn(1, 4, 8, 8)
    with pytest.raises(ValueError, match='labels must lie in'):
        AutoSegLoss(metric='mIoU', debug=True)(logits, labels)
    scores = torch.tensor([0.5, float('nan'), 1.0])
    mask = torch.tensor([True, False, False])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    with pytest.raises(ValueError, match='scores must be finite'):
        ParamAPLoss(debug=True)(scores, mask, boxes, boxes)
    with pytest.raises(ValueError, match='debug'):
        ParamAPLoss(debug='yes')


def test_auto_seg_loss_takes_mmseg_s_loss_arguments():
    loss = AutoSegLoss(metric='mIoU', num_classes=3)
    logits, labels = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 8, 8))
    reference = loss(logits, labels)
    # as mmseg's decode heads call loss_decode, and with CrossEntropyLoss's arguments
    assert torch.equal(loss(logits, labels, weight=None, ignore_index=255), reference)
    assert torch.equal(loss(logits, labels, None, None, 'mean', 255), reference)
    assert torch.equal(loss(logits, labels, reduction_override='sum'), reference)
    with pytest.raises(ValueError, match='avg_factor'):
        loss(logits, labels, avg_factor=10)
    with pytest.raises(ValueError, match="reduction_override='none'"):
        loss(logits, labels, reduction_override='none')
    with pytest.raises(ValueError, match='per-pixel weight'):
        loss(logits, labels, weight=torch.ones(2, 8, 8))
    with pytest.raises(TypeError, match='unexpected arguments'):
        loss(logits, labels, foo=1)
