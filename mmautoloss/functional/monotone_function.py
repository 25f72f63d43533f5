"""Monotone functions g: [0, 1] -> [0, 1] with g(0) = 0 and g(1) = 1.

One object serves both papers: Auto Seg-Loss's g(y; theta) (section 4.2, eq. 10-13:
piecewise quadratic Bezier by default, piecewise linear as the alternative) and the five
f(x; theta_i) of Parameterized AP Loss (eq. 6, piecewise linear with M segments). The
truth-table constraint (eq. 10) holds because (0, 0) and (1, 1) are fixed end points, and
monotonicity (eq. 11) because interior points are checked to be non-decreasing, or built
from search parameters through :func:`params_to_points`, which cannot produce anything else.
"""
from collections.abc import Sequence

import torch
from torch import Tensor

from .curve_gradient import value_and_slope
from .monotone_params import check_unit_tensor, identity_params, params_to_points, points_to_params
from .piecewise_bezier import bezier_evaluator, needs_root_guard, piecewise_bezier
from .piecewise_linear import linear_evaluator, piecewise_linear

KINDS = ('bezier', 'linear')
FloatsLike = Tensor | Sequence[float] | Sequence[Sequence[float]]


def flat_numbers(values: FloatsLike, name: str) -> Tensor:
    """``values`` (a config list, nested or flat) as a flat float64 tensor; ``ValueError``
    naming ``name`` when they are not numbers."""
    try:
        return torch.as_tensor(values, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f'{name} must be a flat list of numbers, got {values!r}') from error


def _as_points(values: FloatsLike, name: str) -> Tensor:
    try:
        tensor = torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f'{name} must be numbers, got {values!r}') from error
    if tensor.dim() == 1:
        if tensor.numel() % 2:
            raise ValueError(f'{name} must hold (x, y) pairs, got {tensor.numel()} numbers: '
                             f'{tensor.tolist()}')
        tensor = tensor.reshape(-1, 2)
    if tensor.dim() != 2 or tensor.shape[1] != 2:
        raise ValueError(f'{name} must be flat pairs or shape (K, 2), got {tuple(tensor.shape)}')
    return tensor


