"""CSE-Autoloss's computational-validity check and convergence-property verification
(CSE-Autoloss, ICLR 2021, sections 3.2.1 and 3.2.2).

Each candidate formula is evaluated as the loss a proxy trains (:class:`ExprLoss` with
``reduction='none'``, one loss per row) on inputs the check builds itself, in float64:

- **validity**: random inputs (classification: logits ~ N(0, 3^2), random labels with
  background rows, IoU w ~ U(0, 1) on positives; regression: random ground-truth boxes and
  predictions from overlapping to disjoint). A NaN / +-Inf loss or gradient makes the
  candidate ``'invalid'``.
- **monotonicity** (classification): on a grid of logits t, the loss of a row must not
  increase as its ground-truth class's score t grows and must not decrease as a negative
  class's score grows, and must change by more than ``min_change`` end to end. Rows of
  every class (and background, whose positive class of the softmax is the background
  column) from a fixed random base row; on these rows the IoU input is 1, the binary
  scenario of the paper (a loss taking the IoU as a soft target, as CSE-B, has its minimum
  at a score of about w, so its monotonicity in the positive score holds at w = 1).
- **convergence** (classification): the gradient magnitude w.r.t. the positive score at the
  top of the grid must be at most ``grad_ratio`` times its largest value on the grid (it
  "converges to zero" as the score goes to +inf; a linear loss keeps a ratio of 1).
- **distance-loss consistency** (regression): ground-truth boxes of ``box_sizes`` and
  predictions moved away from them (translations along 8 directions up to ``max_shift`` box
  sizes, scalings up and down to ``max_scale`` about the centre); the loss must not
  decrease along any path and must grow by more than ``min_change`` end to end.

A candidate failing a property is ``'non_convergent'`` with the reason. The check is
vectorised over candidates: every candidate reads its own slice of one input tensor, so one
backward pass gives all their gradients, and the properties are tensor comparisons over
all candidates at once.
"""
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ...functional.formulas import PrimitiveSet
from ...registry import FILTERS
from ...utils.checks import check_int, check_number
from ..structures import VerdictStatus
from .base import FormulaFilter, Verdict

CLS_KINDS = ('sigmoid_cls', 'softmax_cls')
#: the 8 directions of the translation paths
_DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _number(value: object, name: str, low: float, high: float = math.inf) -> float:
    return check_number(value, f'convergence.{name}', low, high)


def _int(value: object, name: str, low: int) -> int:
    return check_int(value, f'convergence.{name}', low)


@dataclass(frozen=True)
class _Path:
    """Rows ``start .. start + points`` of the grid: one path, and what must hold on it."""

    start: int
    column: int        # classification: the logit the path moves; -1 for regression
    direction: int     # -1: the loss must not increase along the path, +1: not decrease
    converges: bool    # the gradient w.r.t. ``column`` must vanish at the end
    label: str


