"""``ParamAPLoss``: the Parameterized AP Loss of PAP (NeurIPS 2021) as a registered module.

One loss for both detector branches (section 3.2): eq. (6) over every (anchor-or-query,
class) score of the mini-batch, the localization score l(b_i) of eq. (4) from the decoded
positive boxes, and the gradient scale lambda on the box branch. Heads gather the inputs
(see ``mmautoloss/models/dense_heads``) and call :meth:`ParamAPLoss.forward`.
"""
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from mmautoloss.functional.ap_surrogate import (
    FUNCTION_NAMES,
    RELEASE_TOPK,
    PositiveCountError,
    param_ap_surrogate,
    param_ap_surrogate_release,
)
from mmautoloss.functional.grad_scale import check_grad_scale, grad_scale, grad_scale_from_param
from mmautoloss.functional.localization_quality import LOC_MEASURES, localization_quality
from mmautoloss.functional.monotone_function import MonotoneFunction, flat_numbers
from mmautoloss.registry import MODELS
from mmautoloss.utils.checks import check_int

from .loss_weight import check_loss_weight

NUM_FUNCTIONS = len(FUNCTION_NAMES)
#: ``'paper'``: eq. (6) as printed (j != i, ``1 +`` in the denominator, every score a
#: candidate), 1 - AP at step functions (the search's default); ``'release'``: the authors'
#: public code (self pair included, top-``num_topk`` candidates), which the released
#: configs use
FORMULATIONS = ('paper', 'release')


def _functions_from_lists(functions: Sequence, num_segments: int) -> list[MonotoneFunction]:
    if isinstance(functions, (str, bytes)) or not isinstance(functions, Sequence) or \
            len(functions) != NUM_FUNCTIONS:
        raise ValueError(f'functions must be a list of {NUM_FUNCTIONS} flat point lists '
                         f'(order {FUNCTION_NAMES}), got {functions!r}')
    return [
        MonotoneFunction.from_points('linear', points, name=f'functions[{index}]',
                                     num_segments=num_segments, include_endpoints=True)
        for index, points in enumerate(functions)
    ]


def _functions_from_params(params: Sequence[float],
                           num_segments: int) -> list[MonotoneFunction]:
    per_function = MonotoneFunction.num_points('linear', num_segments) * 2
    flat = flat_numbers(params, 'params')
    if flat.numel() != NUM_FUNCTIONS * per_function:
        raise ValueError(f'params must hold {NUM_FUNCTIONS} x {per_function} = '
                         f'{NUM_FUNCTIONS * per_function} numbers for {num_segments} segments, '
                         f'got {flat.numel()}')
    return [
        MonotoneFunction.from_params(
            'linear', chunk.reshape(-1, 2),
            name=f'params[{index * per_function}:{(index + 1) * per_function}] '
            f'({FUNCTION_NAMES[index]})')
        for index, chunk in enumerate(flat.split(per_function))
    ]


