"""Parameterized AP Loss, PAP (NeurIPS 2021) eq. (6), without the N x P pair matrix.

Eq. (6) of the paper reads ``L = -(1/|P|) sum_{i in B} T_i`` with

    T_i = f(l_i; th1) - [ sum_{j != i} f(d_ji; th2) (1 - f(l_j; th3)) ]
                        / [ 1 + sum_{j != i} sg(f(d_ji; th4)) ] * f(l_i; th5),

``d_ji = (clip(s_j - s_i, -1, 1) + 1) / 2`` (section 4.1), ``l`` the localization score of
eq. (4) (0 for negatives) and ``sg`` the stop-gradient of appendix A.1. With every ``f``
replaced by the Heaviside step of eq. (3), ``(1/|P|) sum T_i`` is the AP of eq. (1)-(2), so
the paper's ``L`` is ``-AP``. This module returns ``1 + L = 1 - (1/|P|) sum T_i``: the same
gradients, and exactly ``1 - AP`` at step functions. Because every ``f`` has ``f(0) = 0``,
the terms of negative ``i`` (``l_i = 0``) vanish and only positives are summed.

Each ``f`` is piecewise linear (eq. 7); segment ``k`` from ``(a_k, y_k)`` to ``(b_k, y_k+1)``
contributes ``slope_k * (min(d, b_k) - a_k)`` when ``d > a_k`` (or a jump ``y_k+1 - y_k`` when
``a_k = b_k``: f is left-continuous, but a jump at x = 1 fires at d = 1, so f(1) = 1). With
the scores sorted once, the ``j`` whose ``d_ji`` falls in ``(a_k, b_k]`` are a contiguous run
found by binary search at ``s_i + 2 a_k - 1``; their count and score sum come from prefix
sums. The cost is O((N + P M) log N) time and O(N + P M) memory, for N
scores, P positives and M segments, and the result (value and gradient) is that of the dense
formula, j = i excluded exactly, ties included. Sums are accumulated in float64.
"""

import torch
from torch import Tensor

from ..utils.checks import check_int
from .piecewise_linear import linear_slopes, piecewise_linear

#: Order of the five functions in ``knots``: the released format (``ctrl_points[0..4]`` of the
#: authors' paploss.py).
FUNCTION_NAMES = ('f(s_j - s_i; theta2)', 'f(l(b_j); theta3)', 'f(l(b_i); theta5)',
                  'f(l(b_i); theta1)', 'f(s_j - s_i; theta4)')
RANK_NUMERATOR, LOC_NEGATIVE, LOC_FRACTION, LOC_FIRST, RANK_DENOMINATOR = range(5)


def check_knots(knots: Tensor, name: str = 'knots') -> None:
    """Raise ``ValueError`` naming ``name`` unless ``knots`` holds five valid functions.

    ``knots`` has shape (5, M + 1, 2): full knots from (0, 0) to (1, 1) of each function,
    finite, inside [0, 1] and non-decreasing in x and y (PAP eq. 7-8 constraints).
    """
    if not torch.is_tensor(knots) or not torch.is_floating_point(knots):
        raise ValueError(f'{name} must be a floating tensor, got {type(knots).__name__}')
    if knots.dim() != 3 or knots.shape[0] != 5 or knots.shape[1] < 2 or knots.shape[2] != 2:
        raise ValueError(f'{name} must have shape (5, M + 1, 2), got {tuple(knots.shape)}')
    if not torch.isfinite(knots).all():
        raise ValueError(f'{name} must be finite, got {knots.tolist()}')
    if knots.min() < 0 or knots.max() > 1:
        raise ValueError(f'{name} must lie in [0, 1], got {knots.tolist()}')
    for index, knot in enumerate(knots):
        if knot[0].tolist() != [0.0, 0.0] or knot[-1].tolist() != [1.0, 1.0]:
            raise ValueError(f'{name}[{index}] ({FUNCTION_NAMES[index]}) must start at (0, 0) '
                             f'and end at (1, 1), got {knot.tolist()}')
        if (knot[1:] < knot[:-1]).any():
            raise ValueError(f'{name}[{index}] ({FUNCTION_NAMES[index]}) must be '
                             f'non-decreasing in x and y, got {knot.tolist()}')


