"""The operators of ALZ Table 1 and CSE-Autoloss section 3.1, checked against their
written definitions, and the released CSE formulas against their closed forms."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmautoloss.functional.formulas import (
    BranchInputs,
    Operator,
    PrimitiveSet,
    get_primitive_set,
    parse_formula,
    register_primitive_set,
)
from mmautoloss.functional.formulas.released import RELEASED_FORMULAS


def _alz(op, *args):
    return get_primitive_set('alz').operators[op].fn(*args)


def test_alz_operators_match_table_1():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 4, generator=gen, dtype=torch.float64)
    eps = 1e-12
    assert torch.allclose(_alz('Log', x), torch.sign(x) * torch.log(x.abs() + eps))
    assert torch.allclose(_alz('Sqrt', x), torch.sign(x) * torch.sqrt(x.abs() + eps))
    assert torch.allclose(_alz('Inv', x), 1 / (x + eps))
    mean_nhw = _alz('MeanNHW', x)
    for c in range(3):
        assert torch.allclose(mean_nhw[:, c], x[:, c].mean().expand(2, 5, 4))
    assert torch.allclose(_alz('MeanC', x), x.mean(1, keepdim=True).expand_as(x))
    # 3x3 max / min over the neighbourhood inside the image (stride 1, padding 1)
    pooled, low = _alz('MaxPool', x), _alz('MinPool', x)
    assert pooled.shape == low.shape == x.shape
    for n, c, h, w in [(0, 0, 0, 0), (1, 2, 4, 3), (0, 1, 2, 1)]:
        window = x[n, c, max(h - 1, 0):h + 2, max(w - 1, 0):w + 2]
        assert pooled[n, c, h, w] == window.max() and low[n, c, h, w] == window.min()


def test_cse_leaves_are_those_of_section_3_1_and_the_release_names_are_asked_for():
    from mmautoloss.search.variation import leaf_names
    cse = get_primitive_set('cse')
    for kind in ('softmax_cls', 'sigmoid_cls'):
        assert leaf_names(cse, kind) == ['X', 'Y', 'W', '1', '2', '3']
        # DEAP's mutations draw from every terminal: no second name of the IoU
        terminals = cse.deap_set(kind).terminals[object]
        assert sorted(str(t.value) for t in terminals) == ['1', '2', '3', 'W', 'X', 'Y']
    assert leaf_names(cse, 'box') == ['I', 'U', 'E', '1', '2', '3']
    release = get_primitive_set('cse-release')
    assert set(release.branch('softmax_cls').inputs) == {'X', 'Y', 'NY', 'W', 'Z', 'Q'}
    for name in ('CSE-A/cls', 'CSE-B/cls'):
        entry = RELEASED_FORMULAS[name]
        assert entry.primitive_set == 'cse-release'
        with pytest.raises(ValueError, match='unknown name'):
            parse_formula(entry.formula, 'cse', entry.kind)


def test_cse_s_curves_are_rescaled_to_unit_range():
    cse = get_primitive_set('cse').operators
    x = torch.linspace(-60, 60, 2001, dtype=torch.float64)
    for name in ('Serf', 'Sgdf', 'Salf', 'Serfc', 'Sig'):
        y = cse[name].fn(x)
        assert y.min() >= 0 and y.max() <= 1, name
        assert abs(cse[name].fn(torch.zeros(1, dtype=torch.float64)).item() - 0.5) < 1e-12
    assert torch.allclose(cse['Sgdf'].fn(x), (2 * torch.atan(torch.tanh(math.pi * x / 8))
                                              * 2 / math.pi + 1) / 2)
    assert torch.allclose(cse['Serf'].fn(x), (torch.erf(math.sqrt(math.pi) / 4 * x) + 1) / 2)
    assert torch.isfinite(cse['Exp'].fn(torch.tensor([1000.0]))).all()
    assert cse['Log'].fn(torch.tensor([0.0], dtype=torch.float64)).item() == \
        pytest.approx(math.log(1e-20))


def _cls_inputs(seed=0, n=7, c=5):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, 1, 1, generator=gen, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, c, (n, ), generator=gen)
    y = F.one_hot(labels, c).to(torch.float64).reshape(n, c, 1, 1)
    w = torch.rand(n, 1, 1, 1, generator=gen, dtype=torch.float64)
    return x, y, w


def _check(formula_name, inputs, closed_form, shape):
    entry = RELEASED_FORMULAS[formula_name]
    formula = parse_formula(entry.formula, entry.primitive_set, entry.kind)
    value = formula({k: v for k, v in inputs.items() if k in formula.inputs_used()}, shape)
    expected = closed_form()
    assert torch.allclose(value.expand_as(expected), expected, rtol=1e-10, atol=1e-12)
    leaf = next(v for v in inputs.values() if v.requires_grad)
    grad, = torch.autograd.grad(value.sum(), leaf)
    expected_grad, = torch.autograd.grad(expected.sum(), leaf)
    assert torch.allclose(grad, expected_grad, rtol=1e-8, atol=1e-10)


def test_released_cse_a_cls_equals_closed_form():
    x, y, w = _cls_inputs()
    _check('CSE-A/cls', dict(X=x, Y=y, Z=w),
           lambda: -((1 + torch.sin(w)) * y * torch.log_softmax(x, dim=1)).sum(1, keepdim=True),
           x.shape)


def test_released_cse_b_cls_equals_closed_form():
    x, y, w = _cls_inputs(1)
    q = w * y
    sig = torch.sigmoid(x)
    serf = (torch.erf(math.sqrt(math.pi) / 2 * torch.sigmoid(1 - y) / 2) + 1) / 2
    sgdf = (2 * torch.atan(torch.tanh(math.pi * x / 8)) * 2 / math.pi + 1) / 2
    _check('CSE-B/cls', dict(X=x, Y=y, NY=1 - y, Q=q),
           lambda: -(q * (1 + serf) * torch.log(sig) + (sgdf - q) * (sig - q)
                     * torch.log(1 - sig)), x.shape)


def _box_inputs(seed=0, n=9):
    gen = torch.Generator().manual_seed(seed)
    i = torch.rand(n, 1, 1, 1, generator=gen, dtype=torch.float64) * 50 + 1
    u = i + torch.rand(n, 1, 1, 1, generator=gen, dtype=torch.float64) * 50 + 1
    e = u + torch.rand(n, 1, 1, 1, generator=gen, dtype=torch.float64) * 50
    return i.requires_grad_(), u, e


def test_released_cse_a_reg_equals_closed_form():
    i, u, e = _box_inputs()
    _check('CSE-A/reg', dict(I=i, U=u, E=e), lambda: (1 - i / u) + (1 - (i + 2) / e), i.shape)


def test_released_cse_b_reg_equals_closed_form():
    i, u, e = _box_inputs(1)
    _check('CSE-B/reg', dict(I=i, U=u, E=e),
           lambda: (3 * e * u + 12 * e + 3 * i + 3 * u + 18)
           / (-3 * e * u + i * u + u ** 2 - 15 * e + 5 * i + 5 * u), i.shape)


def test_initial_losses_equal_closed_forms():
    x, y, w = _cls_inputs(2)
    _check('CEI', dict(X=x, Y=y, W=w),
           lambda: -(w * y * torch.log_softmax(x, dim=1)).sum(1, keepdim=True), x.shape)
    sig = torch.sigmoid(x)
    _check('FLI', dict(X=x, Y=y, NY=1 - y, W=w),
           lambda: -w * (y * (1 - sig) * torch.log(sig) + (1 - y) * sig * torch.log(1 - sig)),
           x.shape)
    i, u, e = _box_inputs(2)
    _check('GIoU', dict(I=i, U=u, E=e), lambda: 1 - i / u + (e - u) / e, i.shape)


def test_a_user_set_with_one_more_operator_needs_no_evaluator_change():
    base = get_primitive_set('alz')
    cube = Operator('Cube', 1, lambda x: x ** 3, '({0})^3')
    mine = register_primitive_set(PrimitiveSet(
        'alz_cube_test', dict(base.operators, Cube=cube), base.constants,
        dict(base.branches, seg=BranchInputs({'P': 'probs', 'Y': 'onehot'}, ('P', )))))
    formula = parse_formula('Mul(Y,Cube(P))', 'alz_cube_test', 'seg')
    p = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    y = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    assert torch.allclose(formula(dict(P=p, Y=y), p.shape), y * p ** 3)
    assert formula.to_math() == 'Y * (P)^3'
    subset = get_primitive_set(dict(base='alz_cube_test', operators=['Mul', 'Cube']))
    assert sorted(subset.operators) == ['Cube', 'Mul']
    with pytest.raises(ValueError, match="no operators \\['MaxPool'\\]"):
        get_primitive_set(dict(base='cse', operators=['Add', 'MaxPool']))
    assert mine.name == 'alz_cube_test'
