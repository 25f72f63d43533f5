"""Primitive sets as data: operators, constants and the inputs of each loss branch.

A formula loss (AutoLoss-Zero section 3.1, CSE-Autoloss section 3.1) is a tree whose inner
nodes are operators and whose leaves are inputs (prediction, target, ...) or constants. A
:class:`PrimitiveSet` says which operators, constants and inputs a formula may use; the
parser, the evaluator and the renderer read it and never hard-code a name, so a new set (or a
set with one more operator) is a new :class:`PrimitiveSet`, registered with
:func:`register_primitive_set` from any module, and nothing else changes.

The tree type is DEAP's (``deap.gp.PrimitiveTree`` over a ``deap.gp.PrimitiveSet``);
:meth:`PrimitiveSet.deap_set` builds the DEAP set of one branch kind from this data.
"""
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from deap import gp
from torch import Tensor

from ...utils.checks import check_int

#: the quantities a loss branch can feed to a formula (see ``models/losses/expr_loss.py``)
QUANTITIES = ('logits', 'probs', 'onehot', 'not_onehot', 'iou', 'iou_onehot',
              'intersection', 'union', 'enclosing', 'target', 'binary_probs', 'binary_onehot',
              'boundary_onehot')
#: quantities of the foreground / background layout (twice the prediction's channels)
BINARY_QUANTITIES = ('binary_probs', 'binary_onehot')
#: the loss branches ExprLoss serves
BRANCH_KINDS = ('seg', 'sigmoid_cls', 'softmax_cls', 'box', 'mask', 'heatmap')


@dataclass(frozen=True)
class Operator:
    """One primitive operator.

    Args:
        name: the name used in formula strings (DEAP notation), e.g. ``'Add'``.
        arity: number of operands.
        fn: the torch function of the operands.
        math: how it prints, a ``str.format`` template over the operands, e.g.
            ``'{0} + {1}'`` or ``'log({0})'``.
        precedence: binding of ``math`` when it is infix or prefix (an operand that binds
            less tightly is parenthesised); function-call forms use the default, atomic.
    """

    name: str
    arity: int
    fn: Callable[..., Tensor]
    math: str
    precedence: int = 100

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f'operator name must be an identifier, got {self.name!r}')
        check_int(self.arity, f'operator {self.name!r}: arity', 1)


@dataclass(frozen=True)
class BranchInputs:
    """The inputs of one branch kind: formula name -> quantity, and which are predictions.

    Args:
        inputs: e.g. ``{'P': 'probs', 'Y': 'onehot'}``; quantities from ``QUANTITIES``.
        predictions: the input names that depend on the network's prediction; a formula
            must use at least one of them.
    """

    inputs: Mapping[str, str]
    predictions: tuple[str, ...]

    def __post_init__(self) -> None:
        for name, quantity in self.inputs.items():
            if not name.isidentifier():
                raise ValueError(f'input name must be an identifier, got {name!r}')
            if quantity not in QUANTITIES:
                raise ValueError(f'input {name!r}: quantity must be one of {QUANTITIES}, '
                                 f'got {quantity!r}')
        unknown = [p for p in self.predictions if p not in self.inputs]
        if not self.predictions or unknown:
            raise ValueError(f'predictions must name inputs of {sorted(self.inputs)}, got '
                             f'{list(self.predictions)!r}')
        binary = {q in BINARY_QUANTITIES for q in self.inputs.values()}
        if len(binary) > 1:
            raise ValueError(f'inputs mix the foreground / background layout '
                             f'{BINARY_QUANTITIES} with others: {dict(self.inputs)!r}')

    @property
    def binary(self) -> bool:
        """Whether the inputs have the foreground / background layout (2C channels)."""
        return any(q in BINARY_QUANTITIES for q in self.inputs.values())


