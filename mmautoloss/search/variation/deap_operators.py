"""CSE-Autoloss's variation with DEAP's tree operators (CSE-Autoloss section 3.2.1: "these
individuals perform cross-over randomly pair by pair with probability p1 and conduct
mutation independently with probability p2"; the authors' search is built on DEAP).

- Crossover: ``gp.cxOnePoint``, one random subtree of each parent swapped.
- Mutation: one of DEAP's ``gp.mutUniform`` (a random subtree replaced by a new one grown
  to ``depth``), ``gp.mutNodeReplacement``, ``gp.mutInsert`` and ``gp.mutShrink``, drawn
  uniformly (the paper does not name its mutation; these are DEAP's four for trees).

DEAP's operators draw from the global ``random`` module; here they run on the caller's
``random.Random`` (its state is swapped in for the call and read back), so the search's
offspring are a pure function of its seed and state, and the global state is untouched.
An offspring that breaks a bound of the primitive set (size, depth, no prediction input),
or a mutation that leaves its parent unchanged, is drawn again; after :data:`MAX_TRIES`
draws the parent is kept.
"""
import copy
import functools
import random
from collections.abc import Callable

from deap import gp

from ...functional.formulas import Formula, FormulaError, check_formula

#: draws before an operator gives up and keeps the parent
MAX_TRIES = 100
MUTATIONS = ('uniform', 'node_replacement', 'insert', 'shrink')


def _on_rng(rng: random.Random, fn: Callable, *args):
    """``fn(*args)`` drawing from ``rng`` instead of the global random state."""
    saved = random.getstate()
    random.setstate(rng.getstate())
    try:
        return fn(*args)
    finally:
        rng.setstate(random.getstate())
        random.setstate(saved)


def _valid(tree: gp.PrimitiveTree, like: Formula) -> Formula:
    formula = Formula(tree, like.pset, like.kind)
    check_formula(formula)  # FormulaError when a bound is broken
    return formula


def crossover(first: Formula, second: Formula,
              rng: random.Random) -> tuple[Formula, Formula]:
    """Two children of ``gp.cxOnePoint`` (the parents when no valid pair is drawn)."""
    for _ in range(MAX_TRIES):
        a, b = _on_rng(rng, gp.cxOnePoint, copy.deepcopy(first.tree),
                       copy.deepcopy(second.tree))
        try:
            return _valid(a, first), _valid(b, second)
        except FormulaError:
            continue
    return first, second


def mutate(formula: Formula, rng: random.Random, depth: int) -> Formula:
    """One of :data:`MUTATIONS`, drawn from ``rng``, giving a valid formula different from
    ``formula`` (``formula`` itself when none is drawn)."""
    pset = formula.pset.deap_set(formula.kind)
    grow = functools.partial(gp.genGrow, min_=0, max_=depth)
    operators = dict(uniform=lambda t: gp.mutUniform(t, grow, pset),
                     node_replacement=lambda t: gp.mutNodeReplacement(t, pset),
                     insert=lambda t: gp.mutInsert(t, pset),
                     shrink=gp.mutShrink)
    for _ in range(MAX_TRIES):
        name = rng.choice(MUTATIONS)
        tree, = _on_rng(rng, operators[name], copy.deepcopy(formula.tree))
        if str(tree) == str(formula.tree):  # e.g. a node replaced by itself
            continue
        try:
            return _valid(tree, formula)
        except FormulaError:
            continue
    return formula
