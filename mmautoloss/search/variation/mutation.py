"""Mutations of a formula tree (AutoLoss-Zero section 3.2, Figure 3) and the offspring rule.

The tree's first node is the only child of the output node (the root of Figure 2), so every
node of the DEAP tree is a "non-root node" and the root's children can be mutated:

- Insertion: an operator sampled from H is inserted between a random node and its parent;
  an operator of arity 2 takes a random input as its other child (on a random side).
- Deletion: a random operator node is removed and one of its children, picked at random,
  takes its place.
- Replacement: a random node is replaced by a different operator sampled from H; when the
  node has more children than the operator's arity a random subset of them (in order) is
  kept, when it has fewer, random inputs are added.

DEAP's ``gp.mutInsert`` / ``mutShrink`` / ``mutNodeReplacement`` can return the parent
unchanged and never restructure around the root's child in this way, so they are not used.
A mutation that leaves the formula unchanged or invalid (no prediction input, over the
size or depth bound) is drawn again. A kind that finds no valid result (an insertion into a
parent at the size bound, a deletion of a single leaf) gives way to the other kinds, in
random order; when none has one the formula is kept, so a mutation never ends a search.
"""
import random
from collections.abc import Callable

from deap import gp

from ...functional.formulas import Formula, FormulaError, check_formula
from .random_tree import node_pools, random_formula

#: draws before a mutation gives up
MAX_TRIES = 200
MUTATIONS = ('insertion', 'deletion', 'replacement')


def _nodes(formula: Formula) -> list:
    return list(formula.tree)


def _insertion(formula: Formula, rng: random.Random) -> list:
    nodes = _nodes(formula)
    operators, leaves = node_pools(formula.pset, formula.kind)
    index = rng.randrange(len(nodes))
    span = formula.tree.searchSubtree(index)
    subtree = nodes[span]
    op = rng.choice(operators)
    if op.arity == 1:
        inserted = [op] + subtree
    else:
        extra = [rng.choice(leaves)]
        inserted = [op] + (subtree + extra if rng.random() < 0.5 else extra + subtree)
    return nodes[:span.start] + inserted + nodes[span.stop:]


def _children(formula: Formula, index: int) -> list[slice]:
    children, position = [], index + 1
    for _ in range(formula.tree[index].arity):
        span = formula.tree.searchSubtree(position)
        children.append(span)
        position = span.stop
    return children


def _deletion(formula: Formula, rng: random.Random) -> list:
    nodes = _nodes(formula)
    inner = [i for i, node in enumerate(nodes) if node.arity > 0]
    if not inner:
        return nodes
    index = rng.choice(inner)
    kept = rng.choice(_children(formula, index))
    span = formula.tree.searchSubtree(index)
    return nodes[:span.start] + nodes[kept] + nodes[span.stop:]


def _replacement(formula: Formula, rng: random.Random) -> list:
    nodes = _nodes(formula)
    operators, leaves = node_pools(formula.pset, formula.kind)
    index = rng.randrange(len(nodes))
    node = nodes[index]
    op = rng.choice([o for o in operators if o.name != node.name])
    children = [nodes[s] for s in _children(formula, index)]
    if len(children) > op.arity:
        keep = sorted(rng.sample(range(len(children)), op.arity))
        children = [children[k] for k in keep]
    while len(children) < op.arity:
        children.insert(rng.randrange(len(children) + 1), [rng.choice(leaves)])
    span = formula.tree.searchSubtree(index)
    return nodes[:span.start] + [op] + [n for child in children for n in child] + \
        nodes[span.stop:]


_OPERATIONS: dict = dict(insertion=_insertion, deletion=_deletion, replacement=_replacement)


def mutate(formula: Formula, rng: random.Random, kind: str) -> Formula | None:
    """One mutation ``kind`` (``'insertion'``, ``'deletion'`` or ``'replacement'``) giving a
    valid formula different from ``formula``; None when :data:`MAX_TRIES` draws found none."""
    operation: Callable = _OPERATIONS[kind]
    for _ in range(MAX_TRIES):
        child = Formula(gp.PrimitiveTree(operation(formula, rng)), formula.pset, formula.kind)
        if str(child) == str(formula):
            continue
        try:
            check_formula(child)
        except FormulaError:
            continue
        return child
    return None


def mutate_or_keep(formula: Formula, rng: random.Random) -> Formula:
    """A mutation of a kind drawn uniformly from :data:`MUTATIONS`; a kind without a valid
    result falls back to the other kinds in random order, and ``formula`` itself is kept when
    none has one (a single leaf has no operator to delete; an insertion never fits a parent
    at the size bound)."""
    first = rng.choice(MUTATIONS)
    others = [kind for kind in MUTATIONS if kind != first]
    rng.shuffle(others)
    for kind in [first] + others:
        if kind == 'deletion' and formula.size == 1:
            continue
        child = mutate(formula, rng, kind)
        if child is not None:
            return child
    return formula


def offspring(parent: Formula, rng: random.Random, depth: int, copy_prob: float = 0.1,
              reinit_prob: float = 0.5) -> Formula:
    """ALZ's offspring rule: copy with ``copy_prob``; else a fresh random tree of ``depth``
    with ``reinit_prob``; else two mutations (:func:`mutate_or_keep`)."""
    if rng.random() < copy_prob:
        return parent
    if rng.random() < reinit_prob:
        return random_formula(parent.pset, parent.kind, depth, rng)
    return mutate_or_keep(mutate_or_keep(parent, rng), rng)