@dataclass
class PrimitiveSet:
    """Operators, constants and per-branch inputs that formulas of one search may use.

    Args:
        name: registry name, e.g. ``'alz'``.
        operators: the operators by name.
        constants: constant leaves, written in formulas as numbers (``1``, ``2``, ``3``).
        branches: the inputs of each branch kind (from ``BRANCH_KINDS``) this set serves.
        max_depth: deepest tree a formula may have (a leaf alone has depth 0).
        max_size: most nodes a formula may have.
    """

    name: str
    operators: dict[str, Operator]
    constants: tuple[float, ...]
    branches: dict[str, BranchInputs]
    max_depth: int = 12
    max_size: int = 64
    _deap: dict[str, gp.PrimitiveSet] = field(default_factory=dict, repr=False,
                                              compare=False)

    def __post_init__(self) -> None:
        for kind in self.branches:
            if kind not in BRANCH_KINDS:
                raise ValueError(f'primitive set {self.name!r}: branch kind must be one of '
                                 f'{BRANCH_KINDS}, got {kind!r}')
        for name, op in self.operators.items():
            if name != op.name:
                raise ValueError(f'primitive set {self.name!r}: operator registered as '
                                 f'{name!r} is named {op.name!r}')
        for value in self.constants:
            if not math.isfinite(value):
                raise ValueError(f'primitive set {self.name!r}: constants must be finite, '
                                 f'got {value!r}')
        for kind, branch in self.branches.items():
            clash = sorted(set(branch.inputs) & set(self.operators))
            if clash:
                raise ValueError(f'primitive set {self.name!r}: inputs {clash} of branch '
                                 f'{kind!r} shadow operators')

    def branch(self, kind: str) -> BranchInputs:
        """The inputs of branch ``kind``; ``ValueError`` naming the kinds this set serves."""
        if kind not in self.branches:
            raise ValueError(f'primitive set {self.name!r} has no branch {kind!r}; it serves '
                             f'{sorted(self.branches)}')
        return self.branches[kind]

    def deap_set(self, kind: str) -> gp.PrimitiveSet:
        """DEAP primitive set of branch ``kind``: the operators, one argument per input
        (renamed to the input names) and the constants as named terminals."""
        if kind not in self._deap:
            branch = self.branch(kind)
            names = list(branch.inputs)
            pset = gp.PrimitiveSet(f'{self.name}.{kind}', len(names))
            pset.renameArguments(**{f'ARG{i}': name for i, name in enumerate(names)})
            for op in self.operators.values():
                pset.addPrimitive(op.fn, op.arity, name=op.name)
            for value in self.constants:
                pset.addTerminal(float(value), name=constant_name(value))
            self._deap[kind] = pset
        return self._deap[kind]

    def subset(self, operators: Sequence[str], name: str | None = None) -> 'PrimitiveSet':
        """The same set restricted to ``operators`` (e.g. CSE's smaller regression set)."""
        unknown = [op for op in operators if op not in self.operators]
        if unknown:
            raise ValueError(f'primitive set {self.name!r} has no operators {unknown}; it has '
                             f'{sorted(self.operators)}')
        return PrimitiveSet(name or f'{self.name}[{",".join(operators)}]',
                            {op: self.operators[op] for op in operators}, self.constants,
                            dict(self.branches), self.max_depth, self.max_size)


def constant_name(value: float) -> str:
    """How a constant is written in formulas: ``1`` for 1.0, ``0.5`` for 0.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_PRIMITIVE_SETS: dict[str, PrimitiveSet] = {}


def register_primitive_set(pset: PrimitiveSet) -> PrimitiveSet:
    """Make ``pset`` available by name (``ExprLoss(primitive_set=name)``, search spaces).
    The papers' sets register when :mod:`mmautoloss.functional.formulas` is imported."""
    if pset.name in _PRIMITIVE_SETS:
        raise ValueError(f'a primitive set named {pset.name!r} is already registered')
    _PRIMITIVE_SETS[pset.name] = pset
    return pset


def get_primitive_set(spec: str | dict | PrimitiveSet) -> PrimitiveSet:
    """A registered set by name, or ``dict(base=name, operators=[...])`` for a subset."""
    if isinstance(spec, PrimitiveSet):
        return spec
    if isinstance(spec, str):
        if spec not in _PRIMITIVE_SETS:
            raise ValueError(f'primitive_set={spec!r} is not registered; known: '
                             f'{sorted(_PRIMITIVE_SETS)}')
        return _PRIMITIVE_SETS[spec]
    if isinstance(spec, Mapping) and set(spec) <= {'base', 'operators'} and 'base' in spec:
        base = get_primitive_set(spec['base'])
        operators = spec.get('operators')
        if operators is None:
            return base
        if isinstance(operators, str) or not isinstance(operators, Sequence):
            raise ValueError(f'primitive_set.operators must be a list of operator names, got '
                             f'{operators!r}')
        return base.subset(list(operators))
    raise ValueError(f'primitive_set must be a registered name or dict(base=name, '
                     f'operators=[...]), got {spec!r}')

