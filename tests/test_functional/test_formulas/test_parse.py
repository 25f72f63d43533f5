"""Formula strings: parsing against a primitive set only, errors that name the problem,
nothing executed, printing and round trips."""
import os

import pytest
import torch

from mmautoloss.functional.formulas import FormulaError, parse_formula
from mmautoloss.functional.formulas.released import RELEASED_FORMULAS


@pytest.mark.parametrize('text, problem', [
    ('Add(X)', 'Add takes 2 operands, got 1'),
    ('Add(X,Y,Y)', 'got more'),
    ('Foo(X)', "unknown name 'Foo'"),
    ('Neg(Y)', 'does not use the prediction'),
    ('Mul(Y,W)', 'does not use the prediction'),
    ('Add(5,X)', 'constant 5'),
    ('Neg(X))', "unexpected ')'"),
    ('Neg(X', "expected ')'"),
    ('Neg X', "expected '('"),
    ('X.real', "unexpected character '.'"),
    ('lambda: X', "unexpected character ':'"),
    ('Add(X,)', "unexpected ')'"),
    ('Sig', "expected '('"),
])
def test_malformed_formulas_name_the_problem(text, problem):
    with pytest.raises(FormulaError) as info:
        parse_formula(text, 'cse', 'softmax_cls')
    assert problem in str(info.value)
    assert repr(text) in str(info.value)


def test_unknown_branch_and_set_are_named():
    with pytest.raises(ValueError, match="no branch 'seg'"):
        parse_formula('X', 'cse', 'seg')
    with pytest.raises(ValueError, match="primitive_set='nope'"):
        parse_formula('X', 'nope', 'seg')


@pytest.mark.parametrize('payload', [
    "__import__('os').system('touch {marker}')",
    "__import__(os).system(touch)",
    "Add(X,__import__('os').system('touch {marker}'))",
    "exec('open(\"{marker}\",\"w\")')",
    "(lambda: open('{marker}', 'w'))()",
    "X.__class__",
    "Add(X,Y);open('{marker}','w')",
])
def test_python_in_a_formula_is_refused_and_never_run(tmp_path, payload):
    marker = tmp_path / 'marker'
    with pytest.raises(FormulaError):
        parse_formula(payload.format(marker=marker), 'cse', 'softmax_cls')
    assert not os.path.exists(marker)


def test_size_and_depth_bounds():
    deep = 'X'
    for _ in range(5):
        deep = f'Neg({deep})'
    assert parse_formula(deep, 'cse', 'softmax_cls').depth == 5
    with pytest.raises(FormulaError, match='depth 5, more than max_depth=4'):
        parse_formula(deep, 'cse', 'softmax_cls', max_depth=4)
    with pytest.raises(FormulaError, match='6 nodes, more than max_size=5'):
        parse_formula(deep, 'cse', 'softmax_cls', max_size=5)
    very_deep = 'X'
    for _ in range(500):
        very_deep = f'Neg({very_deep})'
    with pytest.raises(FormulaError, match='deeper'):
        parse_formula(very_deep, 'cse', 'softmax_cls')


@pytest.mark.parametrize('name', sorted(RELEASED_FORMULAS))
def test_released_strings_round_trip(name):
    entry = RELEASED_FORMULAS[name]
    formula = parse_formula(entry.formula, entry.primitive_set, entry.kind)
    assert str(formula) == entry.formula
    again = parse_formula(str(formula), entry.primitive_set, entry.kind)
    assert again == formula and hash(again) == hash(formula)
    spaced = entry.formula.replace(',', ', ')
    assert parse_formula(spaced, entry.primitive_set, entry.kind) == formula


def test_maths_rendering():
    cse_a = parse_formula(RELEASED_FORMULAS['CSE-A/cls'].formula, 'cse-release', 'softmax_cls')
    assert cse_a.to_math() == '-dot(Y * (1 + sin(Z)), log(softmax(X)))'
    assert parse_formula('Sub(I,Sub(U,E))', 'cse', 'box').to_math() == 'I - (U - E)'
    assert parse_formula('Sub(Sub(I,U),E)', 'cse', 'box').to_math() == 'I - U - E'
    assert parse_formula('Mul(Add(P,1),Y)', 'alz', 'seg').to_math() == '(P + 1) * Y'
    assert parse_formula('Neg(Mul(Y,Log(P)))', 'alz', 'seg').to_math() == '-(Y * log(P))'


def test_constants_are_the_sets_own():
    formula = parse_formula('Add(1.0,Mul(2,Sub(3,I)))', 'cse', 'box')
    assert str(formula) == 'Add(1,Mul(2,Sub(3,I)))'
    inputs = {'I': torch.tensor([[[[0.5]]]], dtype=torch.float64)}
    assert formula(inputs, (1, 1, 1, 1)).item() == pytest.approx(1 + 2 * 2.5)
    with pytest.raises(FormulaError, match='constant 2'):
        parse_formula('Add(2,P)', 'alz', 'seg')