def _raise_first_bad(name: str, values: Tensor, bad: Tensor, requirement: str) -> None:
    """Raise ``ValueError`` naming ``name`` and its first entry where ``bad`` holds."""
    if bad.any():
        first = int(bad.flatten().nonzero()[0])
        raise ValueError(f'{name} must be {requirement}, got {values.flatten()[first].item()} '
                         f'at flat index {first} ({int(bad.sum())} bad entries)')


class PositiveCountError(ValueError):
    """``pos_loc`` does not hold one localization score per positive of ``pos_mask``."""


def _positives(scores: Tensor, pos_mask: Tensor, pos_loc: Tensor, knots: Tensor,
               validate: bool) -> Tensor:
    """The positives' indices, after checking shapes and types; with ``validate`` also the
    values (finite scores, ``pos_loc`` in [0, 1], valid knots), which reads them back from
    the device (``ParamAPLoss`` does it only with ``debug=True``). The indices themselves
    (``nonzero``, the only read-back the surrogate needs) give the number of positives."""
    if not torch.is_tensor(scores) or scores.dim() != 1 or not scores.is_floating_point():
        raise ValueError(f'scores must be a 1-D floating tensor (N,), got '
                         f'{getattr(scores, "shape", type(scores).__name__)}')
    if not torch.is_tensor(pos_mask) or pos_mask.dtype != torch.bool or \
            pos_mask.shape != scores.shape:
        raise ValueError(f'pos_mask must be a bool tensor of shape {tuple(scores.shape)}, got '
                         f'{getattr(pos_mask, "dtype", type(pos_mask).__name__)} '
                         f'{tuple(getattr(pos_mask, "shape", ()))}')
    pos_index = pos_mask.nonzero().squeeze(1)
    num_pos = pos_index.numel()
    if not torch.is_tensor(pos_loc) or pos_loc.shape != (num_pos, ):
        raise PositiveCountError(f'pos_loc must have shape ({num_pos},) (one score per '
                                 f'positive of pos_mask), got '
                                 f'{tuple(getattr(pos_loc, "shape", ()))}')
    if validate:
        _raise_first_bad('scores', scores.detach(), ~torch.isfinite(scores), 'finite')
        _raise_first_bad('pos_loc', pos_loc.detach(), ~((pos_loc >= 0) & (pos_loc <= 1)),
                         'inside [0, 1]')
        check_knots(knots)
    return pos_index


