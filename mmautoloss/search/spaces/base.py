"""The search-space interface: a candidate (a genotype: a vector in [0, 1]^dim, see
:mod:`.vector_space`, or one formula per key, see :mod:`.formula_space`) <-> loss config
overrides.

A space is built from the ``search_space=dict(type=...)`` field of a search config, then
bound to the proxy config (:meth:`BaseSpace.bind`), which checks that every config key the
space writes exists and keeps the proxy's own loss settings (``num_classes``,
``loss_weight`` ...) so that an override only changes the searched parameters.
"""
import copy
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence

from mmengine.config import Config

from ...registry import SPACES  # noqa: F401  (re-exported to the spaces)
from ..structures import Genotype, get_config_key


class BaseSpace(ABC):
    """A search space writing one loss dict per key in ``keys``, over any genotype.

    Subclasses set ``loss_type`` (the registered loss the override builds),
    ``searched_fields`` and ``dim`` (the size of a candidate), and say how a candidate is
    checked, cut into one part per key and joined again, what loss fields a part writes and
    reads back, what a searcher is built with, and how a candidate is drawn.
    """

    loss_type: str = ''
    #: keys of the proxy's loss dict that the space itself writes; the others are kept
    searched_fields: tuple[str, ...] = ()

    def __init__(self, keys: Sequence[str], loss_options: dict | None = None) -> None:
        if isinstance(keys, str) or not isinstance(keys, (list, tuple)) or not keys:
            raise ValueError(f'keys must be a non-empty list of config keys, got {keys!r}')
        for key in keys:
            if not isinstance(key, str) or not key:
                raise ValueError(f'keys must hold non-empty strings, got {key!r}')
        if len(set(keys)) != len(keys):
            raise ValueError(f'keys must be distinct, got {list(keys)!r}')
        if loss_options is None:
            loss_options = {}
        if not isinstance(loss_options, dict):
            raise ValueError(f'loss_options must be a dict of fixed loss settings, got '
                             f'{loss_options!r}')
        clash = sorted(set(loss_options) & {'type', *self.searched_fields})
        if clash:
            raise ValueError(f'loss_options may not set searched fields, got {clash}')
        self.keys = tuple(keys)
        self.dim = 0
        self.loss_options = copy.deepcopy(loss_options)
        self._base_losses: dict[str, dict] = {key: {} for key in self.keys}

    def bind(self, proxy_cfg: Config) -> None:
        """Read the proxy config's loss dict at every key; keep its non-searched settings.

        A missing key or a non-dict value raises ``ValueError`` naming the key. A loss of
        another type is replaced by ``loss_type`` with the space's fields only (warning).
        """
        for key in self.keys:
            value = get_config_key(proxy_cfg, key)
            if not isinstance(value, dict):
                raise ValueError(f'key {key!r} must hold a loss dict in the proxy config, got '
                                 f'{type(value).__name__}: {value!r}')
            if value.get('type') != self.loss_type:
                warnings.warn(f'proxy config key {key!r} holds type={value.get("type")!r}; the '
                              f'search replaces it by type={self.loss_type!r} without its '
                              'other settings')
                self._base_losses[key] = {}
                continue
            self._base_losses[key] = {k: copy.deepcopy(v) for k, v in dict(value).items()
                                      if k not in self.searched_fields and k != 'type'}

    def to_overrides(self, candidate: Genotype) -> dict[str, dict]:
        """Config overrides (dotted key -> full loss dict, replacing the proxy's with
        ``_delete_=True``) that make a proxy job train with this candidate's loss."""
        overrides = {}
        for key, part in self.split(candidate).items():
            loss = dict(_delete_=True, type=self.loss_type)
            loss.update(copy.deepcopy(self._base_losses[key]))
            loss.update(copy.deepcopy(self.loss_options))
            loss.update(self._loss_fields(key, part))
            overrides[key] = loss
        return overrides

    def from_overrides(self, overrides: dict[str, dict]) -> Genotype:
        """Inverse of :meth:`to_overrides`: the candidate that these loss dicts encode."""
        if not isinstance(overrides, dict):
            raise ValueError(f'overrides must be a dict of config key -> loss dict, got '
                             f'{overrides!r}')
        parts = {}
        for key in self.keys:
            if key not in overrides or not isinstance(overrides[key], dict):
                raise ValueError(f'overrides has no loss dict at key {key!r}')
            loss = overrides[key]
            if loss.get('type') != self.loss_type:
                raise ValueError(f'overrides[{key!r}].type must be {self.loss_type!r}, got '
                                 f'{loss.get("type")!r}')
            parts[key] = self._from_loss(key, loss)
        return self.check(self._join(parts))

    def describe(self, candidate: Genotype) -> dict[str, str] | None:
        """A readable form of the candidate for best.json (None: the genotype says it all)."""
        return None

    @abstractmethod
    def check(self, candidate: Genotype) -> Genotype:
        """The candidate in canonical form; ``ValueError`` naming it when it is not one."""

    @abstractmethod
    def split(self, candidate: Genotype) -> dict[str, object]:
        """The part of the (checked) candidate that belongs to each key."""

    @abstractmethod
    def _join(self, parts: dict[str, object]) -> Genotype:
        """The candidate made of each key's part (the inverse of :meth:`split`)."""

    @abstractmethod
    def _loss_fields(self, key: str, part: object) -> dict:
        """The searched fields of ``key``'s loss for its part of a candidate."""

    @abstractmethod
    def _from_loss(self, key: str, loss: dict) -> object:
        """``key``'s part of the candidate that a loss dict encodes."""

    @abstractmethod
    def searcher_args(self) -> dict:
        """What a searcher is built with besides budget and seed."""

    @abstractmethod
    def example(self) -> Genotype:
        """A valid candidate, built once at validation to check the loss the jobs build."""

    @abstractmethod
    def plot(self, candidate: Genotype, path: str, title: str) -> None:
        """Draw the candidate to ``path``."""
