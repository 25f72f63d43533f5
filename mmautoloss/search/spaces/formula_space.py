"""Formula search space (AutoLoss-Zero eq. 4, CSE-Autoloss section 3.1): one formula per
searched loss branch.

A candidate is ``{config key: formula string}``; each key's loss becomes
``ExprLoss(formula=..., primitive_set=..., branch=...)`` with the proxy's other settings of
that loss kept (``loss_weight``, ``use_sigmoid``, ...; a proxy loss of another type, such as
the default ``CrossEntropyLoss``, keeps only the settings ``ExprLoss`` shares with it).
"""
import copy
from collections.abc import Mapping

from mmengine.config import Config

from ...functional.formulas import (
    Formula,
    FormulaError,
    PrimitiveSet,
    get_primitive_set,
    parse_formula,
)
from ..plots import plot_formulas
from ..structures import get_config_key
from .base import SPACES, BaseSpace

#: settings of mmdet / mmseg / mmpose losses that ExprLoss takes with the same meaning, per
#: branch kind
SHARED_LOSS_SETTINGS = dict(
    seg=('loss_weight', 'reduction', 'avg_non_ignore', 'loss_name'),
    sigmoid_cls=('loss_weight', 'reduction', 'use_sigmoid'),
    softmax_cls=('loss_weight', 'reduction', 'use_sigmoid'),
    box=('loss_weight', 'reduction'),
    mask=('loss_weight', 'reduction'),
    heatmap=('loss_weight', ))


@SPACES.register_module()
class FormulaSpace(BaseSpace):
    """One searched formula per branch.

    Args:
        branches (Mapping[str, Union[str, dict]]):
            config key -> branch kind (``'seg'``, ``'sigmoid_cls'``, ``'box'``, ...),
            or -> ``dict(branch=kind, primitive_set=...)`` for a branch with its own set
            (e.g. CSE's smaller regression set).
        primitive_set (Union[str, dict]):
            the set of every branch that names none (``'alz'``, ``'cse'``, ...).
        loss_options (Optional[dict]):
            fixed ``ExprLoss`` settings for every branch (e.g. ``channel_reduction``).
        max_depth, max_size: bounds on every formula (default: the set's).
    """

    loss_type = 'ExprLoss'
    searched_fields = ('formula', 'primitive_set', 'branch')

    def __init__(self, branches: Mapping[str, str | dict],
                 primitive_set: str | dict = 'alz',
                 loss_options: dict | None = None, max_depth: int | None = None,
                 max_size: int | None = None) -> None:
        if not isinstance(branches, Mapping) or not branches:
            raise ValueError(f'branches must be a non-empty dict of config key -> branch '
                             f'kind, got {branches!r}')
        super().__init__(list(branches), loss_options)
        self.max_depth, self.max_size = max_depth, max_size
        self.branches: dict[str, tuple[PrimitiveSet, str]] = {}
        self._pset_cfgs: dict[str, str | dict] = {}
        for key, spec in branches.items():
            if isinstance(spec, str):
                spec = dict(branch=spec)
            if not isinstance(spec, Mapping) or set(spec) - {'branch', 'primitive_set'} \
                    or 'branch' not in spec:
                raise ValueError(f'branches[{key!r}] must be a branch kind or dict(branch=..., '
                                 f'primitive_set=...), got {spec!r}')
            pset_cfg = copy.deepcopy(spec.get('primitive_set', primitive_set))
            pset = get_primitive_set(pset_cfg)
            pset.branch(spec['branch'])
            self.branches[key] = (pset, spec['branch'])
            self._pset_cfgs[key] = pset_cfg
        self.dim = len(self.keys)

    def bind(self, proxy_cfg: Config) -> None:
        """Keep the proxy's settings of each branch's loss that ExprLoss shares with it."""
        for key in self.keys:
            value = get_config_key(proxy_cfg, key)
            if not isinstance(value, dict):
                raise ValueError(f'key {key!r} must hold a loss dict in the proxy config, got '
                                 f'{type(value).__name__}: {value!r}')
            shared = SHARED_LOSS_SETTINGS[self.branches[key][1]]
            self._base_losses[key] = {k: copy.deepcopy(v) for k, v in dict(value).items()
                                      if k in shared}

    def _formulas(self, candidate: Mapping[str, str]) -> dict[str, Formula]:
        """The parsed formula of every key; ``ValueError`` naming the key and the formula
        unless every searched key holds a valid one."""
        if not isinstance(candidate, Mapping) or set(candidate) != set(self.keys):
            raise ValueError(f'candidate must be a dict with one formula per key '
                             f'{list(self.keys)}, got {candidate!r}')
        formulas = {}
        for key in self.keys:
            pset, kind = self.branches[key]
            try:
                formulas[key] = parse_formula(candidate[key], pset, kind, self.max_depth,
                                              self.max_size)
            except FormulaError as error:
                raise ValueError(f'candidate[{key!r}]: {error}') from error
        return formulas

    def check(self, candidate: Mapping[str, str]) -> dict[str, str]:
        """The candidate with each formula in canonical form (see :meth:`_formulas`)."""
        return {key: str(formula) for key, formula in self._formulas(candidate).items()}

    def split(self, candidate: Mapping[str, str]) -> dict[str, str]:
        return self.check(candidate)

    def _join(self, parts: dict[str, str]) -> dict[str, str]:
        return dict(parts)

    def _loss_fields(self, key: str, part: str) -> dict:
        return dict(formula=part, primitive_set=copy.deepcopy(self._pset_cfgs[key]),
                    branch=self.branches[key][1])

    def _from_loss(self, key: str, loss: dict) -> str:
        if loss.get('branch') != self.branches[key][1]:
            raise ValueError(f'overrides[{key!r}].branch must be {self.branches[key][1]!r}, '
                             f'got {loss.get("branch")!r}')
        return loss.get('formula')

    def searcher_args(self) -> dict:
        return dict(branches=dict(self.branches))

    def example(self) -> dict[str, str]:
        """The simplest valid candidate: each branch's first prediction input alone."""
        return {key: pset.branch(kind).predictions[0]
                for key, (pset, kind) in self.branches.items()}

    def describe(self, candidate: Mapping[str, str]) -> dict[str, str]:
        """Each branch's formula as readable maths."""
        return {key: formula.to_math() for key, formula in self._formulas(candidate).items()}

    def plot(self, candidate: Mapping[str, str], path: str, title: str) -> None:
        """Draw the candidate's formulas, one line of maths per branch, to ``path``."""
        plot_formulas(self.describe(candidate), path, title)
