"""The 'release' formulations of AutoSegLoss and ParamAPLoss against dense references written
from the arithmetic of the authors' public code (fundamentalvision/Auto-Seg-Loss
auto_seg_loss.py, fundamentalvision/Parameterized-AP-Loss paploss.py): every class sum, edge,
pad and eps as they compute it, on random inputs with ignored pixels, absent classes and
ties, with the released parameters; values and gradients to 1e-6 in float64."""
import pytest
import torch
import torch.nn.functional as F

from mmautoloss.functional.ap_surrogate import param_ap_surrogate_release
from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.seg_surrogates import SURROGATES
from mmautoloss.functional.seg_surrogates_release import RELEASE_SURROGATES
from mmautoloss.models.losses import ParamAPLoss
from mmautoloss.testing.released_references import released_asl_theta, released_pap_functions

EPS = 1e-8
IGNORE = 255


def _curves(metric, theta):
    per_curve = 2 if metric == 'BF1' else 6
    return [MonotoneFunction.from_points('bezier', torch.tensor(theta[i:i + per_curve],
                                                                dtype=torch.float64))
            for i in range(0, len(theta), per_curve)]


def _inputs(seed, num_classes=4, size=(2, 12, 13)):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(size[0], num_classes, *size[1:], generator=gen, dtype=torch.float64,
                         requires_grad=True)
    coarse = torch.randint(0, num_classes - 1, (size[0], 1, 4, 4), generator=gen)  # last absent
    labels = F.interpolate(coarse.double(), size=size[1:])[:, 0].long()
    labels[0, :3, :5] = IGNORE
    return logits, labels


def _onehot(labels, num_classes):
    """The release's map_to_one_hot: ignored pixels go to an extra class that is dropped."""
    target = torch.where((labels >= 0) & (labels < num_classes), labels, num_classes)
    hot = torch.zeros(labels.shape[0], num_classes + 1, *labels.shape[1:], dtype=torch.float64)
    return hot.scatter_(1, target.unsqueeze(1), 1)[:, :-1], (target < num_classes).double()


def _erode(x):  # ConstantPad2d(1, 1.0) then -MaxPool2d(3)(-x)
    return -F.max_pool2d(-F.pad(x, (1, 1, 1, 1), value=1.0), 3, stride=1)


def _dilate(x, tol):
    return F.max_pool2d(x, 2 * tol + 1, stride=1, padding=tol)


def _edge(seg):  # compute_edge: (seg != AvgPool2d(3, 1, 1, count_include_pad=False)) * seg
    return (seg != F.avg_pool2d(seg, 3, 1, 1, count_include_pad=False)).double() * seg


def reference(metric, probs, labels, curves, tol=2, drop_bg=None):
    n, c, h, w = probs.shape
    target, mask = _onehot(labels, c)
    mask = mask.view(n, 1, h, w)
    sum_ = lambda x: x.sum(dim=3).sum(dim=2).sum(dim=0)  # noqa: E731
    if metric in ('mIoU', 'FWIoU', 'BIoU'):
        if metric == 'BIoU':
            dilated = _dilate(_edge(target), tol)
            trimap = (dilated[:, 1:] if drop_bg else dilated).max(dim=1).values > 0.5
            mask = mask * trimap.view(n, 1, h, w).double()
        inter, union = curves[0](probs), curves[1](probs)
        iou = sum_(inter * target * mask) / (sum_((union + target - union * target) * mask)
                                             + EPS)
        if metric != 'FWIoU':
            return iou.mean()
        freq = sum_(target)
        return (iou[freq > 0] * freq[freq > 0]).sum() / freq[freq > 0].sum()
    if metric == 'mAcc':
        return (sum_(curves[0](probs) * target) / (sum_(target) + EPS)).mean()
    if metric == 'gAcc':
        return (curves[0](probs) * target).sum() / (target.sum() + EPS)
    target_edge = (_erode(target) != target).double()
    eroded = _erode(probs)
    inter = curves[0](probs) * curves[1](eroded)
    union = curves[2](probs) + curves[3](eroded) - curves[2](probs) * curves[3](eroded)
    pred_edge = union - inter
    freq = sum_(target_edge)
    p = sum_(pred_edge * _dilate(target_edge, tol)) / (sum_(pred_edge) + EPS)
    r = sum_(_dilate(pred_edge, tol) * target_edge) / (freq + EPS)
    f1 = 2 * p * r / (p + r + EPS)
    return f1[1:][freq[1:] != 0].mean() if drop_bg else f1[freq != 0].mean()


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('metric', sorted(RELEASE_SURROGATES))
def test_release_surrogates_equal_dense_reference(metric, seed):
    logits, labels = _inputs(seed)
    curves = _curves(metric, released_asl_theta(metric))
    probs = logits.softmax(dim=1)
    fn, _ = RELEASE_SURROGATES[metric]
    extra = dict(tolerance=2) if metric in ('BIoU', 'BF1') else {}
    drop_bg = {'BIoU': True, 'BF1': False}.get(metric)
    if drop_bg is not None:
        extra['ignore_background'] = drop_bg
    ours = fn(probs, labels, curves, IGNORE, **extra)
    expected = reference(metric, probs, labels, curves, 2, drop_bg)
    assert torch.allclose(ours, expected, rtol=1e-6, atol=1e-9), (ours, expected)
    grad, = torch.autograd.grad(ours, logits, retain_graph=True)
    expected_grad, = torch.autograd.grad(expected, logits)
    assert torch.allclose(grad, expected_grad, rtol=1e-6, atol=1e-9)
    assert grad.abs().sum() > 0


