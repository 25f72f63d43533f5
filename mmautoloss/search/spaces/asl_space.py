"""Auto Seg-Loss search space: the control points of the metric's curves (ASL section 4.2).

A metric's surrogate uses a fixed number of curves g (mIoU / FWIoU / BIoU: g_AND, g_OR;
mAcc / gAcc: g_AND; BF1: four curves, one-piece Bezier by default). Each curve of ``n``
segments has K interior control points (2n - 1 for Bezier, n - 1 for piecewise linear), each
searched through the independent parameters of ASL eq. (13)'s parameterization,
``theta_i = (B_i - B_{i-1}) / (B_2n - B_{i-1})`` per axis. The candidate vector is the flat
concatenation of all curves' parameters, which is exactly ``AutoSegLoss(params=...)``.
"""
from collections.abc import Sequence

import torch

from ...functional.monotone_function import KINDS, MonotoneFunction
from .base import SPACES
from .vector_space import VectorSpace

#: names of the curves of each metric, in the order of AutoSegLoss's params
CURVE_NAMES = {
    'mIoU': ('g_AND', 'g_OR'),
    'FWIoU': ('g_AND', 'g_OR'),
    'BIoU': ('g_AND', 'g_OR'),
    'mAcc': ('g_AND', ),
    'gAcc': ('g_AND', ),
    'BF1': ('g_OR_xor', 'g_AND_xor', 'g_AND_precision', 'g_AND_recall'),
}
#: default segments per curve: two-piece Bezier, one-piece for the four BF1 curves
DEFAULT_SEGMENTS = {'BF1': 1}


@SPACES.register_module()
class ASLSpace(VectorSpace):
    """Search space of ``AutoSegLoss`` for one target metric (ASL eq. 12-13).

    Args:
        metric (str): one of ``'mIoU', 'FWIoU', 'BIoU', 'BF1', 'mAcc', 'gAcc'``.
        key (str): config key of the decode head's loss (a single loss dict).
        parameterization (str): ``'bezier'`` (default) or ``'linear'``.
        num_segments (Optional[int]): segments per curve; default 2 (1 for BF1).
        loss_options (Optional[dict]):
            fixed (not searched) ``AutoSegLoss`` settings for every candidate,
            e.g. ``dict(boundary_tolerance=1)`` to match the proxy's boundary metrics.
    """

    loss_type = 'AutoSegLoss'
    searched_fields = ('metric', 'parameterization', 'num_segments', 'params', 'theta')

    def __init__(self, metric: str, key: str = 'model.decode_head.loss_decode',
                 parameterization: str = 'bezier', num_segments: int | None = None,
                 loss_options: dict | None = None) -> None:
        super().__init__([key], loss_options)
        if metric not in CURVE_NAMES:
            raise ValueError(f'metric must be one of {sorted(CURVE_NAMES)}, got {metric!r}')
        if parameterization not in KINDS:
            raise ValueError(f'parameterization must be one of {KINDS}, '
                             f'got {parameterization!r}')
        if num_segments is None:
            num_segments = DEFAULT_SEGMENTS.get(metric, 2)
        self.num_points = MonotoneFunction.num_points(parameterization, num_segments)
        if self.num_points < 1:
            raise ValueError(f'num_segments={num_segments} leaves a {parameterization} curve '
                             'without interior points to search')
        self.metric = metric
        self.parameterization = parameterization
        self.num_segments = num_segments
        self.curve_names = CURVE_NAMES[metric]
        self.dim = len(self.curve_names) * self.num_points * 2

    def initial_mean(self) -> list[float]:
        identity = MonotoneFunction.identity_params(self.parameterization, self.num_segments)
        return identity.flatten().tolist() * len(self.curve_names)

    def _per_curve(self, values: Sequence[float]) -> list[torch.Tensor]:
        tensor = torch.tensor(list(values), dtype=torch.float64)
        return list(tensor.reshape(len(self.curve_names), self.num_points, 2))

    def curves(self, candidate: Sequence[float]) -> dict[str, MonotoneFunction]:
        params = self._per_curve(self.check(candidate))
        return {name: MonotoneFunction.from_params(self.parameterization, p, name=name)
                for name, p in zip(self.curve_names, params)}

    def _loss_fields(self, key: str, part: list[float]) -> dict:
        return dict(metric=self.metric, parameterization=self.parameterization,
                    num_segments=self.num_segments, params=list(part))

    def _from_loss(self, key: str, loss: dict) -> list[float]:
        """Candidate of an ``AutoSegLoss`` dict with ``params`` or ``theta`` (coordinates)."""
        for field, expected in (('metric', self.metric),
                                ('parameterization', self.parameterization),
                                ('num_segments', self.num_segments)):
            if loss.get(field, expected) != expected:
                raise ValueError(f'overrides[{key!r}].{field} must be {expected!r} for this '
                                 f'space, got {loss.get(field)!r}')
        if loss.get('params') is not None:
            return [float(v) for v in loss['params']]
        if loss.get('theta') is None:
            raise ValueError(f'overrides[{key!r}] has neither params nor theta')
        theta = [float(v) for v in loss['theta']]
        if len(theta) != self.dim:
            raise ValueError(f'overrides[{key!r}].theta must have {self.dim} numbers, '
                             f'got {len(theta)}')
        values: list[float] = []
        for name, points in zip(self.curve_names, self._per_curve(theta)):
            curve = MonotoneFunction.from_points(self.parameterization, points, name=name)
            values.extend(curve.params().flatten().tolist())
        return values
