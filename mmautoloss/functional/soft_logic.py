"""Parameterized soft logical operations of Auto Seg-Loss (ASL, ICLR 2021, eq. 8-9).

The binary operations of the segmentation metrics (Table 1) are extended to inputs in [0, 1]:

    h_AND(y1, y2; theta_AND) = g(y1; theta_AND) g(y2; theta_AND)                      (eq. 9)
    h_OR(y1, y2; theta_OR)   = g(y1; theta_OR) + g(y2; theta_OR)
                               - g(y1; theta_OR) g(y2; theta_OR)                       (eq. 9)
    h_XOR(y1, y2)            = h_OR(y1, y2; theta_OR) - h_AND(y1, y2; theta_AND)   (section 4.1)

With g the identity these are the naive arithmetic extensions of eq. (8). ``g`` is any
callable from a tensor to a tensor of the same shape, normally a
:class:`~mmautoloss.functional.monotone_function.MonotoneFunction` satisfying the truth-table
(eq. 10) and monotonicity (eq. 11) constraints; ``None`` means the identity. Parameters are
not shared between occurrences of an operation in a metric, so the caller passes one ``g`` per
occurrence (the XOR gets its own OR and AND curves).
"""
from collections.abc import Callable

import torch
from torch import Tensor

Curve = Callable[[Tensor], Tensor]


def apply_curve_or_identity(g: Curve | None, y: Tensor) -> Tensor:
    """``g(y)``, or ``y`` itself when ``g`` is None; checks that g keeps the shape."""
    if g is None:
        return y
    if not callable(g):
        raise ValueError(f'g must be callable or None, got {g!r}')
    out = g(y)
    if not torch.is_tensor(out) or out.shape != y.shape:
        raise ValueError(f'g must map a tensor to a tensor of the same shape, got '
                         f'{type(out).__name__} of shape '
                         f'{tuple(out.shape) if torch.is_tensor(out) else None} for input '
                         f'shape {tuple(y.shape)}')
    return out


def _check_inputs(y1: Tensor, y2: Tensor) -> None:
    for name, value in (('y1', y1), ('y2', y2)):
        if not torch.is_tensor(value) or not torch.is_floating_point(value):
            raise ValueError(f'{name} must be a floating tensor, got '
                             f'{value.dtype if torch.is_tensor(value) else type(value).__name__}')
    try:
        torch.broadcast_shapes(y1.shape, y2.shape)
    except RuntimeError as error:
        raise ValueError(f'y1 and y2 must broadcast, got shapes {tuple(y1.shape)} and '
                         f'{tuple(y2.shape)}') from error


def soft_and(y1: Tensor, y2: Tensor, g: Curve | None = None) -> Tensor:
    """h_AND(y1, y2) = g(y1) g(y2) (ASL eq. 9; eq. 8 when ``g`` is None)."""
    _check_inputs(y1, y2)
    return apply_curve_or_identity(g, y1) * apply_curve_or_identity(g, y2)


def soft_or(y1: Tensor, y2: Tensor, g: Curve | None = None) -> Tensor:
    """h_OR(y1, y2) = g(y1) + g(y2) - g(y1) g(y2) (ASL eq. 9; eq. 8 when ``g`` is None)."""
    _check_inputs(y1, y2)
    a, b = apply_curve_or_identity(g, y1), apply_curve_or_identity(g, y2)
    return a + b - a * b


def soft_xor(y1: Tensor, y2: Tensor, g_or: Curve | None = None,
             g_and: Curve | None = None) -> Tensor:
    """h_XOR(y1, y2) = h_OR(y1, y2; theta_OR) - h_AND(y1, y2; theta_AND) (ASL section 4.1).

    The OR and the AND inside the XOR have their own curves ``g_or`` and ``g_and``.
    """
    return soft_or(y1, y2, g_or) - soft_and(y1, y2, g_and)
