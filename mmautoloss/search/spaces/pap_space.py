"""Parameterized AP Loss search space (PAP section 3.2, eq. 6-8).

Per detection head (one config key each): the five piecewise linear functions f(x; theta_1..5)
of eq. (6), M segments each, so M - 1 interior knots searched through eq. (8)'s independent
parameters (2 per knot), followed by the gradient-scale parameter theta_lambda in (0, 1) with
lambda = 10 ** (2 theta_lambda - 1). One head has 5 * (M - 1) * 2 + 1 dimensions (41 for
M = 5); Faster R-CNN searches the RPN and R-CNN heads together (82, PAP section 4).
"""
from collections.abc import Sequence

import torch

from ...functional.ap_surrogate import FUNCTION_NAMES
from ...functional.grad_scale import grad_scale_from_param, grad_scale_to_param
from ...functional.monotone_function import MonotoneFunction
from .base import SPACES
from .vector_space import VectorSpace

NUM_FUNCTIONS = len(FUNCTION_NAMES)


@SPACES.register_module()
class PAPSpace(VectorSpace):
    """Search space of ``ParamAPLoss`` over one or more detection heads.

    Args:
        keys (Sequence[str]):
            config keys of the heads' ``loss`` dicts, e.g. ``['model.bbox_head.loss_ap']``
            (RetinaNet, Deformable DETR) or ``['model.rpn_head.loss_ap',
            'model.roi_head.bbox_head.loss_ap']`` (Faster R-CNN).
        num_segments (int): segments M of every piecewise linear function (5 = 6 knots).
        loss_options (Optional[dict]):
            fixed (not searched) ``ParamAPLoss`` settings for every candidate,
            e.g. ``dict(loc_measure='iou')``.
    """

    loss_type = 'ParamAPLoss'
    searched_fields = ('params', 'functions', 'num_segments', 'grad_scale',
                       'grad_scale_param')

    def __init__(self, keys: Sequence[str], num_segments: int = 5,
                 loss_options: dict | None = None) -> None:
        super().__init__(keys, loss_options)
        self.num_points = MonotoneFunction.num_points('linear', num_segments)
        if self.num_points < 1:
            raise ValueError(f'num_segments must be >= 2 to leave interior knots to search, '
                             f'got {num_segments!r}')
        self.num_segments = num_segments
        self.head_dim = NUM_FUNCTIONS * self.num_points * 2 + 1
        self.dim = self.head_dim * len(self.keys)

    def initial_mean(self) -> list[float]:
        identity = MonotoneFunction.identity_params('linear', self.num_segments)
        head = identity.flatten().tolist() * NUM_FUNCTIONS + [grad_scale_to_param(1.0)]
        return head * len(self.keys)

    def curves(self, candidate: Sequence[float]) -> dict[str, MonotoneFunction]:
        curves = {}
        for key, part in self.split(candidate).items():
            head = key.split('.')[-2] if '.' in key else key
            params = torch.tensor(part[:-1], dtype=torch.float64)
            for name, p in zip(FUNCTION_NAMES, params.reshape(NUM_FUNCTIONS, -1, 2)):
                label = f'{head}/{name}' if len(self.keys) > 1 else name
                curves[label] = MonotoneFunction.from_params('linear', p, name=label)
        return curves

    def _loss_fields(self, key: str, part: list[float]) -> dict:
        return dict(num_segments=self.num_segments, params=list(part[:-1]),
                    grad_scale=grad_scale_from_param(part[-1]))

    def _from_loss(self, key: str, loss: dict) -> list[float]:
        """Candidate of a ``ParamAPLoss`` dict with ``params`` or released ``functions``."""
        if loss.get('num_segments', self.num_segments) != self.num_segments:
            raise ValueError(f'overrides[{key!r}].num_segments must be {self.num_segments}, '
                             f'got {loss.get("num_segments")!r}')
        if loss.get('params') is not None:
            values = [float(v) for v in loss['params']]
        elif loss.get('functions') is not None:
            functions = loss['functions']
            if len(functions) != NUM_FUNCTIONS:
                raise ValueError(f'overrides[{key!r}].functions must hold {NUM_FUNCTIONS} '
                                 f'functions, got {len(functions)}')
            values = []
            for name, knots in zip(FUNCTION_NAMES, functions):
                curve = MonotoneFunction.from_points('linear', knots, name=name,
                                                     num_segments=self.num_segments,
                                                     include_endpoints=True)
                values.extend(curve.params().flatten().tolist())
        else:
            raise ValueError(f'overrides[{key!r}] has neither params nor functions')
        if 'grad_scale_param' in loss:
            theta_lambda = float(loss['grad_scale_param'])
        else:
            # ParamAPLoss reads grad_scale=None as lambda = 1
            grad_scale = loss.get('grad_scale')
            theta_lambda = grad_scale_to_param(1.0 if grad_scale is None else grad_scale)
        return values + [theta_lambda]
