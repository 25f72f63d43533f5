"""``AutoSegLoss``: a searched Auto Seg-Loss surrogate (ASL, ICLR 2021) as an mmseg loss.

``loss = loss_weight * (1 - surrogate metric)`` where the surrogate is one of the six
metrics of ASL Table 1 extended by eq. (7) (softmax) and eq. (9) (parameterized AND / OR /
XOR), see :mod:`mmautoloss.functional.seg_surrogates`. The curves g(y; theta) are
:class:`~mmautoloss.functional.monotone_function.MonotoneFunction` objects (eq. 10-13).

Used as an mmseg decode-head ``loss_decode``: mmseg 1.2.2's ``BaseDecodeHead.loss_by_feat``
resizes the logits to the label size and calls
``loss_decode(seg_logits, seg_label, weight=seg_weight, ignore_index=self.ignore_index)``,
storing the result under ``loss_decode.loss_name``. Several losses (e.g. mIoU + BIoU, ASL
Table 2) go in a list, each with its own ``loss_name``.
"""
from collections.abc import Sequence

from torch import Tensor, nn

from mmautoloss.functional.monotone_function import KINDS, MonotoneFunction, flat_numbers
from mmautoloss.functional.seg_surrogates import SURROGATES
from mmautoloss.functional.seg_surrogates_release import RELEASE_SURROGATES
from mmautoloss.registry import MODELS
from mmautoloss.utils.checks import check_int

from .loss_weight import check_loss_weight

BOUNDARY_METRICS = ('BIoU', 'BF1')
#: ``'paper'``: the metric definitions of ASL Table 1, exact to mmseg's evaluator and the
#: package's boundary metrics at one-hot inputs (the search's default); ``'release'``: the
#: arithmetic of the authors' public release, which produced the paper's numbers with the
#: released curves (every config that ships released curves uses it)
FORMULATIONS = ('paper', 'release')


def default_num_segments(metric: str, parameterization: str) -> int:
    """Segments per curve when the config gives none.

    Bezier: 2 (the paper's default, section 4.2), 1 for BF1 (the released BF1 curves are
    1-piece). Linear: as many interior knots as the Bezier default has control points
    (2n - 1 knots, i.e. 2n segments), so both searches have the same number of parameters.
    """
    bezier_segments = 1 if metric == 'BF1' else 2
    return bezier_segments if parameterization == 'bezier' else 2 * bezier_segments


