"""Formula losses shared by AutoLoss-Zero and CSE-Autoloss: primitive sets as data
(``primitive_set``, ``alz_primitives`` for ALZ Table 1, ``cse_primitives`` for CSE section
3.1), a parser that executes nothing (``parse``), the tree bound to its set with its torch
evaluation and printing (``formula``), and the authors' released formulas (``released``)."""
from .formula import Formula
from .parse import FormulaError, check_formula, parse_formula
from .primitive_set import (
                            BRANCH_KINDS,
                            BranchInputs,
                            Operator,
                            PrimitiveSet,
                            get_primitive_set,
                            register_primitive_set,
)

# the papers' primitive sets register themselves by name ('alz', 'cse')
from . import alz_primitives, cse_primitives  # noqa: E402,F401  isort: skip

__all__ = ['BRANCH_KINDS', 'BranchInputs', 'Formula', 'FormulaError', 'Operator',
           'PrimitiveSet', 'check_formula', 'get_primitive_set', 'parse_formula',
           'register_primitive_set']
