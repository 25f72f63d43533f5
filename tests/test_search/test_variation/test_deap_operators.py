"""CSE-Autoloss's variation with DEAP's operators: valid children, made of their parents'
nodes, different from the parent after a mutation, drawn from the caller's generator only."""
import random

from mmautoloss.functional.formulas import check_formula, get_primitive_set, parse_formula
from mmautoloss.functional.formulas.released import RELEASED_FORMULAS
from mmautoloss.search.variation.deap_operators import crossover, mutate

CSE = get_primitive_set('cse-release')  # the released strings' leaf names


def formula(name, kind='softmax_cls'):
    return parse_formula(RELEASED_FORMULAS[name].formula, CSE, kind)


def test_mutations_are_valid_and_differ_from_the_parent():
    parent = formula('CEI')
    rng = random.Random(0)
    children = [mutate(parent, rng, 2) for _ in range(50)]
    for child in children:
        check_formula(child)
        assert str(child) != str(parent)
    assert len({str(c) for c in children}) > 25  # the four operators vary it in many ways


def test_crossover_swaps_subtrees_between_the_parents():
    first, second = formula('CEI'), formula('CSE-A/cls')
    rng = random.Random(1)
    names = {n.name for n in first.tree} | {n.name for n in second.tree}
    changed = 0
    for _ in range(30):
        a, b = crossover(first, second, rng)
        for child in (a, b):
            check_formula(child)
            assert {n.name for n in child.tree} <= names
        # one-point crossover keeps the total number of nodes
        assert a.size + b.size == first.size + second.size
        changed += str(a) != str(first)
    assert changed > 10


def test_draws_come_from_the_callers_generator_and_leave_the_global_state_alone():
    parent = formula('GIoU', 'box')
    random.seed(123)
    state = random.getstate()
    one = [str(mutate(parent, random.Random(7), 2)) for _ in range(5)]
    assert random.getstate() == state
    random.seed(999)  # another global state changes nothing
    two = [str(mutate(parent, random.Random(7), 2)) for _ in range(5)]
    assert one == two


def test_a_formula_that_cannot_change_within_the_bounds_is_kept():
    bounded = get_primitive_set(dict(base='cse', operators=['Neg']))
    # with max_size 1 no mutation or crossover can give a valid different tree
    tight = type(bounded)(bounded.name + '-tight', bounded.operators, bounded.constants,
                          dict(bounded.branches), bounded.max_depth, 1)
    leaf = parse_formula('X', tight, 'softmax_cls')
    assert str(mutate(leaf, random.Random(0), 2)) == 'X'
    a, b = crossover(leaf, leaf, random.Random(0))
    assert (str(a), str(b)) == ('X', 'X')
