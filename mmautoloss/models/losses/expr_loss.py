"""``ExprLoss``: a formula loss (AutoLoss-Zero eq. 3-4, CSE-Autoloss section 3.1) as an
OpenMMLab loss for every branch the formula searches touch.

The formula's output o (N, C, H, W) is summed over channels (ALZ eq. 3: "we do not
normalize among the channel dimension, following the common practice of the cross-entropy
loss"; ``channel_reduction='mean'`` averages instead, as mmpose's ``KeypointMSELoss``),
weighted per location and reduced as mmdet's / mmseg's ``weight_reduce_loss`` does: with
``avg_factor`` the sum divided by it, else the mean over locations. Several branches of a
model add up, which is eq. (4).

Calling conventions (``branch``):

- ``'seg'``: mmseg decode heads, ``loss(seg_logits, seg_label, weight=None,
  ignore_index=255)``; prediction = softmax probabilities (``P`` of the ALZ set: the
  discovered losses of ALZ Table 8 take logs and roots of y-hat, so y-hat is a
  probability), ignored pixels contribute nothing and count in the mean only with
  ``avg_non_ignore=False`` (mmseg's default);
- ``'sigmoid_cls'`` / ``'softmax_cls'``: mmdet classification, ``loss(cls_score, labels,
  label_weights, avg_factor=...)``; sigmoid with labels == C for background (one-stage,
  RPN), softmax over C + 1 columns (R-CNN); the ALZ set sees a sigmoid prediction as the
  softmax over foreground / background (2C columns, a per-element weight applies to both
  of an element's columns); the IoU input ``w`` comes as ``iou=`` from the
  heads of ``models/roi_heads/iou_bbox_head.py`` and ``models/dense_heads/iou_*``;
- ``'box'``: mmdet regression on decoded boxes, ``loss(pred, target, weight, avg_factor)``,
  inputs intersection / union / enclosing area; a (N, 4) weight is averaged per box (mmdet's
  ``GIoULoss`` does the same);
- ``'mask'``: Mask R-CNN's ``FCNMaskHead``, ``loss(mask_pred, mask_targets, labels)``
  (mmdet passes the RoI labels as the third argument), sigmoid of the label's channel (the
  ALZ set: foreground / background, two channels);
- ``'heatmap'``: mmpose heatmap heads, ``loss(output, target, target_weights)`` with one
  weight per keypoint; the prediction is the raw heatmap.
"""
from collections.abc import Callable

import torch
from torch import Tensor, nn

from mmautoloss.functional.formulas import PrimitiveSet, parse_formula
from mmautoloss.functional.formulas.branch_inputs import (
    box_quantities,
    cls_quantities,
    heatmap_quantities,
    mask_quantities,
    seg_quantities,
)
from mmautoloss.functional.formulas.released import RELEASED_FORMULAS
from mmautoloss.registry import MODELS
from mmautoloss.utils.checks import check_int, is_number

from .loss_weight import check_loss_weight

REDUCTIONS = ('none', 'mean', 'sum')
CHANNEL_REDUCTIONS = ('sum', 'mean')
#: mmdet / mmseg ``weight_reduce_loss`` add this to ``avg_factor``
AVG_FACTOR_EPS = torch.finfo(torch.float32).eps


def reduce_loss(loss: Tensor, weight: Tensor | None, reduction: str,
                avg_factor: float | Tensor | None) -> Tensor:
    """mmdet's / mmseg's ``weight_reduce_loss``: weight, then mean / sum, or sum divided by
    ``avg_factor`` (plus float32 eps) when it is given with ``reduction='mean'``."""
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return loss.mean() if reduction == 'mean' else loss.sum() if reduction == 'sum' \
            else loss
    if reduction == 'mean':
        return loss.sum() / (avg_factor + AVG_FACTOR_EPS)
    if reduction == 'none':
        return loss
    raise ValueError('avg_factor can not be used with reduction="sum"')


