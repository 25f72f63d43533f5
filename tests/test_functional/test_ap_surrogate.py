"""PAP eq. (6) (:func:`param_ap_surrogate`) against a dense N x N reference and exact AP.

The dense reference below builds the full pair matrix, masks j = i explicitly, evaluates the
piecewise linear functions with its own segment masks and detaches the denominator
(appendix A.1); it sums over every i in B, negatives included. The AP reference sorts the
scores and averages the precision at each positive (eq. 1).
"""

import pytest
import torch

from mmautoloss.functional.ap_surrogate import param_ap_surrogate

STEP_AT_HALF = [[0, 0], [0.25, 0], [0.5, 0], [0.5, 1], [0.75, 1], [1, 1]]  # H(s_j - s_i)
STEP_AT_ZERO = [[0, 0], [0, 1], [0.25, 1], [0.5, 1], [0.75, 1], [1, 1]]  # H(l)


def step_knots() -> torch.Tensor:
    """Eq. (5): every f an exact Heaviside step, in the order of FUNCTION_NAMES."""
    return torch.tensor([STEP_AT_HALF, STEP_AT_ZERO, STEP_AT_ZERO, STEP_AT_ZERO, STEP_AT_HALF],
                        dtype=torch.float64)


def linear_by_masks(x: torch.Tensor, knot: torch.Tensor) -> torch.Tensor:
    """Left-continuous piecewise linear function: segment k owns (x_k, x_k+1]; f(0) = 0 and
    f(1) = 1 (the end points of eq. 7, also with a jump at x = 1)."""
    value = torch.zeros_like(x)
    for k in range(knot.shape[0] - 1):
        (x0, y0), (x1, y1) = knot[k].tolist(), knot[k + 1].tolist()
        if x1 > x0:
            inside = (x > x0) & (x <= x1)
            value = torch.where(inside, y0 + (y1 - y0) / (x1 - x0) * (x - x0), value)
    return torch.where(x >= 1, torch.ones_like(value), value)


def dense_pap(scores: torch.Tensor, pos_mask: torch.Tensor, pos_loc: torch.Tensor,
              knots: torch.Tensor) -> torch.Tensor:
    """1 - (1/|P|) sum_{i in B} T_i of eq. (6) with the explicit N x N matrix."""
    num = scores.numel()
    loc = torch.zeros(num, dtype=pos_loc.dtype).index_put((pos_mask.nonzero()[:, 0], ),
                                                          pos_loc)
    diff = scores[None, :] - scores[:, None]  # [i, j] = s_j - s_i
    d = (diff.clamp(-1, 1) + 1) / 2
    not_self = ~torch.eye(num, dtype=torch.bool)
    rank = linear_by_masks(d, knots[0]) * not_self
    rank_den = linear_by_masks(d, knots[4]).detach() * not_self
    numerator = (rank * (1 - linear_by_masks(loc, knots[1]))[None, :]).sum(1)
    denominator = 1 + rank_den.sum(1)
    terms = linear_by_masks(loc, knots[3]) - numerator / denominator * \
        linear_by_masks(loc, knots[2])
    return 1 - terms.sum() / pos_mask.sum()


def average_precision(scores: list[float], positive: list[bool]) -> float:
    """Eq. (1): mean over positives of (#positives at or above) / (#all at or above)."""
    ranked = sorted(zip(scores, positive), key=lambda pair: -pair[0])
    hits, precisions = 0, []
    for rank, (_, is_pos) in enumerate(ranked, start=1):
        if is_pos:
            hits += 1
            precisions.append(hits / rank)
    return sum(precisions) / len(precisions)


def random_knots(generator: torch.Generator, num_segments: int = 5) -> torch.Tensor:
    """Five random monotone functions, each with one vertical jump and one flat piece."""
    knots = []
    for _ in range(5):
        xs = torch.rand(num_segments - 1, generator=generator, dtype=torch.float64).sort()[0]
        ys = torch.rand(num_segments - 1, generator=generator, dtype=torch.float64).sort()[0]
        xs[2] = xs[1]  # jump
        ys[3] = ys[2]  # flat
        knot = torch.stack([xs, ys], 1)
        knots.append(torch.cat([knot.new_zeros(1, 2), knot, knot.new_ones(1, 2)]))
    return torch.stack(knots)


def random_problem(seed: int, num: int, num_pos: int):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(num, generator=generator, dtype=torch.float64) * 1.5
    scores[10:16] = scores[3]  # ties, across positives and negatives
    scores[0], scores[20:23] = 0.5, 1.5  # differences exactly at the clip boundary +-1
    pos_mask = torch.zeros(num, dtype=torch.bool)
    pos_mask[torch.randperm(num, generator=generator)[:num_pos]] = True
    pos_mask[[3, 10, 12]] = True
    pos_loc = torch.rand(int(pos_mask.sum()), generator=generator, dtype=torch.float64)
    return scores, pos_mask, pos_loc, random_knots(generator)


