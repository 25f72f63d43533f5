"""Random initialisation of a formula (AutoLoss-Zero section 3.2, Figure 2).

Starting from the output node, every node of depth < D samples an operator uniformly from
the primitive set (its arity decides its number of children) and every node of depth D a
leaf uniformly from the branch's inputs and constants ({y-hat, y, 1} for ALZ). A tree that
does not use the prediction is drawn again. The draws come from the caller's
``random.Random``, never from the global random state (DEAP's ``gp.genFull`` uses that), so
a searcher's proposals are a pure function of its seed and round.
"""
import random

from deap import gp

from ...functional.formulas import Formula, PrimitiveSet, check_formula
from ...functional.formulas.primitive_set import constant_name
from ...utils.checks import check_int

#: draws before giving up on a tree that uses the prediction
MAX_TRIES = 1000


def leaf_names(pset: PrimitiveSet, kind: str) -> list[str]:
    """Leaves a random tree draws from: one input per quantity (an alias such as CSE's
    ``Z`` for ``W`` is not drawn twice as often) and the constants."""
    seen, names = set(), []
    for name, quantity in pset.branch(kind).inputs.items():
        if quantity not in seen:
            seen.add(quantity)
            names.append(name)
    return names + [constant_name(value) for value in pset.constants]


def node_pools(pset: PrimitiveSet, kind: str) -> tuple[list, list]:
    """The DEAP nodes a tree of branch ``kind`` draws from: operators and leaves."""
    mapping = pset.deap_set(kind).mapping
    return ([mapping[name] for name in sorted(pset.operators)],
            [mapping[name] for name in leaf_names(pset, kind)])


def random_formula(pset: PrimitiveSet, kind: str, depth: int, rng: random.Random) -> Formula:
    """A full random tree of depth ``depth`` that uses the prediction (Figure 2)."""
    check_int(depth, 'depth', 1, pset.max_depth)
    operators, leaves = node_pools(pset, kind)
    for _ in range(MAX_TRIES):
        nodes: list = []
        _grow(nodes, depth, operators, leaves, rng)
        formula = Formula(gp.PrimitiveTree(nodes), pset, kind)
        if formula.uses_prediction() and formula.size <= pset.max_size:
            check_formula(formula)
            return formula
    raise RuntimeError(f'no random tree of depth {depth} over primitive set {pset.name!r} used '
                       f'the prediction in {MAX_TRIES} draws')


def _grow(nodes: list, depth: int, operators: list, leaves: list, rng: random.Random) -> None:
    if depth == 0:
        nodes.append(rng.choice(leaves))
        return
    op = rng.choice(operators)
    nodes.append(op)
    for _ in range(op.arity):
        _grow(nodes, depth - 1, operators, leaves, rng)