@MODELS.register_module()
class ExprLoss(nn.Module):
    """A loss written as a formula over a primitive set.

    Args:
        formula (str): a formula string in DEAP notation (``'Neg(Mul(Y,Log(P)))'``) or the name
            of a released loss (``'CSE-A/cls'``, ``'CSE-B/reg'``, ``'CEI'``, ``'FLI'``,
            ``'GIoU'``; see :mod:`mmautoloss.functional.formulas.released`), which also
            fixes ``primitive_set``, ``branch`` and ``alpha``.
        primitive_set (Union[str, dict, PrimitiveSet]):
            ``'alz'`` (ALZ Table 1), ``'cse'`` (CSE section 3.1), another
            registered set, or ``dict(base=name, operators=[...])``.
        branch (Optional[str]):
            ``'seg'``, ``'sigmoid_cls'``, ``'softmax_cls'``, ``'box'``, ``'mask'`` or
            ``'heatmap'`` (see the module docstring).
        loss_weight (float): multiplies the loss.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'`` (per location).
        channel_reduction (str): ``'sum'`` (ALZ eq. 3) or ``'mean'`` over the channels of o.
        alpha (Optional[float]):
            classification only; weights positives' elements by ``alpha`` and the others
            by ``1 - alpha`` (mmdet's focal alpha; the CSE-B release uses 0.25).
        use_sigmoid (Optional[bool]):
            read by mmdet's anchor heads to size their classifier; when given it
            must agree with ``branch``.
        ignore_index (int): ``'seg'`` only; ignored label when the head passes none.
        avg_non_ignore (bool): ``'seg'`` only; average over non-ignored pixels (mmseg's option).
        loss_name (str): key in mmseg's loss dict (must start with ``'loss_'``).
        max_depth, max_size: bounds on the formula (default: the primitive set's).
    """

    def __init__(self,
                 formula: str,
                 primitive_set: str | dict | PrimitiveSet = 'alz',
                 branch: str | None = None,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 channel_reduction: str = 'sum',
                 alpha: float | None = None,
                 use_sigmoid: bool | None = None,
                 ignore_index: int = 255,
                 avg_non_ignore: bool = False,
                 loss_name: str = 'loss_expr',
                 max_depth: int | None = None,
                 max_size: int | None = None) -> None:
        super().__init__()
        self.released = formula if formula in RELEASED_FORMULAS else None
        if self.released is not None:
            entry = RELEASED_FORMULAS[formula]
            if branch not in (None, entry.kind):
                raise ValueError(f'formula={formula!r} is a {entry.kind!r} loss, got '
                                 f'branch={branch!r}')
            formula, primitive_set, branch = entry.formula, entry.primitive_set, entry.kind
            alpha = entry.alpha if alpha is None else alpha
        if branch is None:
            raise ValueError(f'branch is required for formula={formula!r}; one of '
                             "'seg', 'sigmoid_cls', 'softmax_cls', 'box', 'mask', 'heatmap'")
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
        if channel_reduction not in CHANNEL_REDUCTIONS:
            raise ValueError(f'channel_reduction must be one of {CHANNEL_REDUCTIONS}, got '
                             f'{channel_reduction!r}')
        is_cls = branch in ('sigmoid_cls', 'softmax_cls')
        if alpha is not None and (not is_cls or not is_number(alpha) or not 0 <= alpha <= 1):
            raise ValueError(f'alpha must be None or a number in [0, 1] for a classification '
                             f'branch, got alpha={alpha!r} for branch={branch!r}')
        if use_sigmoid is not None and (not is_cls
                                        or use_sigmoid != (branch == 'sigmoid_cls')):
            raise ValueError(f'use_sigmoid={use_sigmoid!r} contradicts branch={branch!r}')
        check_int(ignore_index, 'ignore_index')
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must be a str starting with 'loss_', got {loss_name!r}")
        self.formula = parse_formula(formula, primitive_set, branch, max_depth, max_size)
        self.branch = branch
        self.use_sigmoid = branch == 'sigmoid_cls' if is_cls else None
        self.loss_weight = check_loss_weight(loss_weight)
        self.reduction = reduction
        self.channel_reduction = channel_reduction
        self.alpha = None if alpha is None else float(alpha)
        self.ignore_index = ignore_index
        self.avg_non_ignore = bool(avg_non_ignore)
        self._loss_name = loss_name
        inputs = self.formula.branch.inputs
        self._wanted = {name: inputs[name] for name in sorted(self.formula.inputs_used())}
        #: operator functions replaced by name; empty in training (the loss-rejection
        #: protocol evaluates a batch of samples each on its own through it)
        self.operator_overrides: dict[str, Callable[..., Tensor]] = {}

    @property
    def loss_name(self) -> str:
        """Key under which mmseg's decode head stores this loss."""
        return self._loss_name

    def _evaluate(self, quantities: dict[str, Tensor], shape) -> Tensor:
        inputs = {name: quantities[q] for name, q in self._wanted.items()}
        return self.formula(inputs, shape, self.operator_overrides)

    def _per_location(self, output: Tensor, shape, element_weight: Tensor | None) -> Tensor:
        output = output.expand(tuple(shape[:1]) + tuple(output.shape[1:2]) + tuple(shape[2:]))
        if element_weight is not None:
            output = output * element_weight
        reduce = output.sum if self.channel_reduction == 'sum' else output.mean
        return reduce(dim=1)

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None,
                ignore_index: int | None = None,
                iou: Tensor | None = None,
                **kwargs) -> Tensor:
        """The loss; see the module docstring for each branch's arguments."""
        if kwargs:
            raise TypeError(f'ExprLoss(branch={self.branch!r}) got unexpected arguments '
                            f'{sorted(kwargs)}')
        reduction = reduction_override or self.reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction_override must be one of {REDUCTIONS}, got '
                             f'{reduction_override!r}')
        if iou is not None and self.branch not in ('sigmoid_cls', 'softmax_cls'):
            raise ValueError(f'iou= is an input of classification branches, not {self.branch!r}')
        wanted = set(self._wanted.values())
        element_weight = None
        if self.branch == 'seg':
            ignore = self.ignore_index if ignore_index is None else ignore_index
            quantities, valid = seg_quantities(pred, target, ignore, wanted)
            shape = pred.shape
            location_weight = valid.to(pred.dtype)
            if weight is not None:
                location_weight = location_weight * weight
            if avg_factor is None and self.avg_non_ignore and reduction == 'mean':
                avg_factor = valid.sum()
        elif self.branch in ('sigmoid_cls', 'softmax_cls'):
            quantities = cls_quantities(pred, target, self.use_sigmoid, iou, wanted)
            shape = (pred.shape[0], pred.shape[1], 1, 1)
            location_weight, element_weight = None, None
            if weight is not None and weight.dim() == 2:
                element_weight = weight.reshape(shape)
            elif weight is not None:
                location_weight = weight.reshape(-1, 1, 1)
            if self.alpha is not None:
                onehot = cls_quantities(pred, target, self.use_sigmoid, None, {'onehot'})
                balance = self.alpha * onehot['onehot'] + (1 - self.alpha) * (
                    1 - onehot['onehot'])
                element_weight = balance if element_weight is None \
                    else element_weight * balance
        elif self.branch == 'box':
            if pred.shape[0] == 0:
                return pred.sum() * 0
            quantities = box_quantities(pred, target, wanted)
            shape = (pred.shape[0], 1, 1, 1)
            if weight is not None and weight.dim() > 1:
                weight = weight.mean(dim=-1)
            location_weight = None if weight is None else weight.reshape(-1, 1, 1)
        elif self.branch == 'mask':
            # mmdet's FCNMaskHead passes the RoIs' labels in the weight position
            labels = weight if weight is not None else target.new_zeros(target.shape[0])
            quantities = mask_quantities(pred, target, labels, wanted)
            shape = (pred.shape[0], 1) + tuple(pred.shape[2:])
            location_weight = None
        else:
            quantities = heatmap_quantities(pred, target, wanted)
            shape = pred.shape
            if weight is not None:
                element_weight = weight.reshape(weight.shape[0], -1, 1, 1).to(pred.dtype)
            location_weight = None
        if self.formula.branch.binary:  # foreground columns, then background columns
            shape = (shape[0], 2 * shape[1]) + tuple(shape[2:])
            if element_weight is not None:
                element_weight = element_weight.repeat(1, 2, 1, 1)
        output = self._evaluate(quantities, shape)
        loss = self._per_location(output, shape, element_weight)
        if location_weight is not None:
            location_weight = location_weight.expand_as(loss)
        return self.loss_weight * reduce_loss(loss, location_weight, reduction, avg_factor)

    def extra_repr(self) -> str:
        return (f'formula={str(self.formula)!r}, primitive_set={self.formula.pset.name!r}, '
                f'branch={self.branch!r}, loss_weight={self.loss_weight}')