def _segments(knot: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Left ends a_k, widths b_k - a_k, slopes and jumps (zero width) of the M segments.

    f is left-continuous, so a jump at a_k < 1 fires for d > a_k; a jump at x = 1 fires for
    d = 1 (the end point f(1) = 1 of eq. 7, as in :func:`piecewise_linear`).
    """
    knot_x, knot_y = knot[:, 0], knot[:, 1]
    left, width = knot_x[:-1], knot_x[1:] - knot_x[:-1]
    jump = torch.where(width == 0, knot_y[1:] - knot_y[:-1], torch.zeros_like(width))
    return left, width, linear_slopes(knot_x, knot_y), jump


def _pairwise_rank_sum(sorted_scores: Tensor, sorted_weights: Tensor, anchors: Tensor,
                       anchor_weights: Tensor, knot: Tensor) -> Tensor:
    """``sum_{j != i} w_j f(d_ji)`` for every anchor ``i``, via binary search and prefix sums.

    Args:
        sorted_scores (Tensor): (N,) all scores in ascending order.
        sorted_weights (Tensor): (N,) ``w_j`` in the same order.
        anchors (Tensor):
            (P,) the scores ``s_i`` of the anchors (each also present in sorted_scores).
        anchor_weights (Tensor): (P,) ``w_i`` of the anchors, to remove the ``j = i`` term.
        knot (Tensor): (M + 1, 2) knots of ``f``.

    Returns:
        (P,) the sums, differentiable w.r.t. all four tensor inputs but ``knot``.
    """
    left, width, slope, jump = _segments(knot)
    # d_ji > x  <=>  s_j > s_i + 2x - 1 for x in [0, 1), the clip of eq. (6) included.
    thresholds = anchors.detach()[:, None] + (2 * knot[:, 0] - 1)
    sorted_detached = sorted_scores.detach().contiguous()
    count_le = torch.searchsorted(sorted_detached, thresholds.contiguous(), right=True)
    # d_ji = 1 <=> s_j >= s_i + 1 (the last knot is x = 1): where jumps at x = 1 fire
    count_below_end = torch.searchsorted(sorted_detached, thresholds[:, -1:].contiguous())
    zero = sorted_weights.new_zeros(1)
    prefix_w = torch.cat([zero, sorted_weights.cumsum(0)])
    prefix_ws = torch.cat([zero, (sorted_weights * sorted_scores).cumsum(0)])
    weight_le, weighted_score_le = prefix_w[count_le], prefix_ws[count_le]
    total = prefix_w[-1]
    # j with a_k < d_ji <= b_k contribute w_j (d_ji - a_k), with d_ji = (s_j - s_i + 1) / 2;
    # j with d_ji > b_k contribute w_j (b_k - a_k); jumps count every j with d_ji > a_k,
    # or with d_ji = 1 for a jump at a_k = 1.
    at_end = left >= 1
    window_w = weight_le[:, 1:] - weight_le[:, :-1]
    window_ws = weighted_score_le[:, 1:] - weighted_score_le[:, :-1]
    ramp = 0.5 * (window_ws - anchors[:, None] * window_w) + (0.5 - left) * window_w + \
        width * (total - weight_le[:, 1:])
    weight_not_fired = torch.where(at_end, prefix_w[count_below_end], weight_le[:, :-1])
    pair_sum = (slope * ramp + jump * (total - weight_not_fired)).sum(1)
    # The j = i term (d_ii = 1/2) was counted by the same comparisons; take it out.
    own = anchors.detach()[:, None]
    above = own > thresholds
    in_window = above[:, :-1] & ~above[:, 1:]
    fired = torch.where(at_end, own >= thresholds[:, -1:], above[:, :-1])
    own_value = (slope * (in_window * (0.5 - left) + above[:, 1:] * width) +
                 jump * fired).sum(1)
    return pair_sum - anchor_weights * own_value


def _pair_inputs(scores: Tensor, pos_index: Tensor, pos_loc: Tensor, knots: Tensor):
    """What both forms of eq. (6) start from, in float64: the scores, the positives'
    localization scores and indices, ``f(index, x)`` of the five functions, the positives'
    weights ``1 - f(l_i; th3)`` and every score's weight (1 for negatives)."""
    scores64, loc = scores.double(), pos_loc.double()
    knots = knots.to(device=scores.device, dtype=torch.float64)

    def f(index: int, x: Tensor) -> Tensor:
        return piecewise_linear(x, knots[index, :, 0], knots[index, :, 1])

    weight_pos = 1 - f(LOC_NEGATIVE, loc)
    weights = torch.ones_like(scores64).index_put((pos_index, ), weight_pos)
    return scores64, loc, pos_index, f, weight_pos, weights


def param_ap_surrogate(scores: Tensor, pos_mask: Tensor, pos_loc: Tensor,
                       knots: Tensor, validate: bool = True) -> Tensor:
    """``1 - (1/|P|) sum_i T_i`` of PAP eq. (6); equals ``1 - AP`` (eq. 1-2) at step functions.

    Args:
        scores (Tensor): (N,) classification logits of every (anchor-or-query, class) pair.
        pos_mask (Tensor): (N,) bool, the positives P of the detector's assigner.
        pos_loc (Tensor):
            (P,) localization scores ``l(b_i)`` in [0, 1] of the positives, in the order
            of ``pos_mask.nonzero()`` (eq. 4; negatives have l = 0 implicitly).
        knots (Tensor):
            (5, M + 1, 2) full knots of the five functions, order :data:`FUNCTION_NAMES`.
        validate (bool): check the values of the inputs and the knots (see :func:`_positives`).

    Returns:
        Scalar in the dtype of ``scores`` (at least float32). With no positive it is 0 and
        every gradient is 0. The gradient of the denominator term is blocked (appendix A.1).
    """
    pos_index = _positives(scores, pos_mask, pos_loc, knots, validate)
    out_dtype = torch.promote_types(scores.dtype, torch.float32)
    if not pos_index.numel():
        return (scores.sum() + pos_loc.sum()).to(out_dtype) * 0
    scores64, loc, pos_index, f, weight_pos, weights = _pair_inputs(scores, pos_index,
                                                                     pos_loc, knots)
    knots = knots.to(device=scores.device, dtype=torch.float64)
    sorted_scores, order = scores64.sort()
    anchors = scores64[pos_index]
    numerator = _pairwise_rank_sum(sorted_scores, weights[order], anchors, weight_pos,
                                   knots[RANK_NUMERATOR])
    with torch.no_grad():
        denominator = 1 + _pairwise_rank_sum(sorted_scores, torch.ones_like(sorted_scores),
                                             anchors, torch.ones_like(anchors),
                                             knots[RANK_DENOMINATOR])
    terms = f(LOC_FIRST, loc) - numerator / denominator * f(LOC_FRACTION, loc)
    return (1 - terms.mean()).to(out_dtype)


#: the release's default number of candidate scores (``num_topk``)
RELEASE_TOPK = 100000


def param_ap_surrogate_release(scores: Tensor, pos_mask: Tensor, pos_loc: Tensor,
                               knots: Tensor, num_topk: int = RELEASE_TOPK,
                               validate: bool = True) -> Tensor:
    """PAP eq. (6) in the arithmetic of the authors' public release.

    fundamentalvision/Parameterized-AP-Loss, ``mmdet/models/losses/paploss.py``, written
    here independently. The candidates S are the ``num_topk`` highest scores of the batch
    (all of them when there are fewer), and for every positive i::

        loss_i = (1 - f(l_i; th1)) + f(l_i; th5) sum_{j in S} f(d_ji; th2) (1 - f(l_j; th3))
                                                 / sum_{j in S} sg(f(d_ji; th4))

    summed and divided by ``|P| + 1e-8``. Unlike :func:`param_ap_surrogate` the sums include
    the pair j = i whenever i is among the candidates (d_ii = 1/2: numerator term
    ``f(0.5; th2)(1 - f(l_i; th3))``, denominator term ``f(0.5; th4)``) and there is no
    separate 1 in the denominator, so at step functions it is not ``1 - AP``. The same sorted
    prefix sums give the O((N + P M) log N) cost (top-k selection is a partial sort); a zero
    denominator is raised to 1e-12 where the release would divide by zero.
    """
    check_int(num_topk, 'num_topk', 1, expected='a positive int')
    pos_index = _positives(scores, pos_mask, pos_loc, knots, validate)
    out_dtype = torch.promote_types(scores.dtype, torch.float32)
    if not pos_index.numel():
        return (scores.sum() + pos_loc.sum()).to(out_dtype) * 0
    scores64, loc, pos_index, f, weight_pos, weights = _pair_inputs(scores, pos_index,
                                                                     pos_loc, knots)
    knots = knots.to(device=scores.device, dtype=torch.float64)
    if scores64.numel() > num_topk:
        _, chosen = scores64.detach().topk(num_topk)
        candidates, candidate_weights = scores64[chosen], weights[chosen]
    else:
        candidates, candidate_weights = scores64, weights
    sorted_scores, order = candidates.sort()
    anchors = scores64[pos_index]
    no_self = torch.zeros_like(anchors)  # the j = i pair stays in both sums
    numerator = _pairwise_rank_sum(sorted_scores, candidate_weights[order], anchors, no_self,
                                   knots[RANK_NUMERATOR])
    with torch.no_grad():
        denominator = _pairwise_rank_sum(sorted_scores, torch.ones_like(sorted_scores),
                                         anchors, no_self, knots[RANK_DENOMINATOR])
    terms = (1 - f(LOC_FIRST, loc)) + f(LOC_FRACTION, loc) * numerator / \
        denominator.clamp_min(1e-12)
    return (terms.sum() / (len(anchors) + 1e-8)).to(out_dtype)