def _one_hot_probs(labels, num_classes):
    return F.one_hot(torch.where(labels == IGNORE, 0, labels), num_classes).permute(
        0, 3, 1, 2).double()


@pytest.mark.parametrize('metric', ['mIoU', 'FWIoU', 'BIoU', 'mAcc', 'gAcc', 'BF1'])
def test_release_equals_evaluator_form_at_one_hot_with_every_class_present(metric):
    """Where the truth table holds for the release form: all classes present, none
    ignored (it then equals the paper form, which equals the evaluators)."""
    gen = torch.Generator().manual_seed(3)
    labels = F.interpolate(torch.randint(0, 3, (2, 1, 4, 4), generator=gen).double(),
                           size=(12, 12))[:, 0].long()
    pred = labels.clone()
    pred[:, 5:7] = (pred[:, 5:7] + 1) % 3
    curves = _curves(metric, released_asl_theta(metric))
    probs = _one_hot_probs(pred, 3)
    extra = dict(tolerance=1) if metric in ('BIoU', 'BF1') else {}
    release = RELEASE_SURROGATES[metric][0](probs, labels, curves, IGNORE, **extra)
    paper = SURROGATES[metric][0](probs, labels, None, IGNORE, **extra)
    assert release.item() == pytest.approx(paper.item(), abs=1e-6)


def test_release_macc_counts_an_absent_class_as_zero():
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, :, 2:] = 1  # class 2 absent
    probs = _one_hot_probs(labels, 3)
    curves = _curves('mAcc', released_asl_theta('mAcc'))
    assert RELEASE_SURROGATES['mAcc'][0](probs, labels, curves).item() == pytest.approx(2 / 3)
    assert SURROGATES['mAcc'][0](probs, labels, None).item() == pytest.approx(1.0)


def _linear(x, points):
    """The release's _linear: the segment whose right knot is the first knot >= x."""
    xs, ys = points[0::2], points[1::2]
    index = (x[..., None] > xs).sum(-1) + (xs == 0).sum() * (x == 0) - 1
    return (ys[index + 1] - ys[index]) / (xs[index + 1] - xs[index]) * (x - xs[index]) + \
        ys[index]


def pap_reference(logits, pos_mask, pos_loc, functions, num_topk):
    ious = torch.zeros_like(logits).index_put((pos_mask.nonzero().squeeze(1), ), pos_loc)
    pos_logits, pos_ious = logits[pos_mask], pos_loc
    if logits.shape[0] > num_topk:
        select_logits, index = torch.topk(logits, num_topk)
        select_ious = ious[index]
    else:
        select_logits, select_ious = logits, ious
    diff = select_logits[:, None] - pos_logits[None, :]
    norm = torch.clamp(diff / 2 + 0.5, min=0, max=1)
    h1 = _linear(norm, functions[4]).detach()
    h2 = _linear(norm, functions[0])
    i2 = _linear(select_ious, functions[1])[:, None]
    i3 = _linear(pos_ious, functions[2])[None, :]
    i1 = _linear(pos_ious, functions[3])
    loss = (1 - i1) + (h2 * (1 - i2) * i3).sum(0) / h1.sum(0)
    return loss.sum() / (len(pos_logits) + 1e-8)


@pytest.mark.parametrize('detector', ['retinanet', 'rpn', 'rcnn'])
@pytest.mark.parametrize('num_topk', [100000, 40])
def test_release_pap_equals_dense_reference(detector, num_topk):
    gen = torch.Generator().manual_seed(len(detector) + num_topk)
    n = 90
    logits = (torch.randn(n, generator=gen, dtype=torch.float64) * 1.5)
    logits[10:14] = logits[3]  # ties, positives among them
    logits.requires_grad_()
    pos_mask = torch.zeros(n, dtype=torch.bool)
    pos_mask[[3, 10, 20, 33, 47, 88]] = True
    pos_loc = torch.rand(6, generator=gen, dtype=torch.float64).requires_grad_()
    functions = torch.tensor(released_pap_functions(detector), dtype=torch.float64)
    ours = param_ap_surrogate_release(logits, pos_mask, pos_loc, functions.reshape(5, 6, 2),
                                      num_topk)
    expected = pap_reference(logits, pos_mask, pos_loc, functions, num_topk)
    assert torch.allclose(ours, expected, rtol=1e-6, atol=1e-9), (ours, expected)
    grads = torch.autograd.grad(ours, (logits, pos_loc), retain_graph=True)
    expected_grads = torch.autograd.grad(expected, (logits, pos_loc))
    for grad, want in zip(grads, expected_grads):
        assert torch.allclose(grad, want, rtol=1e-6, atol=1e-9)


def test_release_pap_differs_from_paper_form_by_the_self_pair():
    loss_paper = ParamAPLoss(functions=released_pap_functions('retinanet'))
    loss_release = ParamAPLoss(functions=released_pap_functions('retinanet'),
                               formulation='release')
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(50, generator=gen)
    pos_mask = torch.zeros(50, dtype=torch.bool)
    pos_mask[:5] = True
    boxes = torch.tensor([[0., 0., 10., 10.]]).repeat(5, 1)
    gt = boxes + torch.rand(5, 4, generator=gen)
    paper, release = loss_paper(scores, pos_mask, boxes, gt), loss_release(scores, pos_mask,
                                                                            boxes, gt)
    assert abs(paper.item() - release.item()) > 1e-4
    with pytest.raises(ValueError, match="formulation must be one of"):
        ParamAPLoss(formulation='authors')
    with pytest.raises(ValueError, match='num_topk must be a positive int, got 0'):
        ParamAPLoss(formulation='release', num_topk=0)
