"""AutoLoss-Zero's loss-rejection protocol and gradient-equivalence check (section 3.2).

For each searched branch, the predictions and targets recorded at its loss
(:mod:`.loss_capture`) are optimised directly with the candidate formula, eq. (6), and the
correlation score eq. (5) is the mean over the B samples of the metric after minus before;
a candidate below ``threshold`` (eta) is rejected before it costs a training job. As in the
paper's appendix the loss is not normalised along any dimension here (``reduction='sum'``,
every sample on its own, so ``MeanNHW`` averages one sample) and the optimiser is SGD with
momentum 0.9. The defaults are the paper's (appendix A.1: eta = 0.6, 500 steps at lr 0.001,
no early exit); ``preset='cpu'`` names this implementation's faster settings (50 steps at
lr 0.02, box coordinates at lr 1.0, an early exit after 10 steps for a gain below 0.05):
a tenth of the steps, each 20 times larger, so twice the paper's sum of step sizes (1.0
against 0.5), and most random losses stop after 10 steps. The two do not decide alike on
every formula; the CPU preset is a speed choice, not the paper's protocol.

Per branch the metric is that of the proxy's evaluator restricted to the branch, with the
other branches at their ground truth (paper appendix A.2): segmentation, the search's
target metric of the arg-max map; classification, the AP of the class scores of the
sampled anchors / RoIs; box regression, the fraction of boxes above each COCO IoU
threshold; masks and pose heatmaps, the same with the mask IoU and the keypoints' OKS
(:mod:`mmautoloss.functional.prediction_metrics`).
Detection's two stages are two branches each: the RPN's objectness and proposals are
scored on the RPN's samples, the R-CNN head's on its sampled RoIs.

The gradient norms of the loss w.r.t. each sample's prediction at the start of the
optimisation, to two significant digits, are the candidate's signature: two formulas with
the same signature on every sample and branch are the same loss (the check of section 3.2).
"""
import math
from collections.abc import Mapping, Sequence

import torch
from mmengine.config import Config
from torch import Tensor

from ...functional.formulas import PrimitiveSet
from ...functional.prediction_metrics import box_ap, keypoint_ap, mask_ap, ranking_ap, seg_metric
from ...registry import FILTERS
from ...utils.checks import check_int, check_number
from ..errors import SearchConfigError
from ..structures import VerdictStatus
from .base import FormulaFilter, Verdict
from .loss_capture import LossCall, capture_loss_calls

#: named settings of the protocol; explicit arguments override them
PRESETS = dict(
    paper=dict(steps=500, lr=0.001, box_lr=None, early_check=0, early_gain=0.0),
    cpu=dict(steps=50, lr=0.02, box_lr=1.0, early_check=10, early_gain=0.05),
)


