"""AutoLoss-Zero's primitive operator set H (ALZ CVPR 2022, section 3.1, Table 1).

Element-wise: Add, Mul, Neg, Abs, Inv ``1 / (x + eps)``, Log ``sign(x) log(|x| + eps)``,
Exp, Tanh, Square, Sqrt ``sign(x) sqrt(|x| + eps)``; aggregation, each replacing every
element by the aggregate so that every node keeps the input shape (N, C, H, W): Mean over
(n, h, w), Mean over c, Max-Pooling 3x3 and Min-Pooling 3x3 (stride 1, padding 1);
eps = 1e-12. Leaves are sampled from {prediction, target, 1}. Predictions and targets without
spatial dimensions are (N, C, 1, 1) (the paper's footnote 1).

Branch inputs: ``P`` is the prediction y-hat, ``Y`` the target, in the forms the paper's
discovered losses of Table 8 take (e.g. ``-y log(y-hat)``): softmax probabilities and one-hot
labels for segmentation and two-stage classification; for a sigmoid prediction (the RPN's
objectness, one-stage classification, Mask R-CNN's masks) the softmax over foreground /
background and the one-hot target over both, background included (appendix A.2 / A.3;
``binary_`` quantities of ``branch_inputs``), so that ``Neg(Mul(Y,Log(P)))`` is binary
cross-entropy on every classification branch; the raw and the target heatmap for pose;
box regression uses ``I``, ``U``, ``E``: intersection, union and enclosing area of the
predicted and target boxes (ALZ section 4.2, after CSE-Autoloss). The set ``'alz-boundary'``
is the same with the boundary of the target for ``Y`` (segmentation only), for the searches
of the boundary metrics.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .primitive_set import BranchInputs, Operator, PrimitiveSet, register_primitive_set

EPS = 1e-12


def _log(x: Tensor) -> Tensor:
    return torch.sign(x) * torch.log(x.abs() + EPS)


def _sqrt(x: Tensor) -> Tensor:
    return torch.sign(x) * torch.sqrt(x.abs() + EPS)


def _mean_nhw(x: Tensor) -> Tensor:
    return x.mean(dim=(0, 2, 3), keepdim=True).expand_as(x)


def _mean_c(x: Tensor) -> Tensor:
    return x.mean(dim=1, keepdim=True).expand_as(x)


def _max_pool(x: Tensor) -> Tensor:
    return F.max_pool2d(x.contiguous(), kernel_size=3, stride=1, padding=1)


def _min_pool(x: Tensor) -> Tensor:
    return -F.max_pool2d(-x.contiguous(), kernel_size=3, stride=1, padding=1)


ALZ_OPERATORS = {op.name: op for op in (
    Operator('Add', 2, torch.add, '{0} + {1}', 1),
    Operator('Mul', 2, torch.mul, '{0} * {1}', 2),
    Operator('Neg', 1, torch.neg, '-{0}', 3),
    Operator('Abs', 1, torch.abs, '|{0}|'),
    Operator('Inv', 1, lambda x: 1 / (x + EPS), '1 / {0}', 2),
    Operator('Log', 1, _log, 'log({0})'),
    Operator('Exp', 1, torch.exp, 'exp({0})'),
    Operator('Tanh', 1, torch.tanh, 'tanh({0})'),
    Operator('Square', 1, torch.square, '({0})^2'),
    Operator('Sqrt', 1, _sqrt, 'sqrt({0})'),
    Operator('MeanNHW', 1, _mean_nhw, 'mean_nhw({0})'),
    Operator('MeanC', 1, _mean_c, 'mean_c({0})'),
    Operator('MaxPool', 1, _max_pool, 'maxpool3({0})'),
    Operator('MinPool', 1, _min_pool, 'minpool3({0})'),
)}

_PRED_TARGET = dict(inputs={'P': 'probs', 'Y': 'onehot'}, predictions=('P', ))
_FOREGROUND_BACKGROUND = BranchInputs(inputs={'P': 'binary_probs', 'Y': 'binary_onehot'},
                                      predictions=('P', ))
_BOX = BranchInputs(inputs={'I': 'intersection', 'U': 'union', 'E': 'enclosing'},
                    predictions=('I', 'U', 'E'))

ALZ = register_primitive_set(PrimitiveSet(
    name='alz', operators=ALZ_OPERATORS, constants=(1.0, ),
    branches=dict(
        seg=BranchInputs(**_PRED_TARGET),
        sigmoid_cls=_FOREGROUND_BACKGROUND,
        softmax_cls=BranchInputs(**_PRED_TARGET),
        mask=_FOREGROUND_BACKGROUND,
        heatmap=BranchInputs(inputs={'P': 'logits', 'Y': 'target'}, predictions=('P', )),
        box=_BOX)))

#: the boundary metrics' searches (BIoU, BF1; appendix A.1: "we use the pre-computed
#: boundaries of y as the training targets"): ``Y`` is the one-hot target on each class's
#: boundary only
ALZ_BOUNDARY = register_primitive_set(PrimitiveSet(
    name='alz-boundary', operators=ALZ_OPERATORS, constants=(1.0, ),
    branches=dict(seg=BranchInputs(inputs={'P': 'probs', 'Y': 'boundary_onehot'},
                                   predictions=('P', )))))
