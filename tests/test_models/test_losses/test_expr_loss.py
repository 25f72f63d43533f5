"""ExprLoss against mmseg's, mmdet's and mmpose's own losses (value and gradient, float64),
at every calling convention it serves, and its configuration errors."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.models.losses import CrossEntropyLoss as DetCrossEntropyLoss
from mmdet.models.losses import FocalLoss, GIoULoss, IoULoss
from mmdet.models.losses import L1Loss as DetL1Loss
from mmpose.models.losses import KeypointMSELoss
from mmpose.models.losses import L1Loss as PoseL1Loss
from mmseg.models.losses import CrossEntropyLoss as SegCrossEntropyLoss

from mmautoloss.models.losses import ExprLoss
from mmautoloss.registry import MODELS

ALZ_CE = 'Neg(Mul(Y,Log(P)))'
CSE_FOCAL = ('Neg(Add(Mul(Mul(Y,Mul(Sub(1,Sig(X)),Sub(1,Sig(X)))),Log(Sig(X))),'
             'Mul(Mul(Sub(1,Y),Mul(Sig(X),Sig(X))),Log(Sub(1,Sig(X))))))')
GEN = torch.Generator().manual_seed(0)


def _same(ours, reference, leaf, tol=1e-6):
    """Equal values and equal gradients w.r.t. ``leaf``."""
    assert torch.allclose(ours, reference, rtol=tol, atol=tol), (ours, reference)
    grad, = torch.autograd.grad(ours, leaf, retain_graph=True)
    expected, = torch.autograd.grad(reference, leaf)
    assert torch.allclose(grad, expected, rtol=tol, atol=tol)
    assert grad.abs().sum() > 0


def _logits(*shape):
    return torch.randn(*shape, generator=GEN, dtype=torch.float64).requires_grad_()


@pytest.mark.parametrize('avg_non_ignore', [False, True])
def test_seg_cross_entropy_equals_mmseg(avg_non_ignore):
    logits = _logits(2, 4, 6, 5)
    labels = torch.randint(0, 4, (2, 6, 5), generator=GEN)
    labels[0, :2] = 255
    ours = ExprLoss(ALZ_CE, 'alz', 'seg', avg_non_ignore=avg_non_ignore)(
        logits, labels, weight=None, ignore_index=255)
    reference = SegCrossEntropyLoss(avg_non_ignore=avg_non_ignore)(logits, labels,
                                                                   ignore_index=255)
    _same(ours, reference, logits)


def _boundary_pixels(labels):
    """Pixels with a 3x3 in-image neighbour of another label, by a loop over offsets."""
    n, h, w = labels.shape
    edge = torch.zeros(n, h, w, dtype=torch.bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            for y in range(h):
                for x in range(w):
                    if 0 <= y + dy < h and 0 <= x + dx < w:
                        edge[:, y, x] |= labels[:, y + dy, x + dx] != labels[:, y, x]
    return edge


def test_boundary_target_is_cross_entropy_on_the_boundary_pixels():
    logits = _logits(2, 3, 7, 6)
    labels = torch.randint(0, 3, (2, 7, 6), generator=GEN)
    labels[:, :3, :3] = 1  # a region with an inside
    edge = _boundary_pixels(labels)
    assert 0 < edge.sum() < edge.numel()
    ours = ExprLoss(ALZ_CE, 'alz-boundary', 'seg')(logits, labels)
    reference = SegCrossEntropyLoss()(logits, labels, edge.to(torch.float64))
    _same(ours, reference, logits)


def test_seg_pixel_weights_and_default_ignore_index():
    logits = _logits(2, 3, 4, 4)
    labels = torch.randint(0, 3, (2, 4, 4), generator=GEN)
    labels[1, 0] = 255
    weight = torch.rand(2, 4, 4, generator=GEN, dtype=torch.float64)
    ours = ExprLoss(ALZ_CE, 'alz', 'seg')(logits, labels, weight)
    reference = SegCrossEntropyLoss()(logits, labels, weight, ignore_index=255)
    _same(ours, reference, logits)


def _det_labels(n, num_classes):
    labels = torch.randint(0, num_classes + 1, (n, ), generator=GEN)
    weights = (torch.rand(n, generator=GEN) > 0.2).to(torch.float64)
    return labels, weights


@pytest.mark.parametrize('num_classes', [1, 3])  # the RPN's objectness, a one-stage head
def test_alz_cross_entropy_on_a_sigmoid_prediction_is_mmdet_bce(num_classes):
    # ALZ appendix A.2: softmax over foreground / background, one-hot target with background
    logits = _logits(12, num_classes)
    labels, weights = _det_labels(12, num_classes)
    loss = ExprLoss(ALZ_CE, 'alz', 'sigmoid_cls', use_sigmoid=True)
    reference = DetCrossEntropyLoss(use_sigmoid=True)(logits, labels, weights, avg_factor=5.0)
    ours = loss(logits, labels, weights, avg_factor=5.0)
    _same(ours, reference.double(), logits)  # mmdet casts the weights to float32
    # negatives are pushed down: a background row's loss grows with its foreground logit
    background = labels == num_classes
    assert background.any()
    grad, = torch.autograd.grad(ours, logits)
    assert (grad[background & (weights > 0)] > 0).all()


def test_alz_binary_layout_weights_both_columns_of_an_element():
    logits = _logits(10, 2)
    labels, _ = _det_labels(10, 2)
    weights = torch.rand(10, 2, generator=GEN, dtype=torch.float64)
    ours = ExprLoss(ALZ_CE, 'alz', 'sigmoid_cls')(logits, labels, weights, avg_factor=3.0)
    onehot = F.one_hot(labels, 3)[:, :2].to(torch.float64)
    reference = F.binary_cross_entropy_with_logits(logits, onehot, weights,
                                                   reduction='sum') / 3.0
    _same(ours, reference, logits, tol=1e-5)


def test_focal_loss_equals_mmdet():
    logits = _logits(20, 4)
    labels, weights = _det_labels(20, 4)
    ours = ExprLoss(CSE_FOCAL, 'cse', 'sigmoid_cls', alpha=0.25)(
        logits, labels, weights, avg_factor=7.0)
    reference = FocalLoss(gamma=2.0, alpha=0.25)(logits, labels, weights, avg_factor=7.0)
    _same(ours, reference, logits)


@pytest.mark.parametrize('formula, primitive_set', [(ALZ_CE, 'alz'), ('CEI', 'cse')])
def test_softmax_cross_entropy_equals_mmdet(formula, primitive_set):
    logits = _logits(15, 5)  # 4 classes + background
    labels, weights = _det_labels(15, 4)
    loss = ExprLoss(formula, primitive_set, 'softmax_cls')
    ours = loss(logits, labels, weights, avg_factor=9.0, reduction_override='mean')
    reference = DetCrossEntropyLoss()(logits, labels, weights, avg_factor=9.0)
    _same(ours, reference, logits)
    per_sample = loss(logits, labels, weights, reduction_override='none')
    assert per_sample.shape == (15, 1, 1)


def _boxes(n):
    """Predicted boxes overlapping their targets (mmdet clamps an IoU of 0 to 1e-6)."""
    xy = torch.rand(n, 2, generator=GEN, dtype=torch.float64) * 40
    wh = torch.rand(n, 2, generator=GEN, dtype=torch.float64) * 30 + 10
    target = torch.cat([xy, xy + wh], dim=1)
    pred = target + (torch.rand(n, 4, generator=GEN, dtype=torch.float64) - 0.5) * 8
    return pred.requires_grad_(), target


@pytest.mark.parametrize('weight_shape', [None, (1, ), (4, )])
@pytest.mark.parametrize('formula, reference', [
    ('GIoU', GIoULoss()),
    ('Neg(Log(Div(I,U)))', IoULoss(mode='log')),
    ('Sub(1,Div(I,U))', IoULoss(mode='linear')),
])
def test_box_losses_over_areas_equal_mmdet(formula, reference, weight_shape):
    pred, target = _boxes(10)
    weight = None if weight_shape is None else torch.rand(
        10, *weight_shape, generator=GEN, dtype=torch.float64).squeeze(-1) \
        if weight_shape == (1, ) else torch.rand(10, 1, generator=GEN,
                                                 dtype=torch.float64).expand(10, 4)
    ours = ExprLoss(formula, 'cse', 'box')(pred, target, weight, avg_factor=4.0)
    expected = reference(pred, target, weight, avg_factor=4.0)
    _same(ours, expected, pred)


def test_alz_box_branch_equals_mmdet_giou():
    pred, target = _boxes(6)
    giou = 'Add(Add(1,Neg(Mul(I,Inv(U)))),Mul(Add(E,Neg(U)),Inv(E)))'
    _same(ExprLoss(giou, 'alz', 'box')(pred, target), GIoULoss()(pred, target), pred)


def test_alz_cross_entropy_on_masks_is_mmdet_mask_bce():
    logits = _logits(5, 3, 7, 7)
    targets = (torch.rand(5, 7, 7, generator=GEN) > 0.5).to(torch.float64)
    labels = torch.randint(0, 3, (5, ), generator=GEN)
    ours = ExprLoss(ALZ_CE, 'alz', 'mask')(logits, targets, labels)
    reference = DetCrossEntropyLoss(use_mask=True)(logits, targets, labels)
    _same(ours, reference.squeeze(), logits)


def test_heatmap_mse_with_target_weights_equals_mmpose():
    output = _logits(3, 5, 8, 6)
    target = torch.rand(3, 5, 8, 6, generator=GEN, dtype=torch.float64)
    weights = torch.rand(3, 5, generator=GEN, dtype=torch.float64)
    loss = ExprLoss('Square(Add(P,Neg(Y)))', 'alz', 'heatmap', channel_reduction='mean')
    reference = KeypointMSELoss(use_target_weight=True)(output, target, weights)
    _same(loss(output, target, weights), reference, output)
    # eq. (3) sums the channels: K times the mean
    summed = ExprLoss('Square(Add(P,Neg(Y)))', 'alz', 'heatmap')(output, target, weights)
    assert torch.allclose(summed, 5 * reference)


def test_l1_equals_mmpose_and_mmdet():
    output = _logits(2, 4, 5, 5)
    target = torch.rand(2, 4, 5, 5, generator=GEN, dtype=torch.float64)
    weights = torch.rand(2, 4, generator=GEN, dtype=torch.float64)
    l1 = ExprLoss('Abs(Add(P,Neg(Y)))', 'alz', 'heatmap', channel_reduction='mean')
    _same(l1(output, target, weights),
          PoseL1Loss(use_target_weight=True)(output, target, weights), output)
    _same(l1(output, target), DetL1Loss()(output, target), output)


@pytest.mark.usefixtures('mmseg_scope')
def test_registered_and_built_by_mmseg_decode_head():
    from mmseg.registry import MODELS as SEG_MODELS
    head = SEG_MODELS.build(dict(
        type='FCNHead', in_channels=4, channels=4, num_convs=1, num_classes=3,
        loss_decode=dict(type='ExprLoss', formula=ALZ_CE, branch='seg',
                         loss_name='loss_alz')))
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    labels = torch.randint(0, 3, (2, 1, 8, 8))
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    losses = head.loss_by_feat(logits, samples)
    assert set(losses) == {'loss_alz', 'acc_seg'}
    expected = SegCrossEntropyLoss()(logits, labels.squeeze(1), ignore_index=255)
    assert torch.allclose(losses['loss_alz'], expected, atol=1e-5)


def test_released_names_fix_set_and_branch():
    loss = MODELS.build(dict(type='ExprLoss', formula='CSE-B/cls'))
    assert loss.branch == 'sigmoid_cls' and loss.alpha == 0.25 and loss.use_sigmoid
    with pytest.raises(ValueError, match="'CSE-A/reg' is a 'box' loss"):
        ExprLoss('CSE-A/reg', branch='sigmoid_cls')


@pytest.mark.parametrize('kwargs, message', [
    (dict(formula=ALZ_CE), 'branch is required'),
    (dict(formula=ALZ_CE, branch='seg', reduction='avg'), 'reduction must be one of'),
    (dict(formula=ALZ_CE, branch='seg', channel_reduction='max'), 'channel_reduction'),
    (dict(formula=ALZ_CE, branch='seg', alpha=0.25), 'alpha must be None'),
    (dict(formula=ALZ_CE, branch='softmax_cls', use_sigmoid=True), 'use_sigmoid=True'),
    (dict(formula=ALZ_CE, branch='seg', loss_name='alz'), "loss_name must be a str"),
    (dict(formula=ALZ_CE, branch='seg', loss_weight=float('nan')), 'loss_weight'),
    (dict(formula='Neg(Mul(Y,Log(Q)))', branch='seg'), "unknown name 'Q'"),
    (dict(formula=ALZ_CE, branch='box'), "unknown name 'Y'"),
])
def test_configuration_errors_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message.replace('(', '\\(')):
        ExprLoss(**kwargs)


def test_unexpected_call_arguments_are_rejected():
    loss = ExprLoss(ALZ_CE, branch='seg')
    with pytest.raises(TypeError, match=r"unexpected arguments \['mask'\]"):
        loss(torch.randn(1, 2, 3, 3), torch.zeros(1, 3, 3, dtype=torch.long), mask=None)
    with pytest.raises(ValueError, match='iou= is an input of classification'):
        loss(torch.randn(1, 2, 3, 3), torch.zeros(1, 3, 3, dtype=torch.long),
             iou=torch.ones(1))


def test_iou_input_reaches_the_formula():
    logits = _logits(6, 3)
    labels = torch.tensor([0, 1, 2, 2, 0, 1])  # class 2 is background
    iou = torch.tensor([0.5, 0.25, 0.1, 0.9, 1.0, 0.75], dtype=torch.float64)
    loss = ExprLoss('CSE-A/cls')(logits, labels, reduction_override='none',
                                 iou=iou).reshape(-1)
    w = torch.where(labels < 2, iou, torch.ones_like(iou))  # background rows: w = 1
    expected = -(1 + torch.sin(w)) * F.log_softmax(logits, 1)[torch.arange(6), labels]
    assert torch.allclose(loss, expected)
