"""CSE-Autoloss's validity check and convergence-property verification (section 3.2.2):
the hand-designed losses and the released CSE losses pass, losses that break a property
are rejected with the property named, and the batched check equals one formula at a time."""
import pytest
import torch

from mmautoloss.functional.formulas import get_primitive_set
from mmautoloss.functional.formulas.released import RELEASED_FORMULAS
from mmautoloss.search.filters import ConvergenceCheck

CSE = get_primitive_set('cse-release')  # the released strings' leaf names
BRANCHES = {'softmax': (CSE, 'softmax_cls'), 'sigmoid': (CSE, 'sigmoid_cls'),
            'box': (CSE, 'box')}
CE = 'Neg(Dot(Y,Log(Softmax(X))))'
BCE = 'Neg(Add(Mul(Y,Log(Sig(X))),Mul(Sub(1,Y),Log(Sub(1,Sig(X))))))'
# sigmoid focal loss, gamma = 2 (Lin et al. 2017) without alpha
FOCAL = ('Neg(Add(Mul(Mul(Y,Mul(Sub(1,Sig(X)),Sub(1,Sig(X)))),Log(Sig(X))),'
         'Mul(Mul(Sub(1,Y),Mul(Sig(X),Sig(X))),Log(Sub(1,Sig(X))))))')
IOU = 'Sub(1,Div(I,U))'


def released(name):
    return RELEASED_FORMULAS[name].formula


@pytest.fixture(scope='module')
def check():
    return ConvergenceCheck(BRANCHES)


@pytest.mark.parametrize('key,formula', [
    ('softmax', CE), ('softmax', released('CEI')), ('softmax', released('CSE-A/cls')),
    ('sigmoid', BCE), ('sigmoid', FOCAL), ('sigmoid', released('FLI')),
    ('sigmoid', released('CSE-B/cls')),
    ('box', IOU), ('box', released('GIoU')), ('box', released('CSE-A/reg')),
    ('box', released('CSE-B/reg')),
])
def test_hand_designed_and_released_losses_pass(check, key, formula):
    verdict, = check.judge_many(key, [formula])
    assert verdict.status == 'accepted', verdict.reason


@pytest.mark.parametrize('key,formula,reason', [
    # linear in the score: monotone, but its gradient never vanishes
    ('softmax', 'Neg(Dot(Y,X))', 'gradient does not vanish'),
    ('sigmoid', 'Neg(Mul(Y,X))', 'gradient does not vanish'),
    # periodic in the score
    ('softmax', 'Neg(Dot(Y,Sin(X)))', 'does not decrease monotonically'),
    ('sigmoid', 'Neg(Mul(Y,Cos(X)))', 'does not decrease monotonically'),
    # CE with the wrong sign rewards a low score of the true class
    ('softmax', 'Dot(Y,Log(Softmax(X)))', 'does not decrease'),
    # the positive term alone: a negative class's score is free
    ('sigmoid', 'Neg(Mul(Y,Log(Sig(X))))', 'does not increase'),
    # the IoU itself: smaller as the prediction moves away
    ('box', 'Div(I,U)', 'does not increase monotonically'),
    # a loss of the box sizes only
    ('box', 'Div(U,E)', 'does not increase'),
])
def test_losses_that_break_a_property_are_rejected(check, key, formula, reason):
    verdict, = check.judge_many(key, [formula])
    assert verdict.status == 'non_convergent' and reason in verdict.reason, verdict


def test_a_loss_with_nan_or_inf_is_invalid(check):
    # log of negative logits; sqrt of a negative number; log of minus the non-overlap
    verdicts = check.judge_many('softmax', ['Neg(Dot(Y,Log(X)))', 'Neg(Dot(Y,Sqrt(X)))'])
    assert [v.status for v in verdicts] == ['invalid', 'invalid']
    verdict, = check.judge_many('box', ['Log(Sub(I,U))'])
    assert verdict.status == 'invalid'


def test_batched_verdicts_equal_verdicts_one_at_a_time(check):
    formulas = [CE, 'Neg(Dot(Y,X))', 'Neg(Dot(Y,Log(X)))', released('CSE-A/cls'),
                'Neg(Dot(Y,Sin(X)))', 'Dot(Y,Log(Softmax(X)))']
    batched = check.judge_many('softmax', formulas)
    assert batched == [check.judge_many('softmax', [f])[0] for f in formulas]
    # an invalid neighbour does not spoil the gradients of the others
    assert [v.status for v in batched] == ['accepted', 'non_convergent', 'invalid',
                                           'accepted', 'non_convergent', 'non_convergent']


def test_the_grid_moves_the_scores_it_names():
    """Independent of the check's own code: on its positive-score rows, cross-entropy
    equals -log softmax at the moved column, which falls as the score grows."""
    check = ConvergenceCheck(BRANCHES, num_classes=2, grid_points=5)
    logits, labels, _, paths, _ = check._cls_inputs('softmax_cls')
    path = paths[0]
    rows = slice(path.start, path.start + 5)
    moved = logits[rows, path.column]
    assert torch.equal(moved, torch.linspace(-8, 16, 5, dtype=torch.float64))
    assert torch.all(labels[rows] == path.column)
    ce = -torch.log_softmax(logits[rows], 1)[:, path.column]
    assert torch.all(ce[1:] < ce[:-1])


def test_validity_only_accepts_what_is_finite():
    check = ConvergenceCheck(BRANCHES, properties=False)
    verdicts = check.judge_many('softmax', ['Neg(Dot(Y,Sin(X)))', 'Neg(Dot(Y,Log(X)))'])
    assert [v.status for v in verdicts] == ['accepted', 'invalid']


@pytest.mark.parametrize('kwargs,name', [
    (dict(num_classes=0), 'num_classes'), (dict(score_range=(5, 2)), 'score_range'),
    (dict(grid_points=2), 'grid_points'), (dict(grad_ratio=2.0), 'grad_ratio'),
    (dict(box_sizes=[(10, )]), 'box_sizes'), (dict(max_scale=1.0), 'max_scale'),
    (dict(properties='yes'), 'properties'), (dict(seed=-1), 'seed'),
])
def test_bad_settings_name_the_setting(kwargs, name):
    with pytest.raises(ValueError, match=f'convergence.{name}'):
        ConvergenceCheck(BRANCHES, **kwargs)


def test_branches_without_properties_are_refused():
    with pytest.raises(ValueError, match="not 'seg'"):
        ConvergenceCheck({'seg': (get_primitive_set('alz'), 'seg')})