class MonotoneFunction:
    """A monotone curve through (0, 0) and (1, 1), called elementwise on tensors.

    Args:
        kind (str): ``'bezier'`` (piecewise quadratic Bezier, ASL eq. 12-13) or ``'linear'``.
        points (FloatsLike):
            (K, 2) interior control points (bezier, K = 2n - 1) or knots (linear,
            K = n - 1), without the end points; validated to be finite, inside [0, 1] and
            non-decreasing along both axes.
        name (str): how error messages refer to the points (e.g. a config key).
    """

    def __init__(self, kind: str, points: FloatsLike, name: str = 'theta') -> None:
        if kind not in KINDS:
            raise ValueError(f'parameterization must be one of {KINDS}, got {kind!r}')
        tensor = _as_points(points, name)
        check_unit_tensor(tensor, name)
        if tensor.shape[0]:
            steps = tensor[1:] - tensor[:-1]
            if (steps < 0).any():
                raise ValueError(f'{name} must be non-decreasing in x and y (monotonicity '
                                 f'constraint, ASL eq. 11), got {tensor.tolist()}')
        if kind == 'bezier' and tensor.shape[0] % 2 != 1:
            raise ValueError(f'{name}: a piecewise Bezier curve of n segments has 2n - 1 '
                             f'interior control points, got {tensor.shape[0]}')
        self.kind = kind
        self.points = tensor
        self._cache: dict[tuple[torch.dtype, torch.device], Tensor] = {}
        # needs_root_guard per dtype, decided here from the host copy (no read-back later)
        self._guards: dict[torch.dtype, bool] = {
            dtype: needs_root_guard(tensor, dtype) for dtype in (torch.float32, torch.float64)
        } if kind == 'bezier' else {}

    @property
    def num_segments(self) -> int:
        return (self.points.shape[0] + 1) // 2 if self.kind == 'bezier' else \
            self.points.shape[0] + 1

    @staticmethod
    def num_points(kind: str, num_segments: int) -> int:
        """Interior points of a curve with ``num_segments`` segments (2n - 1 or n - 1)."""
        if kind not in KINDS:
            raise ValueError(f'parameterization must be one of {KINDS}, got {kind!r}')
        if not isinstance(num_segments, int) or num_segments < 1:
            raise ValueError(f'num_segments must be a positive int, got {num_segments!r}')
        return 2 * num_segments - 1 if kind == 'bezier' else num_segments - 1

    @classmethod
    def identity(cls, kind: str, num_segments: int) -> 'MonotoneFunction':
        """g(y) = y: interior points evenly spaced on the diagonal."""
        num_points = cls.num_points(kind, num_segments)
        points = torch.linspace(0, 1, num_points + 2, dtype=torch.float64)[1:-1]
        return cls(kind, points[:, None].repeat(1, 2))

    @classmethod
    def from_points(cls, kind: str, points: FloatsLike, name: str = 'theta',
                    num_segments: int = None,
                    include_endpoints: bool = False) -> 'MonotoneFunction':
        """Build from control-point coordinates, flat ``[x1, y1, x2, y2, ...]`` or (K, 2).

        ``include_endpoints=True`` takes the full list from (0, 0) to (1, 1) (the format of
        PAP's released functions) and checks the two end points. ``num_segments``, if given,
        checks the number of points.
        """
        tensor = _as_points(points, name)
        if include_endpoints:
            if tensor.shape[0] < 2 or tensor[0].tolist() != [0.0, 0.0] or \
                    tensor[-1].tolist() != [1.0, 1.0]:
                raise ValueError(f'{name} must start at (0, 0) and end at (1, 1) '
                                 f'(truth-table constraint), got {tensor.tolist()}')
            tensor = tensor[1:-1]
        if num_segments is not None:
            expected = cls.num_points(kind, num_segments)
            if tensor.shape[0] != expected:
                extra = 2 if include_endpoints else 0
                raise ValueError(
                    f'{name} must hold {2 * (expected + extra)} numbers for a {kind} curve '
                    f'of {num_segments} segments, got {2 * (tensor.shape[0] + extra)}')
        return cls(kind, tensor, name=name)

    @classmethod
    def from_params(cls, kind: str, params: FloatsLike,
                    name: str = 'params') -> 'MonotoneFunction':
        """Build from independent search parameters in [0, 1] (ASL eq. 13 / PAP eq. 8)."""
        tensor = _as_points(params, name)
        check_unit_tensor(tensor, name)
        return cls(kind, params_to_points(tensor), name=name)

    @staticmethod
    def identity_params(kind: str, num_segments: int) -> Tensor:
        """Search parameters (K, 2) of the identity curve."""
        return identity_params(MonotoneFunction.num_points(kind, num_segments))

    def params(self) -> Tensor:
        """Search parameters (K, 2) in [0, 1] that reproduce these points."""
        return points_to_params(self.points)

    def to_list(self, include_endpoints: bool = False) -> list[float]:
        """Flat coordinates ``[x1, y1, ...]`` as stored in configs."""
        points = self.points
        if include_endpoints:
            points = torch.cat([points.new_zeros(1, 2), points, points.new_ones(1, 2)])
        return points.flatten().tolist()

    def knots(self) -> tuple[Tensor, Tensor]:
        """Full knot coordinates (K + 2,) from (0, 0) to (1, 1); linear functions only."""
        if self.kind != 'linear':
            raise ValueError(f'knots() is defined for linear functions, this one is {self.kind}')
        return self._knots_of(self.points)

    def _points_like(self, x: Tensor) -> Tensor:
        if not torch.is_floating_point(x):
            raise TypeError(f'MonotoneFunction expects a floating tensor, got {x.dtype}')
        key = (x.dtype, x.device)
        if key not in self._cache:
            self._cache[key] = self.points.to(device=x.device, dtype=x.dtype)
        return self._cache[key]

    def __call__(self, x: Tensor) -> Tensor:
        """g(x) elementwise, x clamped to [0, 1]; gradient w.r.t. x is the exact slope."""
        points = self._points_like(x)
        if self.kind == 'bezier':
            return piecewise_bezier(x, points, self._guard(x))
        knot_x, knot_y = self._knots_of(points)
        return piecewise_linear(x, knot_x, knot_y)

    def value_and_slope(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(g(x), g'(x)) elementwise, without an autograd graph: for a caller that writes
        its own backward (the surrogates' fused per-class sums)."""
        points = self._points_like(x)
        if self.kind == 'bezier':
            return value_and_slope(x, bezier_evaluator(points, x, self._guard(x)))
        knot_x, knot_y = self._knots_of(points)
        return value_and_slope(x, linear_evaluator(knot_x, knot_y, x))

    def _guard(self, x: Tensor) -> bool:
        """:func:`needs_root_guard` for x's dtype, from the host copy of the points."""
        if x.dtype not in self._guards:  # another float type (half, bfloat16)
            self._guards[x.dtype] = needs_root_guard(self.points, x.dtype)
        return self._guards[x.dtype]

    @staticmethod
    def _knots_of(points: Tensor) -> tuple[Tensor, Tensor]:
        """Knot x and y coordinates (K + 2,) of interior ``points``, end points added."""
        zero, one = points.new_zeros(1, 2), points.new_ones(1, 2)
        full = torch.cat([zero, points, one])
        return full[:, 0], full[:, 1]

    def __repr__(self) -> str:
        return f'MonotoneFunction(kind={self.kind!r}, points={self.to_list()})'