@FILTERS.register_module()
class ConvergenceCheck(FormulaFilter):
    """The checks of the module docstring for the searched branches of a formula space.

    Args:
        branches (Mapping[str, Tuple[PrimitiveSet, str]]):
            config key -> (primitive set, branch kind), from the formula space.
        num_classes (int): foreground classes C of the classification grid (softmax rows have
            C + 1 columns, the last one background, as mmdet's R-CNN heads).
        score_range (Sequence[float]): lowest and highest logit of the grid.
        grid_points (int): points along each path.
        grad_ratio (float): the convergence bound (module docstring).
        monotone_tol (float): a step against the required direction up to this fraction of the
            path's loss range is accepted (rounding).
        min_change (float): the least end-to-end change of the loss along a path.
        box_sizes (Sequence[Sequence[float]]):
            (width, height) of the ground-truth boxes of the regression paths, in
            pixels.
        max_shift, max_scale: how far the regression paths move a prediction.
        num_random (int): rows of random inputs of the validity check.
        seed (int): draws the random inputs and the grid's base rows.
        properties (bool): False checks validity only (the vanilla evolution of the paper's
            Table 2, first row).
    """

    search_inputs = ('branches', 'seed')

    def __init__(self, branches: Mapping[str, tuple[PrimitiveSet, str]], num_classes: int = 4,
                 score_range: Sequence[float] = (-8.0, 16.0), grid_points: int = 49,
                 grad_ratio: float = 0.01, monotone_tol: float = 1e-6,
                 min_change: float = 1e-4,
                 box_sizes: Sequence[Sequence[float]] = ((32, 32), (64, 16), (12, 40)),
                 max_shift: float = 2.0, max_scale: float = 3.0, num_random: int = 256,
                 seed: int = 0, properties: bool = True) -> None:
        self.branches = dict(branches)
        self.num_classes = _int(num_classes, 'num_classes', 1)
        if not isinstance(score_range, Sequence) or len(score_range) != 2:
            raise ValueError(f'convergence.score_range must be (low, high), got {score_range!r}')
        low = _number(score_range[0], 'score_range[0]', -100, 100)
        high = _number(score_range[1], 'score_range[1]', -100, 100)
        if not high > max(low, 0):
            raise ValueError(f'convergence.score_range must rise to a positive logit, got '
                             f'{score_range!r}')
        self.score_range = (low, high)
        self.grid_points = _int(grid_points, 'grid_points', 3)
        self.grad_ratio = _number(grad_ratio, 'grad_ratio', 0, 1)
        self.monotone_tol = _number(monotone_tol, 'monotone_tol', 0, 1)
        self.min_change = _number(min_change, 'min_change', 0)
        if not isinstance(box_sizes, Sequence) or not box_sizes or any(
                not isinstance(s, Sequence) or len(s) != 2 for s in box_sizes):
            raise ValueError(f'convergence.box_sizes must be a list of (width, height), got '
                             f'{box_sizes!r}')
        self.box_sizes = [(_number(w, 'box_sizes', 1e-3), _number(h, 'box_sizes', 1e-3))
                          for w, h in box_sizes]
        self.max_shift = _number(max_shift, 'max_shift', 1e-3)
        self.max_scale = _number(max_scale, 'max_scale', 1 + 1e-3)
        self.num_random = _int(num_random, 'num_random', 1)
        self.seed = _int(seed, 'seed', 0)
        if not isinstance(properties, bool):
            raise ValueError(f'convergence.properties must be True or False, got '
                             f'{properties!r}')
        self.properties = properties
        for key, (_, kind) in self.branches.items():
            if kind not in CLS_KINDS + ('box', ):
                raise ValueError(f'the convergence check covers classification and box '
                                 f'regression branches, not {kind!r} (key {key!r})')
        self._inputs: dict[str, tuple] = {}

    # -- inputs ------------------------------------------------------------------------
    def _cls_inputs(self, kind: str) -> tuple:
        """Grid rows then random rows: logits, labels, IoU, the paths, the grid size."""
        if kind in self._inputs:
            return self._inputs[kind]
        gen = torch.Generator().manual_seed(self.seed)
        sigmoid = kind == 'sigmoid_cls'
        columns = self.num_classes if sigmoid else self.num_classes + 1
        background = self.num_classes
        grid = torch.linspace(*self.score_range, self.grid_points, dtype=torch.float64)
        rows, labels, paths = [], [], []
        # positive score: every class of a foreground row (and the background column of a
        # background row for softmax)
        classes = list(range(self.num_classes)) + ([] if sigmoid else [background])
        for g in classes:
            base = torch.randn(columns, generator=gen, dtype=torch.float64)
            paths.append(_Path(len(rows), g, -1, True, f'the score of its class {g}'))
            for t in grid:
                row = base.clone()
                row[g] = t
                rows.append(row)
                labels.append(g)
        # negative score: another class of each foreground row and of a background row
        for g in list(range(self.num_classes)) + [background]:
            j = (g + 1) % self.num_classes if g < self.num_classes else 0
            base = torch.randn(columns, generator=gen, dtype=torch.float64)
            what = 'background' if g == background else f'class {g}'
            paths.append(_Path(len(rows), j, +1, False,
                               f'the score of class {j} on a {what} row'))
            for t in grid:
                row = base.clone()
                row[j] = t
                rows.append(row)
                labels.append(g)
        logits = torch.stack(rows)
        grid_rows = len(rows)
        random_logits = 3 * torch.randn(self.num_random, columns, generator=gen,
                                        dtype=torch.float64)
        random_labels = torch.randint(0, background + 1, (self.num_random, ), generator=gen)
        logits = torch.cat([logits, random_logits])
        labels = torch.cat([torch.tensor(labels), random_labels])
        iou = torch.cat([torch.ones(grid_rows, dtype=torch.float64),
                         torch.rand(self.num_random, generator=gen, dtype=torch.float64)])
        self._inputs[kind] = (logits, labels, iou, paths, grid_rows)
        return self._inputs[kind]

    def _box_inputs(self) -> tuple:
        """Grid rows then random rows: predictions, targets, the paths, the grid size."""
        if 'box' in self._inputs:
            return self._inputs['box']
        gen = torch.Generator().manual_seed(self.seed)
        steps = torch.linspace(0, 1, self.grid_points, dtype=torch.float64)
        preds, targets, paths = [], [], []
        for w, h in self.box_sizes:
            target = torch.tensor([100.0, 100.0, 100.0 + w, 100.0 + h], dtype=torch.float64)
            size = torch.tensor([w, h, w, h], dtype=torch.float64)
            for dx, dy in _DIRECTIONS:
                paths.append(_Path(len(preds), -1, +1, False,
                                   f'a {w:g}x{h:g} box shifted along ({dx}, {dy})'))
                shift = torch.tensor([dx, dy, dx, dy], dtype=torch.float64) * size
                for s in steps:
                    preds.append(target + s * self.max_shift * shift)
                    targets.append(target)
            centre = (target[:2] + target[2:]) / 2
            half = (target[2:] - target[:2]) / 2
            for name, end in (('grown', self.max_scale), ('shrunk', 1 / self.max_scale)):
                paths.append(_Path(len(preds), -1, +1, False, f'a {w:g}x{h:g} box {name}'))
                for s in steps:
                    factor = 1 + s * (end - 1)
                    preds.append(torch.cat([centre - factor * half, centre + factor * half]))
                    targets.append(target)
        grid_rows = len(preds)
        # validity: boxes of 4 to 100 pixels, predictions from overlapping to disjoint
        corner = 200 * torch.rand(self.num_random, 2, generator=gen, dtype=torch.float64)
        wh = 4 + 96 * torch.rand(self.num_random, 2, generator=gen, dtype=torch.float64)
        target = torch.cat([corner, corner + wh], dim=1)
        offset = (torch.rand(self.num_random, 2, generator=gen, dtype=torch.float64) - 0.5) \
            * 3 * wh
        pred_wh = wh * (0.25 + 2 * torch.rand(self.num_random, 2, generator=gen,
                                              dtype=torch.float64))
        pred = torch.cat([corner + offset, corner + offset + pred_wh], dim=1)
        preds = torch.cat([torch.stack(preds), pred])
        targets = torch.cat([torch.stack(targets), target])
        self._inputs['box'] = (preds, targets, paths, grid_rows)
        return self._inputs['box']

    # -- the check ---------------------------------------------------------------------
    def judge_many(self, key: str, formulas: Sequence[str]) -> list[Verdict]:
        """The verdict on each formula as the loss of branch ``key``, on one thread: the
        grid's tensors are small, and intra-op threads only add synchronisation (on 2
        busy cores the check ran 50-60x slower with 2 threads than with 1)."""
        if not formulas:
            return []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._judge(key, formulas)
        finally:
            torch.set_num_threads(threads)

    def _judge(self, key: str, formulas: Sequence[str]) -> list[Verdict]:
        from mmautoloss.models.losses import ExprLoss
        pset, kind = self.branches[key]
        losses = [ExprLoss(f, pset, kind, reduction='none') for f in formulas]
        count = len(losses)
        # one leaf per candidate: a slice of a shared leaf would make every candidate's
        # backward write a gradient of the whole batch
        if kind in CLS_KINDS:
            logits, labels, iou, paths, grid_rows = self._cls_inputs(kind)
            preds = [logits.clone().requires_grad_() for _ in losses]
            values = [loss(p, labels, iou=iou).reshape(-1) for p, loss in zip(preds, losses)]
        else:
            boxes, targets, paths, grid_rows = self._box_inputs()
            preds = [boxes.clone().requires_grad_() for _ in losses]
            values = [loss(p, targets).reshape(-1) for p, loss in zip(preds, losses)]
        value = torch.stack(values)                                    # (K, rows)
        total = torch.where(torch.isfinite(value), value, 0).sum()
        grads = torch.autograd.grad(total, preds, allow_unused=True)
        grad = torch.stack([torch.zeros_like(p) if g is None else g
                            for p, g in zip(preds, grads)])
        finite = torch.isfinite(value).all(1) & torch.isfinite(grad).flatten(1).all(1)
        uses_gradient = grad[:, :grid_rows].flatten(1).abs().amax(1) > 0
        failures = self._property_failures(value.detach(), grad, paths) \
            if self.properties else [''] * count
        verdicts = []
        for k in range(count):
            if not bool(finite[k]):
                verdicts.append(Verdict(VerdictStatus.INVALID, 'NaN or Inf loss or gradient'))
            elif self.properties and not bool(uses_gradient[k]):
                verdicts.append(Verdict(VerdictStatus.NON_CONVERGENT, 'no gradient'))
            elif failures[k]:
                verdicts.append(Verdict(VerdictStatus.NON_CONVERGENT, failures[k]))
            else:
                verdicts.append(Verdict(VerdictStatus.ACCEPTED))
        return verdicts

    def _property_failures(self, value: Tensor, grad: Tensor, paths: list[_Path]) -> list[str]:
        """Per candidate, the first property that fails on the first path where one fails
        ('' when all hold); computed for all candidates and paths at once."""
        points = self.grid_points
        index = torch.stack([torch.arange(p.start, p.start + points) for p in paths])
        direction = torch.tensor([float(p.direction) for p in paths], dtype=value.dtype)
        curve = value[:, index] * direction[:, None]                  # (K, paths, points)
        steps = curve[..., 1:] - curve[..., :-1]                      # must not decrease
        spread = curve.amax(-1) - curve.amin(-1)
        monotone = (steps >= -self.monotone_tol * spread.unsqueeze(-1)).all(-1)
        changes = curve[..., -1] - curve[..., 0] > self.min_change
        columns = torch.tensor([max(p.column, 0) for p in paths])
        slope = grad[:, index, columns[:, None]].abs()                # (K, paths, points)
        vanishes = slope[..., -1] <= self.grad_ratio * slope.amax(-1)
        must_vanish = torch.tensor([p.converges for p in paths])
        # 0 holds, 1 not monotone, 2 no end-to-end change, 3 gradient does not vanish
        code = torch.where(~monotone, 1, torch.where(~changes, 2, torch.where(
            must_vanish & ~vanishes, 3, 0)))
        first = (code > 0).int().argmax(1)
        codes = code.gather(1, first[:, None]).squeeze(1).tolist()
        failures = []
        for code_k, path_k in zip(codes, first.tolist()):
            path = paths[path_k]
            trend = 'decrease' if path.direction < 0 else 'increase'
            failures.append(['', f'the loss does not {trend} monotonically with {path.label}',
                             f'the loss does not {trend} with {path.label}',
                             f'the gradient does not vanish as {path.label} grows'][code_k])
        return failures
