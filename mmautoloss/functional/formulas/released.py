"""Released formula losses, by name, as their authors wrote them.

CSE-Autoloss (ICLR 2021, section 4 and its public release, github.com/PerdonLiu/CSE-Autoloss)
in the authors' DEAP notation (the classification strings over the primitive set
``'cse-release'``, which has their leaf names; the initial losses over the paper's leaves):

- ``CSE-A/cls`` ``-dot((1 + sin(w)) y, log(softmax(x)))`` and ``CSE-A/reg``
  ``(1 - i/u) + (1 - (i + 2)/e)``, for two-stage detectors (Faster / Cascade / Mask R-CNN);
- ``CSE-B/cls`` ``-[w y (1 + erf~(sigmoid(1 - y))) log sigmoid(x) + (gd~(x) - w y)
  (sigmoid(x) - w y) log(1 - sigmoid(x))]``, multiplied by ``alpha_t = 0.25 y + 0.75 (1 - y)``
  as the release's wrapper does, and ``CSE-B/reg`` ``(3eu + 12e + 3i + 3u + 18) /
  (-3eu + iu + u^2 - 15e + 5i + 5u)``, for one-stage detectors (FCOS, ATSS);
- the initial losses of the search (section 3.1): ``CEI`` ``-dot(w y, log(softmax(x)))``
  (two-stage), ``FLI`` ``-w [y (1 - sigmoid(x)) log sigmoid(x) + (1 - y) sigmoid(x)
  log(1 - sigmoid(x))]`` (one-stage) and ``GIoU`` ``1 - i/u + (e - u)/e`` (regression).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleasedFormula:
    """A released loss: its formula string, primitive set, branch kind and the focal-style
    ``alpha`` its wrapper applies (None: none)."""

    formula: str
    primitive_set: str
    kind: str
    alpha: float | None = None


RELEASED_FORMULAS: dict[str, ReleasedFormula] = {
    'CSE-A/cls': ReleasedFormula('Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))',
                                 'cse-release', 'softmax_cls'),
    'CSE-A/reg': ReleasedFormula('Add(1,Neg(Add(Div(I,U),Neg(Div(Add(E,Neg(Add(I,2))),E)))))',
                                 'cse', 'box'),
    'CSE-B/cls': ReleasedFormula(
        'Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),'
        'Mul(Add(Add(1,Neg(Q)),Neg(Add(1,Neg(Sig(X))))),Log(Add(1,Neg(Sig(X))))))))',
        'cse-release', 'sigmoid_cls', alpha=0.25),
    'CSE-B/reg': ReleasedFormula(
        'Neg(Div(Add(Div(Neg(Add(Neg(E),Add(1,I))),Neg(Add(3,Add(2,U)))),Add(Div(E,E),'
        'Div(Neg(E),Neg(1)))),Neg(Add(Div(Neg(Add(U,Div(I,1))),Neg(3)),Neg(E)))))', 'cse',
        'box'),
    'CEI': ReleasedFormula('Neg(Dot(Mul(W,Y),Log(Softmax(X))))', 'cse', 'softmax_cls'),
    'FLI': ReleasedFormula('Neg(Mul(W,Add(Mul(Mul(Y,Sub(1,Sig(X))),Log(Sig(X))),'
                           'Mul(Mul(Sub(1,Y),Sig(X)),Log(Sub(1,Sig(X)))))))', 'cse',
                           'sigmoid_cls'),
    'GIoU': ReleasedFormula('Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))', 'cse', 'box'),
}