def _share_of_positives(pos_mask: Tensor) -> Tensor:
    """``|P_rank| / mean_ranks |P|`` under an initialised process group (an all-reduce of
    one number, as mmdet's ``reduce_mean`` of ``avg_factor``), else 1."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()) or \
            torch.distributed.get_world_size() == 1:
        return pos_mask.new_ones((), dtype=torch.float32)
    local = pos_mask.sum().float()
    mean = local.clone()
    torch.distributed.all_reduce(mean)
    mean = mean / torch.distributed.get_world_size()
    return local / mean.clamp_min(torch.finfo(torch.float32).eps)


@MODELS.register_module()
class ParamAPLoss(nn.Module):
    """Parameterized AP Loss, PAP eq. (6), value ``1 - AP``-like (see ``ap_surrogate``).

    Args:
        functions (Optional[Sequence[Sequence[float]]]):
            the five piecewise linear functions, each a flat list of
            ``2 * (num_segments + 1)`` numbers from (0, 0) to (1, 1) inclusive, in the order
            of the authors' release (``ctrl_points[0..4]`` of their paploss.py):
            0 = f(s_j - s_i; theta2), 1 = f(l(b_j); theta3), 2 = f(l(b_i); theta5),
            3 = f(l(b_i); theta1), 4 = f(s_j - s_i; theta4).
        params (Optional[Sequence[float]]):
            alternative to ``functions``: ``5 * (num_segments - 1) * 2`` search
            parameters in [0, 1] (eq. 8), per function the interior points' (x, y) pairs.
            With neither, every f is the identity (the search's initialisation).
        num_segments (int): M, segments per function (section 4.1: 5).
        grad_scale (Optional[float]):
            lambda > 0 multiplying the box-branch gradient (section 3.2); 1 if unset.
        grad_scale_param (Optional[float]):
            alternative to ``grad_scale``: theta_lambda in [0, 1],
            ``lambda = 10 ** (2 theta_lambda - 1)``.
        loc_measure (str):
            l(b) of eq. (4): ``'giou'`` (default), ``'iou'`` or ``'l1'`` (Table 5).
        loss_weight (float): multiplies the loss value.
        formulation (str): ``'paper'`` (default) or ``'release'`` (:data:`FORMULATIONS`).
        num_topk (int): release form only, the number of highest scores kept as candidates
            (the release's 100000).
        debug (bool): also check values in ``forward`` (finite scores and boxes, localization
            scores in [0, 1]); off by default because reading values back synchronises the
            device with the host on every iteration. Shapes are always checked, and the
            functions were validated here, at construction.
        reduce_num_pos (bool): under DDP, weight each rank's loss by its share of the positives
            of all ranks (``loss * |P_rank| / mean_ranks |P|``, the normalisation mmdet's
            heads give ``avg_factor`` with ``reduce_mean``), so that DDP's gradient average
            is the gradient of the mean over every positive of the global batch. Off by
            default: the authors' release normalises by the rank's own positives (each rank's
            eq. (6) over its mini-batch; DDP then averages the per-rank means), which is what
            the released functions were searched and trained with. Without an initialised
            process group (one process) both are the same. The pairs of eq. (6) are the
            rank's own in both cases: no score is ranked against another rank's.
    """

    def __init__(self,
                 functions: Sequence[Sequence[float]] | None = None,
                 params: Sequence[float] | None = None,
                 num_segments: int = 5,
                 grad_scale: float | None = None,
                 grad_scale_param: float | None = None,
                 loc_measure: str = 'giou',
                 loss_weight: float = 1.0,
                 formulation: str = 'paper',
                 num_topk: int = RELEASE_TOPK,
                 debug: bool = False,
                 reduce_num_pos: bool = False) -> None:
        super().__init__()
        MonotoneFunction.num_points('linear', num_segments)  # validates num_segments
        if functions is not None and params is not None:
            raise ValueError('give either functions or params, not both; got '
                             f'functions={functions!r}, params={params!r}')
        if functions is not None:
            curves = _functions_from_lists(functions, num_segments)
        elif params is not None:
            curves = _functions_from_params(params, num_segments)
        else:
            curves = [MonotoneFunction.identity('linear', num_segments)] * NUM_FUNCTIONS
        if grad_scale is not None and grad_scale_param is not None:
            raise ValueError(f'give either grad_scale or grad_scale_param, not both; got '
                             f'grad_scale={grad_scale!r}, grad_scale_param={grad_scale_param!r}')
        if grad_scale_param is not None:
            self.grad_scale = grad_scale_from_param(grad_scale_param)
        else:
            self.grad_scale = check_grad_scale(1.0 if grad_scale is None else grad_scale)
        if loc_measure not in LOC_MEASURES:
            raise ValueError(f'loc_measure must be one of {LOC_MEASURES}, got {loc_measure!r}')
        if formulation not in FORMULATIONS:
            raise ValueError(f'formulation must be one of {FORMULATIONS}, got {formulation!r}')
        check_int(num_topk, 'num_topk', 1, expected='a positive int')
        for name, flag in (('debug', debug), ('reduce_num_pos', reduce_num_pos)):
            if not isinstance(flag, bool):
                raise ValueError(f'{name} must be True or False, got {flag!r}')
        self.debug = debug
        self.reduce_num_pos = reduce_num_pos
        self.formulation = formulation
        self.num_topk = num_topk
        self.num_segments = num_segments
        self.loc_measure = loc_measure
        self.loss_weight = check_loss_weight(loss_weight)
        knots = torch.stack([torch.stack(curve.knots(), 1) for curve in curves])
        self.register_buffer('knots', knots, persistent=False)

    def functions(self) -> list[list[float]]:
        """The five functions in the released flat format (end points included)."""
        return [knot.flatten().tolist() for knot in self.knots]

    def forward(self, cls_scores: Tensor, pos_mask: Tensor, pos_pred_boxes: Tensor,
                pos_gt_boxes: Tensor) -> Tensor:
        """Loss over one mini-batch.

        Args:
            cls_scores (Tensor): (N,) logits of all (anchor-or-query, class) pairs of the batch.
            pos_mask (Tensor):
                (N,) bool, True at the positives (assigned anchor x its GT class).
            pos_pred_boxes (Tensor): (P, 4) decoded predicted boxes (xyxy) of the positives, in
                the order of ``pos_mask.nonzero()``.
            pos_gt_boxes (Tensor): (P, 4) their assigned ground-truth boxes (xyxy).

        Returns:
            Scalar loss; the gradient into ``pos_pred_boxes`` is scaled by lambda.
        """
        if not torch.is_tensor(pos_mask) or pos_mask.dtype != torch.bool:
            raise ValueError(f'pos_mask must be a bool tensor, got '
                             f'{getattr(pos_mask, "dtype", type(pos_mask).__name__)}')
        if not torch.is_tensor(pos_pred_boxes) or pos_pred_boxes.dim() != 2:
            raise ValueError(f'pos_pred_boxes must be a (P, 4) tensor, got '
                             f'{getattr(pos_pred_boxes, "shape", type(pos_pred_boxes).__name__)}')
        boxes = grad_scale(pos_pred_boxes, self.grad_scale)
        loc = localization_quality(boxes, pos_gt_boxes, self.loc_measure,
                                   validate=self.debug)
        try:
            if self.formulation == 'release':
                value = param_ap_surrogate_release(cls_scores, pos_mask, loc, self.knots,
                                                   self.num_topk, self.debug)
            else:
                value = param_ap_surrogate(cls_scores, pos_mask, loc, self.knots, self.debug)
        except PositiveCountError as error:
            # the surrogate counts the positives (one localization score, so one box each)
            raise ValueError(f'pos_pred_boxes must hold one box per positive of pos_mask, '
                             f'got {pos_pred_boxes.shape[0]} boxes: {error}') from error
        if self.reduce_num_pos:
            value = value * _share_of_positives(pos_mask)
        return value * self.loss_weight

    def extra_repr(self) -> str:
        return (f'formulation={self.formulation!r}, num_segments={self.num_segments}, '
                f'grad_scale={self.grad_scale:.4g}, '
                f'loc_measure={self.loc_measure!r}, loss_weight={self.loss_weight}')
