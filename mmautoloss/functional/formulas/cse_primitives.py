"""CSE-Autoloss's primitive operators and inputs (CSE-Autoloss ICLR 2021, section 3.1).

Unary: -x, e^x, log, |x|, sqrt, Softmax, SoftPlus, sigmoid, gd, alf, erf, erfc, tanh, relu,
sin, cos; binary: +, -, x, division and the class-wise dot product; broadcasting between
inputs of different shapes. The S-curves gd, alf, erf and erfc are rescaled to the range
(0, 1) of the sigmoid (the paper's footnote), as in the authors' public release
(``Serf``, ``Sgdf``, ``Salf``; ``Serfc = 1 - Serf``). ``Log(x) = log(x + eps)``,
``Div(a, b) = a / (b + eps)``, ``Exp`` clamps its input at 88; eps = 1e-20. The names are
those of the authors' released formula strings (``Neg``, ``Dot``, ``Sig``, ...).

Inputs, the leaves of section 3.1: classification ``X`` logits, ``Y`` one-hot labels, ``W``
the IoU of each prediction with its ground truth, a column (N, 1) broadcast over classes
(two-stage: w = 1 on background rows; one-stage: the IoU of positives, 1 on negatives);
regression ``I``, ``U``, ``E``, intersection, union and enclosing area; the constants 1, 2,
3. That is the set ``'cse'``, the searches' default.

The set ``'cse-release'`` adds the names the authors' released formula strings use:
``NY = 1 - Y``, ``Q = W * Y`` (the IoU at the GT class, 0 elsewhere) and ``Z``, ``W``
under another name (CSE-A's string). A search over it draws the IoU more often (``Z`` is
a second leaf of it in DEAP's mutations) and reaches 1 - y and w y in one leaf; a config asks
for it by name, the papers' searches do not.
"""
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .primitive_set import BranchInputs, Operator, PrimitiveSet, register_primitive_set

EPS = 1e-20
EXP_CLAMP = 88.0


def _log(x: Tensor) -> Tensor:
    return torch.log(x + EPS)


def _div(a: Tensor, b: Tensor) -> Tensor:
    return a / (b + EPS)


def _exp(x: Tensor) -> Tensor:
    return torch.exp(torch.clamp(x, max=EXP_CLAMP))


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """Class-wise dot product of two (N, C) matrices: one value per row, (N, 1)."""
    return (a * b).sum(dim=1, keepdim=True)


def serf(x: Tensor) -> Tensor:
    """erf rescaled to (0, 1): ``(erf(sqrt(pi) / 2 * x / 2) + 1) / 2``."""
    return (torch.erf(math.sqrt(math.pi) / 2 * x / 2) + 1) / 2


def sgdf(x: Tensor) -> Tensor:
    """Gudermannian gd(x) = 2 atan(tanh(x / 2)) rescaled to (0, 1):
    ``(2 atan(tanh(pi x / 8)) * 2 / pi + 1) / 2``."""
    return (2 * torch.atan(torch.tanh(math.pi * x / 8)) * 2 / math.pi + 1) / 2


def salf(x: Tensor) -> Tensor:
    """Algebraic function x / sqrt(1 + x^2) rescaled to (0, 1), with x' = x / 2."""
    half = x / 2
    return (half / torch.sqrt(1 + half * half) + 1) / 2


CSE_OPERATORS = {op.name: op for op in (
    Operator('Add', 2, torch.add, '{0} + {1}', 1),
    Operator('Sub', 2, torch.sub, '{0} - {1}', 1),
    Operator('Mul', 2, torch.mul, '{0} * {1}', 2),
    Operator('Div', 2, _div, '{0} / {1}', 2),
    Operator('Dot', 2, _dot, 'dot({0}, {1})'),
    Operator('Neg', 1, torch.neg, '-{0}', 3),
    Operator('Exp', 1, _exp, 'exp({0})'),
    Operator('Log', 1, _log, 'log({0})'),
    Operator('Abs', 1, torch.abs, '|{0}|'),
    Operator('Sqrt', 1, torch.sqrt, 'sqrt({0})'),
    Operator('Softmax', 1, lambda x: torch.softmax(x, dim=1), 'softmax({0})'),
    Operator('SoftPlus', 1, F.softplus, 'softplus({0})'),
    Operator('Sig', 1, torch.sigmoid, 'sigmoid({0})'),
    Operator('Sgdf', 1, sgdf, 'gd~({0})'),
    Operator('Salf', 1, salf, 'alf~({0})'),
    Operator('Serf', 1, serf, 'erf~({0})'),
    Operator('Serfc', 1, lambda x: 1 - serf(x), 'erfc~({0})'),
    Operator('Tanh', 1, torch.tanh, 'tanh({0})'),
    Operator('Relu', 1, torch.relu, 'relu({0})'),
    Operator('Sin', 1, torch.sin, 'sin({0})'),
    Operator('Cos', 1, torch.cos, 'cos({0})'),
)}

_BOX = BranchInputs(inputs={'I': 'intersection', 'U': 'union', 'E': 'enclosing'},
                    predictions=('I', 'U', 'E'))
_CLS = BranchInputs(inputs={'X': 'logits', 'Y': 'onehot', 'W': 'iou'}, predictions=('X', ))
#: the leaves of the released strings, in the order of the DEAP arguments
_RELEASE_CLS = BranchInputs(inputs={'X': 'logits', 'Y': 'onehot', 'NY': 'not_onehot',
                                    'W': 'iou', 'Z': 'iou', 'Q': 'iou_onehot'},
                            predictions=('X', ))

CSE = register_primitive_set(PrimitiveSet(
    name='cse', operators=CSE_OPERATORS, constants=(1.0, 2.0, 3.0),
    branches=dict(softmax_cls=_CLS, sigmoid_cls=_CLS, box=_BOX)))
CSE_RELEASE = register_primitive_set(PrimitiveSet(
    name='cse-release', operators=CSE_OPERATORS, constants=(1.0, 2.0, 3.0),
    branches=dict(softmax_cls=_RELEASE_CLS, sigmoid_cls=_RELEASE_CLS, box=_BOX)))
