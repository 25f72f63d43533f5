"""Reading a formula string against a primitive set, without executing anything.

A formula is DEAP's prefix notation: ``Name(arg, arg, ...)``, input names and numeric
constants, e.g. ``Add(1,Neg(Div(I,U)))``. The text is tokenised by a regular expression into
identifiers, numbers, parentheses and commas and read by a recursive-descent parser that
only looks names up in the primitive set: unlike ``deap.gp.PrimitiveTree.from_string``
(which calls ``eval`` on unknown tokens) and ``deap.gp.compile`` (``eval`` of the whole
string), no part of the text ever reaches the Python interpreter. Formulas come from
configs and journals, so this matters.
"""
import re

from deap import gp

from .formula import Formula
from .primitive_set import PrimitiveSet, constant_name, get_primitive_set

_TOKEN = re.compile(r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>\d+(?:\.\d+)?)|'
                    r'(?P<punct>[(),]))')
#: longest formula text accepted (well above any max_size a set allows)
MAX_TEXT = 10000


class FormulaError(ValueError):
    """A formula string that is not a valid loss of its primitive set and branch."""


def _tokens(text: str, formula: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == '':
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise FormulaError(f'formula {formula!r}: unexpected character '
                               f'{text[position:].lstrip()[:1]!r} at position {position}')
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def parse_formula(text: str, primitive_set: str | dict | PrimitiveSet, kind: str,
                  max_depth: int | None = None,
                  max_size: int | None = None) -> Formula:
    """The :class:`Formula` that ``text`` writes, for branch ``kind`` of ``primitive_set``.

    Raises:
        FormulaError: naming the formula and the problem, for an unknown name or character,
            a wrong number of operands, trailing text, a formula that does not use the
            prediction, or one beyond ``max_depth`` / ``max_size`` (default: the set's).
    """
    pset = get_primitive_set(primitive_set)
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(f'formula must be a non-empty string, got {text!r}')
    if len(text) > MAX_TEXT:
        raise FormulaError(f'formula of {len(text)} characters is longer than {MAX_TEXT}')
    branch = pset.branch(kind)
    deap_set = pset.deap_set(kind)
    mapping = deap_set.mapping
    constants = {float(value): constant_name(value) for value in pset.constants}
    tokens = _tokens(text, text)
    nodes: list[object] = []

    def fail(message: str) -> FormulaError:
        return FormulaError(f'formula {text!r}: {message}')

    def expect(index: int, punct: str) -> int:
        if index >= len(tokens) or tokens[index][1] != punct:
            found = repr(tokens[index][1]) if index < len(tokens) else 'the end'
            raise fail(f'expected {punct!r}, found {found}')
        return index + 1

    def node_at(index: int, depth: int) -> int:
        if depth > max(pset.max_depth, max_depth or 0) + 1:
            raise fail('nested deeper than the primitive set allows')
        if index >= len(tokens):
            raise fail('ends where an operand was expected')
        kind_, value, position = tokens[index]
        if kind_ == 'number':
            if float(value) not in constants:
                raise fail(f'constant {value} at position {position} is not one of the '
                           f'primitive set\'s constants {sorted(constants)}')
            nodes.append(mapping[constants[float(value)]])
            return index + 1
        if kind_ != 'name':
            raise fail(f'unexpected {value!r} at position {position}')
        if value in branch.inputs:
            nodes.append(mapping[value])
            return index + 1
        if value not in pset.operators:
            raise fail(f'unknown name {value!r} at position {position}; operators: '
                       f'{sorted(pset.operators)}, inputs: {sorted(branch.inputs)}')
        op = pset.operators[value]
        nodes.append(mapping[value])
        index = expect(index + 1, '(')
        for arg in range(op.arity):
            if arg:
                if index < len(tokens) and tokens[index][1] == ')':
                    raise fail(f'{value} takes {op.arity} operands, got {arg}')
                index = expect(index, ',')
            index = node_at(index, depth + 1)
        if index < len(tokens) and tokens[index][1] == ',':
            raise fail(f'{value} takes {op.arity} operand(s), got more')
        return expect(index, ')')

    end = node_at(0, 0)
    if end != len(tokens):
        raise fail(f'unexpected {tokens[end][1]!r} at position {tokens[end][2]} after the '
                   'end of the formula')
    formula = Formula(gp.PrimitiveTree(nodes), pset, kind)
    check_formula(formula, max_depth, max_size, text)
    return formula


def check_formula(formula: Formula, max_depth: int | None = None,
                  max_size: int | None = None, text: str | None = None) -> None:
    """``FormulaError`` unless ``formula`` uses a prediction input and fits the bounds."""
    text = str(formula) if text is None else text
    max_depth = formula.pset.max_depth if max_depth is None else max_depth
    max_size = formula.pset.max_size if max_size is None else max_size
    if formula.size > max_size:
        raise FormulaError(f'formula {text!r}: {formula.size} nodes, more than max_size='
                           f'{max_size}')
    if formula.depth > max_depth:
        raise FormulaError(f'formula {text!r}: depth {formula.depth}, more than max_depth='
                           f'{max_depth}')
    if not formula.uses_prediction():
        raise FormulaError(f'formula {text!r} does not use the prediction (one of '
                           f'{list(formula.branch.predictions)}), so it cannot train a network')
