"""A formula loss: a DEAP ``PrimitiveTree`` bound to its primitive set and branch kind.

The tree is evaluated by walking its prefix list with a stack of tensors, so evaluation is
one differentiable torch expression over the whole batch, in the inputs' dtype and device;
nothing is compiled or executed as Python (DEAP's ``gp.compile`` uses ``eval``). The
string form is DEAP's notation without spaces, the one the CSE-Autoloss authors released
(``Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))``); :func:`~.parse.parse_formula` reads
it back to an equal tree.
"""
from collections.abc import Callable, Mapping, Sequence

import torch
from deap import gp
from torch import Tensor

from .primitive_set import PrimitiveSet, constant_name

#: precedence of a leaf or a function-call form (never parenthesised)
ATOMIC = 100


def node_name(node: object) -> str:
    """The name a tree node is written with (DEAP keeps a renamed argument's old
    ``name`` and its new name in ``value``)."""
    return node.name if node.arity else str(node.value)


class Formula:
    """A validated formula of branch ``kind`` over ``pset`` (build it with
    :func:`~.parse.parse_formula` or from a tree made of ``pset.deap_set(kind)`` nodes).

    Args:
        tree (gp.PrimitiveTree): the DEAP tree.
        pset (PrimitiveSet): its primitive set.
        kind (str): its branch kind (decides the inputs).
    """

    def __init__(self, tree: gp.PrimitiveTree, pset: PrimitiveSet, kind: str) -> None:
        self.tree = tree
        self.pset = pset
        self.kind = kind
        self.branch = pset.branch(kind)
        self._values = {constant_name(value): float(value) for value in pset.constants}
        self._functions = {name: op.fn for name, op in pset.operators.items()}

    # -- structure -------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of nodes."""
        return len(self.tree)

    @property
    def depth(self) -> int:
        """Depth of the tree (a single leaf has depth 0)."""
        return self.tree.height

    def inputs_used(self) -> set[str]:
        """The input names that appear in the formula."""
        return {node_name(node) for node in self.tree if node.arity == 0
                and node_name(node) in self.branch.inputs}

    def uses_prediction(self) -> bool:
        return bool(self.inputs_used() & set(self.branch.predictions))

    def __str__(self) -> str:
        return self._render(lambda node, args: f'{node.name}({",".join(args)})'
                            if node.arity else node_name(node))

    def __repr__(self) -> str:
        return f'Formula({str(self)!r}, primitive_set={self.pset.name!r}, kind={self.kind!r})'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Formula) and str(self) == str(other) and \
            self.pset.name == other.pset.name and self.kind == other.kind

    def __hash__(self) -> int:
        return hash((str(self), self.pset.name, self.kind))

    def _render(self, join) -> str:
        stack: list[str] = []
        for node in reversed(self.tree):
            args = [stack.pop() for _ in range(node.arity)]
            stack.append(join(node, args))
        return stack[0]

    def to_math(self) -> str:
        """Readable maths, e.g. ``-dot(Y * (1 + sin(Z)), log(softmax(X)))``."""
        stack: list[tuple[str, int]] = []
        for node in reversed(self.tree):
            args = [stack.pop() for _ in range(node.arity)]
            if not node.arity:
                stack.append((node_name(node), ATOMIC))
                continue
            op = self.pset.operators[node.name]
            texts = []
            for position, (text, precedence) in enumerate(args):
                # the right operand of an infix form binds at its own level (a - (b + c))
                tight = precedence < op.precedence or (
                    position > 0 and precedence == op.precedence and op.precedence < ATOMIC)
                texts.append(f'({text})' if tight and op.precedence < ATOMIC else text)
            stack.append((op.math.format(*texts), op.precedence))
        return stack[0][0]

    # -- evaluation ------------------------------------------------------------------
    def __call__(self, inputs: dict[str, Tensor], shape: Sequence[int],
                 operators: Mapping[str, Callable[..., Tensor]] | None = None) -> Tensor:
        """The formula's output on ``inputs`` (name -> tensor, broadcastable to ``shape``).

        Constants are expanded (no copy) to ``shape``, the shape of the prediction, so that
        class-wise and spatial operators see full tensors. ``operators`` replaces the
        functions of some operators by name (the loss-rejection protocol evaluates a batch
        of samples each on its own).
        """
        functions = dict(self._functions, **operators) if operators else self._functions
        reference = next(iter(inputs.values()))
        stack: list[Tensor] = []
        for node in reversed(self.tree):
            if node.arity:
                args = [stack.pop() for _ in range(node.arity)]
                stack.append(functions[node.name](*args))
            elif node_name(node) in self.branch.inputs:
                stack.append(inputs[node_name(node)])
            else:
                constant = torch.tensor(self._values[node_name(node)], dtype=reference.dtype,
                                        device=reference.device)
                stack.append(constant.expand(tuple(shape)))
        return stack[0]