def assert_matches_dense(scores, pos_mask, pos_loc, knots):
    """Value and gradients (scores, pos_loc) equal the dense reference's; returns the fast ones."""
    results = []
    for fn in (param_ap_surrogate, dense_pap):
        s = scores.clone().requires_grad_()
        loc = pos_loc.clone().requires_grad_()
        value = fn(s, pos_mask, loc, knots)
        value.backward()
        results.append((value.detach(), s.grad, loc.grad))
    for fast, dense in zip(*results):
        torch.testing.assert_close(fast, dense, rtol=0, atol=1e-10)
    return results[0]


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_value_and_gradients_match_dense(seed):
    _, grad_scores, grad_loc = assert_matches_dense(*random_problem(seed, num=60, num_pos=12))
    assert grad_scores.abs().sum() > 0 and grad_loc.abs().sum() > 0


def test_jumps_at_one_match_dense():
    """A jump at x = 1 fires at d_ji = 1 (s_j - s_i >= 1) and at l = 1: f(1) = 1 (eq. 7)."""
    scores, pos_mask, pos_loc, knots = random_problem(6, num=60, num_pos=12)
    knots[:, -2, 0] = 1  # last interior knot at x = 1: a vertical jump up to (1, 1)
    pos_loc[:3] = 1  # perfect boxes: l = 1 hits the jump of the localization functions
    assert ((scores[None] - scores[:, None]) >= 1).any()
    assert_matches_dense(scores, pos_mask, pos_loc, knots)


def test_identity_functions_float32_match_dense():
    scores, pos_mask, pos_loc, _ = random_problem(3, num=200, num_pos=30)
    identity = torch.linspace(0, 1, 6, dtype=torch.float64)[:, None].repeat(5, 1, 2).reshape(
        5, 6, 2)
    s = scores.float().requires_grad_()
    value = param_ap_surrogate(s, pos_mask, pos_loc.float(), identity)
    value.backward()
    ref_s = scores.clone().requires_grad_()
    reference = dense_pap(ref_s, pos_mask, pos_loc, identity)
    reference.backward()
    assert value.dtype == torch.float32
    torch.testing.assert_close(value.double(), reference.detach(), rtol=0, atol=1e-5)
    torch.testing.assert_close(s.grad.double(), ref_s.grad, rtol=0, atol=1e-5)


@pytest.mark.parametrize('seed', [0, 1])
def test_step_functions_give_one_minus_ap(seed):
    generator = torch.Generator().manual_seed(seed)
    num = 80
    scores = torch.randperm(num, generator=generator).double() / 7.0 - 5  # distinct
    pos_mask = torch.rand(num, generator=generator) < 0.3
    pos_loc = torch.ones(int(pos_mask.sum()), dtype=torch.float64)  # perfect localization
    loss = param_ap_surrogate(scores, pos_mask, pos_loc, step_knots())
    expected = 1 - average_precision(scores.tolist(), pos_mask.tolist())
    assert abs(loss.item() - expected) < 1e-12
    assert 0 < expected < 1


def test_step_functions_with_ties_match_dense():
    scores, pos_mask, pos_loc, _ = random_problem(4, num=50, num_pos=10)
    scores = scores.round()  # many ties, so d_ji = 1/2 hits the jump of the step
    loss = param_ap_surrogate(scores, pos_mask, pos_loc, step_knots())
    torch.testing.assert_close(loss, dense_pap(scores, pos_mask, pos_loc, step_knots()),
                               rtol=0, atol=1e-12)


def test_zero_positives_is_finite_zero():
    scores = torch.randn(20, dtype=torch.float64, requires_grad=True)
    pos_loc = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    loss = param_ap_surrogate(scores, torch.zeros(20, dtype=torch.bool), pos_loc, step_knots())
    loss.backward()
    assert loss.item() == 0
    assert torch.equal(scores.grad, torch.zeros(20, dtype=torch.float64))


@pytest.mark.parametrize('change, message', [
    (lambda a: a.update(scores=a['scores'].reshape(2, -1)), 'scores'),
    (lambda a: a['scores'].__setitem__(0, float('nan')), 'scores'),
    (lambda a: a.update(pos_mask=a['pos_mask'].float()), 'pos_mask'),
    (lambda a: a.update(pos_loc=a['pos_loc'][:-1]), 'pos_loc'),
    (lambda a: a['pos_loc'].__setitem__(0, 1.5), 'pos_loc'),
    (lambda a: a.update(knots=a['knots'][:4]), 'knots'),
    (lambda a: a['knots'].__setitem__((2, 0, 1), 0.1), r'knots\[2\]'),
    (lambda a: a['knots'].__setitem__((1, 2, 0), 0.9), r'knots\[1\]'),
    (lambda a: a['knots'].__setitem__((4, 3, 1), -0.5), 'knots'),
])
def test_bad_inputs_raise_naming_them(change, message):
    scores, pos_mask, pos_loc, knots = random_problem(5, num=30, num_pos=5)
    args = dict(scores=scores, pos_mask=pos_mask, pos_loc=pos_loc, knots=knots)
    change(args)
    with pytest.raises(ValueError, match=message):
        param_ap_surrogate(**args)
