"""Random initialisation and the three mutations of AutoLoss-Zero (Figure 2, 3), over
thousands of draws: valid trees (prediction used, arities right, size and depth bounded),
never the parent unchanged, and every position (the root's child included) reachable."""
import random
from collections import Counter

import pytest

from mmautoloss.functional.formulas import get_primitive_set, parse_formula
from mmautoloss.search.variation import (
    MUTATIONS,
    mutate,
    mutate_or_keep,
    offspring,
    random_formula,
)

ALZ = get_primitive_set('alz')


def _valid(formula, kind='seg'):
    again = parse_formula(str(formula), formula.pset, kind)  # names and arities
    assert again == formula
    assert formula.uses_prediction()
    assert formula.size <= formula.pset.max_size and formula.depth <= formula.pset.max_depth


@pytest.mark.parametrize('kind', ['seg', 'box'])
def test_random_initialisation_gives_valid_full_trees(kind):
    rng = random.Random(1)
    roots = Counter()
    for _ in range(2000):
        formula = random_formula(ALZ, kind, 3, rng)
        _valid(formula, kind)
        assert formula.depth == 3
        roots[formula.tree[0].name] += 1
    assert len(roots) == len(ALZ.operators)  # every operator can be the root's child


@pytest.mark.parametrize('kind', MUTATIONS)
def test_mutations_are_valid_and_never_return_the_parent(kind):
    rng = random.Random(2)
    changed_root = 0
    for draw in range(1500):
        parent = random_formula(ALZ, 'seg', 1 + draw % 4, rng)
        child = mutate(parent, rng, kind)
        _valid(child)
        assert str(child) != str(parent)
        if kind == 'insertion':
            assert child.size - parent.size in (1, 2)
        if kind == 'deletion':
            assert child.size < parent.size
        changed_root += child.tree[0].name != parent.tree[0].name
    assert changed_root > 0  # the root's child is mutated too


def test_replacement_adjusts_children_to_the_new_arity():
    rng = random.Random(3)
    parent = parse_formula('Add(P,Y)', 'alz', 'seg')
    arities = Counter()
    for _ in range(300):
        child = mutate(parent, rng, 'replacement')
        _valid(child)
        arities[child.tree[0].arity] += 1
    assert arities[1] > 0 and arities[2] > 0  # unary keeps one child, binary both


def test_offspring_rule_proportions():
    rng = random.Random(4)
    parent = parse_formula('Neg(Mul(Y,Log(P)))', 'alz', 'seg')
    copies = sum(offspring(parent, rng, 3) is parent for _ in range(3000))
    assert 200 < copies < 400  # 10% copies
    for _ in range(200):
        _valid(offspring(parent, rng, 3))


def _full_tree(depth: int) -> str:
    return 'P' if depth == 0 else f'Add({_full_tree(depth - 1)},{_full_tree(depth - 1)})'


def test_a_parent_at_the_size_bound_never_ends_the_search():
    parent = parse_formula(f'Neg({_full_tree(5)})', 'alz', 'seg')
    assert parent.size == ALZ.max_size == 64
    rng = random.Random(5)
    assert mutate(parent, rng, 'insertion') is None  # nothing fits: the kind has no result
    for _ in range(300):  # falls back to deletion or replacement
        child = mutate_or_keep(parent, rng)
        _valid(child)
        assert str(child) != str(parent)
    for _ in range(300):
        _valid(offspring(parent, rng, 3))


def test_a_formula_no_mutation_can_change_is_kept():
    tiny = ALZ.subset(sorted(ALZ.operators), name='alz-one-node')
    tiny.max_size = 1  # a leaf: no insertion or replacement fits, no operator to delete
    leaf = parse_formula('P', tiny, 'seg')
    rng = random.Random(6)
    assert all(mutate(leaf, rng, kind) is None for kind in ('insertion', 'replacement'))
    assert mutate_or_keep(leaf, rng) is leaf