def two_significant(value: float) -> float:
    """``value`` rounded to two significant digits (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 1 - int(math.floor(math.log10(abs(value)))))


@FILTERS.register_module()
class LossRejection(FormulaFilter):
    """The protocol over the searched branches of one proxy.

    A verdict is ``accepted``, ``invalid`` (NaN / Inf loss or gradient at the start,
    predictions driven to NaN / Inf, or no gradient at all) or ``rejected`` (score below the
    threshold), with the correlation score and the rounded gradient norms (its signature).

    Args:
        proxy_cfg (Config): the proxy training config (its model, data and loss settings).
        branches (Mapping[str, Tuple[PrimitiveSet, str]]):
            config key -> (primitive set, branch kind), from the formula space.
        metric (str): the segmentation target metric (``'mIoU'``, ``'BF1'``, ...); detection
            branches use their own (module docstring).
        num_samples (int): B (paper: 5).
        threshold (float): eta on the [0, 1] metric scale (paper: 0.6).
        preset (str): ``'paper'`` (default) or ``'cpu'``, the defaults of ``steps``,
            ``lr``, ``box_lr``, ``early_check`` and ``early_gain`` (:data:`PRESETS`).
        steps, lr, momentum: SGD on the predictions (paper: 500, 0.001, 0.9).
        box_lr (float | None): the learning rate of box regression branches, whose
            predictions are box coordinates in pixels (a loss over areas has gradients of
            about 1 / box size); None: ``lr``, as the paper.
        seed (int): draws the B samples and the network initialisation (the search's seed
            unless the field sets one).
        tolerance (int): boundary tolerance of BIoU / BF1 (the proxy evaluator's).
        early_check, early_gain: after ``early_check`` steps a candidate whose mean gain is
            still below ``early_gain`` is rejected without the remaining steps (most random
            losses are; 0 turns the early exit off, as the paper). A speed-up of this
            implementation, not of the paper.
    """

    search_inputs = ('proxy_cfg', 'branches', 'seed')

    def __init__(self, proxy_cfg: Config, branches: Mapping[str, tuple[PrimitiveSet, str]],
                 metric: str = 'mIoU', num_samples: int = 5, threshold: float = 0.6,
                 preset: str = 'paper', steps: int | None = None, lr: float | None = None,
                 momentum: float = 0.9, seed: int = 0, tolerance: int = 1,
                 early_check: int | None = None, early_gain: float | None = None,
                 box_lr: float | None = None) -> None:
        if preset not in PRESETS:
            raise ValueError(f'loss_rejection.preset must be one of {sorted(PRESETS)}, got '
                             f'{preset!r}')
        given = dict(steps=steps, lr=lr, box_lr=box_lr, early_check=early_check,
                     early_gain=early_gain)
        settings = {k: PRESETS[preset][k] if v is None else v for k, v in given.items()}
        steps, lr, box_lr = settings['steps'], settings['lr'], settings['box_lr']
        early_check, early_gain = settings['early_check'], settings['early_gain']
        box_lr = lr if box_lr is None else box_lr
        for name, value, low in (('num_samples', num_samples, 1), ('steps', steps, 1),
                                 ('early_check', early_check, 0), ('seed', seed, 0),
                                 ('tolerance', tolerance, 0)):
            check_int(value, f'loss_rejection.{name}', low)
        for name, value in (('threshold', threshold), ('lr', lr), ('momentum', momentum),
                            ('early_gain', early_gain), ('box_lr', box_lr)):
            check_number(value, f'loss_rejection.{name}')
        from ...functional.seg_surrogates import SURROGATES
        if metric not in SURROGATES:
            raise ValueError(f'loss_rejection.metric must be one of {sorted(SURROGATES)}, got '
                             f'{metric!r}')
        self.preset = preset
        self.proxy_cfg = proxy_cfg
        self.branches = dict(branches)
        self.metric = metric
        self.num_samples = num_samples
        self.threshold = float(threshold)
        self.steps, self.lr, self.momentum = steps, float(lr), float(momentum)
        self.box_lr = float(box_lr)
        self.seed = seed
        self.tolerance = tolerance
        self.early_check, self.early_gain = early_check, float(early_gain)
        self._calls: dict[str, list[list[LossCall]]] | None = None

    @property
    def calls(self) -> dict[str, list[list[LossCall]]]:
        """The recorded loss calls, captured on first use (a proxy forward per sample)."""
        if self._calls is None:
            try:
                self._calls = capture_loss_calls(self.proxy_cfg, list(self.branches),
                                                 self.num_samples, self.seed)
            except (OSError, KeyError, ValueError) as error:  # e.g. data not generated yet
                raise SearchConfigError(
                    f'loss_rejection cannot record the proxy\'s loss inputs: '
                    f'{type(error).__name__}: {error}') from error
        return self._calls

    def judge_many(self, key: str, formulas: Sequence[str]) -> list[Verdict]:
        """The verdict on each formula as the loss of branch ``key``, one after the other
        (each optimises the recorded inputs on its own)."""
        return [self.judge(key, formula) for formula in formulas]

    def judge(self, key: str, formula: str) -> Verdict:
        """The verdict on ``formula`` as the loss of branch ``key``."""
        from mmautoloss.models.losses import ExprLoss
        pset, kind = self.branches[key]
        loss = ExprLoss(formula, pset, kind, reduction='sum')  # parses and checks it
        if kind == 'seg':  # one batch of the B samples, each averaged on its own
            loss.operator_overrides = {'MeanNHW': _per_sample_mean}
        gains, norms = [], []
        for unit, rows in self._units(key):
            outcome = self._optimise(loss, kind, unit, rows)
            if outcome is None:
                return Verdict(VerdictStatus.INVALID, score=-math.inf)
            gains.append(outcome[0])
            norms.extend(outcome[1])
        score = float(torch.cat(gains).mean())
        signature = tuple(two_significant(n) for n in norms)
        status = VerdictStatus.ACCEPTED if score >= self.threshold else VerdictStatus.REJECTED
        return Verdict(status, score=score, signature=signature)

    def _units(self, key: str) -> list[tuple[list[LossCall], list[int]]]:
        """What is optimised together, with the rows of each sample in it: segmentation
        stacks the B samples into one batch (one image each), detection all rows of all
        calls (``MeanNHW`` then averages over every recorded row)."""
        samples = self.calls[key]
        if self.branches[key][1] == 'seg':
            stacked = [torch.cat([s[0].args[i] for s in samples]) for i in range(2)]
            return [([LossCall(tuple(stacked), samples[0][0].kwargs)], [1] * len(samples))]
        # detection: every call of every sample (anchor levels, images) in one batch of
        # rows, which the sum over rows treats independently
        calls = [call for sample in samples for call in sample]
        width = len(calls[0].args)
        args = tuple(_cat([c.args[i] for c in calls]) for i in range(width))
        kwargs = {k: v for k, v in calls[0].kwargs.items() if k != 'iou'}
        if 'iou' in calls[0].kwargs:
            kwargs['iou'] = _cat([c.kwargs['iou'] for c in calls])
        rows = [sum(len(call.args[0]) for call in sample) for sample in samples]
        return [([LossCall(args, kwargs)], rows)]

    def _optimise(self, loss, kind: str, calls: Sequence[LossCall],
                  rows: list[int]) -> tuple[Tensor, list[float]] | None:
        preds = [call.args[0].float().clone().requires_grad_() for call in calls]
        rest = [tuple(_float(a) for a in call.args[1:]) for call in calls]
        kwargs = [{k: _float(v) for k, v in call.kwargs.items() if k != 'avg_factor'}
                  for call in calls]
        before = self._metric(kind, [p.detach() for p in preds], rest, kwargs)
        velocity = [torch.zeros_like(p) for p in preds]
        lr = self.box_lr if kind == 'box' else self.lr
        norms: list[float] = []
        for step in range(self.steps):
            total = sum(loss(p, *r, **k) for p, r, k in zip(preds, rest, kwargs))
            grads = torch.autograd.grad(total, preds, allow_unused=True)
            grads = [torch.zeros_like(p) if g is None else g for p, g in zip(preds, grads)]
            if step == 0:
                if not torch.isfinite(total) or not all(torch.isfinite(g).all() for g in grads):
                    return None
                norms = [float(g.norm()) for g in grads[0].split(rows)]  # per sample
                if not any(norms):
                    return None
            with torch.no_grad():
                for p, g, v in zip(preds, grads, velocity):
                    v.mul_(self.momentum).add_(g)
                    p.sub_(lr * v)
            if step + 1 == self.early_check:
                if not all(torch.isfinite(p).all() for p in preds):
                    return None
                gain = self._metric(kind, [p.detach() for p in preds], rest, kwargs) - before
                if float(gain.mean()) < self.early_gain:
                    return gain, norms
        # a loss or gradient that left the finite range on the way shows in the predictions
        if not all(torch.isfinite(p).all() for p in preds):
            return None
        after = self._metric(kind, [p.detach() for p in preds], rest, kwargs)
        return after - before, norms

    def _metric(self, kind: str, preds: list[Tensor], rest: list[tuple],
                kwargs: list[dict]) -> Tensor:
        """The metric of the unit, per sample (a (B,) or (1,) tensor)."""
        if kind == 'seg':
            ignore = kwargs[0].get('ignore_index', 255)
            return seg_metric(preds[0], rest[0][0], self.metric, ignore, self.tolerance)
        if kind in ('sigmoid_cls', 'softmax_cls'):
            scores = torch.cat(preds)
            labels = torch.cat([r[0] for r in rest])
            weights = torch.cat([r[1] if len(r) > 1 else torch.ones_like(r[0]).float()
                                 for r in rest])
            probs = scores.sigmoid() if kind == 'sigmoid_cls' else scores.softmax(1)
            background = scores.shape[1] if kind == 'sigmoid_cls' else scores.shape[1] - 1
            return ranking_ap(probs, labels, weights, background).reshape(1).float()
        if kind == 'box':  # the boxes the head weights (its positives)
            pred, target = torch.cat(preds), torch.cat([r[0] for r in rest])
            weights = torch.cat([r[1].reshape(len(r[1]), -1).sum(1) if len(r) > 1
                                 else torch.ones(len(r[0])) for r in rest])
            keep = weights > 0
            return box_ap(pred[keep], target[keep]).reshape(1).float()
        if kind == 'heatmap':
            weights = [r[1] if len(r) > 1 and r[1] is not None else
                       torch.ones(p.shape[:2]) for p, r in zip(preds, rest)]
            return keypoint_ap(torch.cat(preds), torch.cat([r[0] for r in rest]),
                               torch.cat(weights)).reshape(1).float()
        if kind == 'mask':
            return mask_ap(torch.cat(preds), torch.cat([r[0] for r in rest]),
                           torch.cat([r[1] for r in rest])).reshape(1).float()
        raise ValueError(f'the loss-rejection protocol has no metric for branch {kind!r}')


def _cat(values: list):
    """Rows of the calls stacked; a non-tensor argument (None) stays as the first one."""
    return torch.cat(values) if torch.is_tensor(values[0]) else values[0]


def _per_sample_mean(x: Tensor) -> Tensor:
    return x.mean(dim=(2, 3), keepdim=True).expand_as(x)


def _float(value):
    return value.float() if torch.is_tensor(value) and value.is_floating_point() else value
