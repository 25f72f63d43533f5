"""Search parameterization of monotone control points.

Auto Seg-Loss (ASL, ICLR 2021) section 4.2 and Parameterized AP Loss (PAP, NeurIPS 2021)
eq. (8) both search the interior control points ``B_1 .. B_K`` of a curve from (0, 0) to
(1, 1) through independent parameters in [0, 1]:

    theta_i = (B_i - B_{i-1}) / (B_end - B_{i-1}),  separately for the u (x) and v (y) axis,

so that every theta in [0, 1]^(K x 2) gives non-decreasing coordinates inside [0, 1]
(the monotonicity and truth-table constraints, ASL eq. 10-11). Inverting the recursion
``B_i = B_{i-1} + theta_i (1 - B_{i-1})`` gives the closed form
``1 - B_i = prod_{p <= i} (1 - theta_p)``.
"""
import torch
from torch import Tensor


def check_unit_tensor(values: Tensor, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``values`` is finite and inside [0, 1]."""
    if not torch.is_tensor(values):
        raise TypeError(f'{name} must be a tensor, got {type(values).__name__}')
    if not torch.isfinite(values).all():
        raise ValueError(f'{name} must be finite, got {values.tolist()}')
    if values.numel() and (values.min() < 0 or values.max() > 1):
        raise ValueError(f'{name} must lie in [0, 1], got {values.tolist()}')


def _check_points_shape(values: Tensor, name: str) -> None:
    if values.dim() < 2 or values.shape[-1] != 2:
        raise ValueError(f'{name} must have shape (..., K, 2), got {tuple(values.shape)}')


def params_to_points(params: Tensor) -> Tensor:
    """Map search parameters (..., K, 2) in [0, 1] to monotone control points (..., K, 2).

    Implements ``B_i = B_{i-1} + theta_i (1 - B_{i-1})`` with ``B_0 = (0, 0)`` (ASL eq. 13
    parameterization, PAP eq. 8), applied to the u and v axes independently.
    """
    _check_points_shape(params, 'params')
    check_unit_tensor(params, 'params')
    return 1 - torch.cumprod(1 - params, dim=-2)


def points_to_params(points: Tensor) -> Tensor:
    """Inverse of :func:`params_to_points` for monotone points in [0, 1].

    Where a previous coordinate already reached 1, every later point is pinned at 1 and its
    parameter is not identifiable; it is returned as 0.
    """
    _check_points_shape(points, 'points')
    check_unit_tensor(points, 'points')
    previous = torch.cat([torch.zeros_like(points[..., :1, :]), points[..., :-1, :]], dim=-2)
    if (points < previous).any():
        raise ValueError(f'points must be non-decreasing along each axis, got {points.tolist()}')
    room = 1 - previous
    safe_room = torch.where(room > 0, room, torch.ones_like(room))
    params = torch.where(room > 0, (points - previous) / safe_room, torch.zeros_like(room))
    return params.clamp(0, 1)


def identity_params(num_points: int) -> Tensor:
    """Search parameters (K, 2) whose points lie evenly on the diagonal, so that g(y) = y.

    ``theta_p = 1 / (K + 1 - p)`` for p = 0 .. K-1, e.g. K = 4 gives
    [0.2, 0.25, 1/3, 0.5] on both axes (the identity initialisation of the authors' PAP release).
    """
    if not isinstance(num_points, int) or num_points < 0:
        raise ValueError(f'num_points must be a non-negative int, got {num_points!r}')
    steps = torch.arange(num_points, dtype=torch.float64)
    params = 1.0 / (num_points + 1 - steps)
    return params[:, None].repeat(1, 2)