@MODELS.register_module()
class AutoSegLoss(nn.Module):
    """Auto Seg-Loss surrogate loss ``loss_weight * (1 - xi_Theta)`` (ASL eq. 9, Table 1).

    Args:
        metric (str): ``'mIoU'``, ``'FWIoU'``, ``'BIoU'``, ``'BF1'``, ``'mAcc'`` or ``'gAcc'``.
        num_classes (Optional[int]):
            expected number of logit channels (checked in ``forward``); None skips
            the check.
        parameterization (str):
            ``'bezier'`` (piecewise quadratic Bezier, eq. 12-13) or ``'linear'``.
        num_segments (Optional[int]):
            segments per curve; None uses :func:`default_num_segments`.
        theta (Optional[Sequence[float]]):
            interior control-point coordinates of all curves of the metric, flat and
            concatenated in the metric's curve order (mIoU / FWIoU / BIoU: AND, OR; mAcc /
            gAcc: AND; BF1, paper form: XOR-OR, XOR-AND, precision AND, recall AND; BF1,
            release form: AND(p), AND(erode p), OR(p), OR(erode p)), e.g. 12 numbers
            ``[c1x, c1y, e1x, e1y, c2x, c2y] * 2`` for mIoU with 2-piece Bezier curves (the
            released format). None (and no ``params``) gives the identity curves, eq. (8).
        params (Optional[Sequence[float]]):
            the same curves as search parameters in [0, 1] (eq. 13 parameterization), the
            form the search engine passes; mutually exclusive with ``theta``.
        ignore_index (int): label of ignored pixels, used when ``forward`` is given none.
        loss_weight (float): multiplies the loss.
        boundary_tolerance (int):
            BIoU band half-width / BF1 dilation radius in pixels (default 5).
        ignore_background_boundary (Optional[bool]):
            BIoU only, leave background edges out of the band
            (None = True for BIoU); BF1 always includes the background.
        formulation (str): ``'paper'`` (default) or ``'release'``, see :data:`FORMULATIONS` and
            :mod:`mmautoloss.functional.seg_surrogates_release` for the differences.
        loss_name (Optional[str]):
            key of the loss in mmseg's loss dict; must start with ``'loss_'``
            (default ``'loss_asl_<metric>'``).
        debug (bool): also check the values in ``forward`` (probabilities in [0, 1], labels in
            range); off by default because reading values back synchronises the device
            with the host on every iteration. Shapes and types are always checked.
    """

    def __init__(self,
                 metric: str,
                 num_classes: int | None = None,
                 parameterization: str = 'bezier',
                 num_segments: int | None = None,
                 theta: Sequence[float] | None = None,
                 params: Sequence[float] | None = None,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 boundary_tolerance: int = 5,
                 ignore_background_boundary: bool | None = None,
                 loss_name: str | None = None,
                 formulation: str = 'paper',
                 debug: bool = False) -> None:
        super().__init__()
        if metric not in SURROGATES:
            raise ValueError(f'metric must be one of {sorted(SURROGATES)}, got {metric!r}')
        if parameterization not in KINDS:
            raise ValueError(f'parameterization must be one of {KINDS}, got '
                             f'{parameterization!r}')
        if num_classes is not None:
            check_int(num_classes, 'num_classes', 1, expected='a positive int or None')
        check_int(ignore_index, 'ignore_index')
        check_int(boundary_tolerance, 'boundary_tolerance', 0, expected='a non-negative int')
        if ignore_background_boundary is not None and metric != 'BIoU':
            raise ValueError('ignore_background_boundary applies to metric=BIoU only, got '
                             f'ignore_background_boundary={ignore_background_boundary!r} for '
                             f'metric={metric!r}')
        if formulation not in FORMULATIONS:
            raise ValueError(f'formulation must be one of {FORMULATIONS}, got {formulation!r}')
        if not isinstance(debug, bool):
            raise ValueError(f'debug must be True or False, got {debug!r}')
        if loss_name is None:
            loss_name = f'loss_asl_{metric.lower()}'
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must be a str starting with 'loss_', got {loss_name!r}")
        if num_segments is None:
            num_segments = default_num_segments(metric, parameterization)
        points_per_curve = MonotoneFunction.num_points(parameterization, num_segments)

        self.metric = metric
        self.num_classes = num_classes
        self.parameterization = parameterization
        self.num_segments = num_segments
        self.ignore_index = ignore_index
        self.loss_weight = check_loss_weight(loss_weight)
        self.boundary_tolerance = boundary_tolerance
        self.ignore_background_boundary = (ignore_background_boundary is not False
                                           if metric == 'BIoU' else None)
        self._loss_name = loss_name
        self.formulation = formulation
        self.debug = debug
        self.curves = self._build_curves(theta, params, points_per_curve)

    def _build_curves(self, theta: Sequence[float] | None, params: Sequence[float] | None,
                      points_per_curve: int) -> list[MonotoneFunction]:
        num_curves = SURROGATES[self.metric][1]
        if theta is not None and params is not None:
            raise ValueError(f'give theta or params, not both; got theta={theta!r} and '
                             f'params={params!r}')
        if theta is None and params is None:
            return [MonotoneFunction.identity(self.parameterization, self.num_segments)
                    for _ in range(num_curves)]
        key, values = ('theta', theta) if theta is not None else ('params', params)
        flat = flat_numbers(values, key)
        per_curve = 2 * points_per_curve
        if flat.numel() != num_curves * per_curve:
            raise ValueError(
                f'{key} must hold {num_curves} curves x {per_curve} numbers = '
                f'{num_curves * per_curve} for metric={self.metric!r}, parameterization='
                f'{self.parameterization!r}, num_segments={self.num_segments}; got '
                f'{flat.numel()}: {flat.tolist()}')
        curves = []
        for index, chunk in enumerate(flat.split(per_curve)):
            name = f'{key}[{index * per_curve}:{(index + 1) * per_curve}]'
            if key == 'theta':
                curves.append(MonotoneFunction.from_points(self.parameterization, chunk,
                                                           name=name))
            else:
                curves.append(MonotoneFunction.from_params(self.parameterization,
                                                           chunk.reshape(-1, 2), name=name))
        return curves

    @property
    def loss_name(self) -> str:
        """Key under which mmseg's decode head stores this loss."""
        return self._loss_name

    def theta(self) -> list[float]:
        """The curves as flat interior control-point coordinates (the ``theta`` format)."""
        return [value for curve in self.curves for value in curve.to_list()]

    def forward(self,
                seg_logits: Tensor,
                seg_label: Tensor,
                weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None,
                ignore_index: int | None = None,
                **kwargs) -> Tensor:
        """Loss of logits (N, C, H, W) against labels (N, H, W) of the same size, called
        as mmseg's decode heads call their ``loss_decode`` (the arguments of mmseg's
        ``CrossEntropyLoss.forward``).

        The surrogate is one ratio over the whole batch, so what mmseg's element-wise losses
        do with some arguments has no meaning here and is refused with a clear message:
        ``weight`` (per-pixel weights of a pixel sampler) and ``avg_factor`` must be None,
        ``reduction_override`` None, ``'mean'`` or ``'sum'`` (both the scalar loss);
        unknown keyword arguments are a ``TypeError``. ``ignore_index`` from the caller
        overrides the configured one.
        """
        if kwargs:
            raise TypeError(f'AutoSegLoss.forward got unexpected arguments {sorted(kwargs)}')
        if weight is not None:
            raise ValueError('AutoSegLoss takes no per-pixel weight (a pixel sampler was '
                             f'configured?), got weight of shape {tuple(weight.shape)}')
        if avg_factor is not None:
            raise ValueError('AutoSegLoss is a metric surrogate over the batch and takes no '
                             f'avg_factor, got avg_factor={avg_factor!r}')
        if reduction_override not in (None, 'mean', 'sum'):
            raise ValueError('AutoSegLoss gives one loss per batch (reduction_override None, '
                             f"'mean' or 'sum'), got reduction_override={reduction_override!r}")
        if self.num_classes is not None and (seg_logits.dim() != 4
                                             or seg_logits.shape[1] != self.num_classes):
            raise ValueError(f'seg_logits must have num_classes={self.num_classes} channels '
                             f'(N, C, H, W), got shape {tuple(seg_logits.shape)}')
        ignore_index = self.ignore_index if ignore_index is None else ignore_index
        table = SURROGATES if self.formulation == 'paper' else RELEASE_SURROGATES
        surrogate, _ = table[self.metric]
        extra = {}
        if self.metric in BOUNDARY_METRICS:
            extra['tolerance'] = self.boundary_tolerance
        if self.metric == 'BIoU':
            extra['ignore_background'] = self.ignore_background_boundary
        probs = seg_logits.float().softmax(dim=1)
        value = surrogate(probs, seg_label, self.curves, ignore_index, validate=self.debug,
                          **extra)
        return self.loss_weight * (1 - value)

    def extra_repr(self) -> str:
        return (f'metric={self.metric!r}, formulation={self.formulation!r}, '
                f'parameterization={self.parameterization!r}, '
                f'num_segments={self.num_segments}, theta={self.theta()}, '
                f'loss_weight={self.loss_weight}, loss_name={self.loss_name!r}')
