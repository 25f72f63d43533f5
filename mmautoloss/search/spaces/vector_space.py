"""Vector search spaces (Auto Seg-Loss, Parameterized AP Loss): a candidate is a vector in
[0, 1]^dim, cut into equal parts, one per searched key, each part a loss's curve
parameters."""
from abc import abstractmethod
from collections.abc import Sequence

from ...functional.monotone_function import MonotoneFunction
from ..plots import plot_curves
from ..structures import check_unit_vector
from .base import BaseSpace


class VectorSpace(BaseSpace):
    """A space over [0, 1]^dim, ``dim / len(keys)`` values per key.

    Subclasses set ``dim`` and implement :meth:`initial_mean` (the identity curves),
    :meth:`curves` and the loss fields of a part (:meth:`_loss_fields`,
    :meth:`_from_loss`).
    """

    def check(self, candidate: Sequence[float]) -> list[float]:
        """The candidate as floats; ``ValueError`` naming it unless it has ``dim`` finite
        values in [0, 1]."""
        if isinstance(candidate, (str, bytes)) or not isinstance(candidate, Sequence):
            raise ValueError(f'candidate must be a sequence of {self.dim} numbers, got '
                             f'{candidate!r}')
        return check_unit_vector(candidate, self.dim, 'candidate')

    def split(self, candidate: Sequence[float]) -> dict[str, list[float]]:
        """The part of the candidate that belongs to each key."""
        values = self.check(candidate)
        size = self.dim // len(self.keys)
        return {key: values[i * size:(i + 1) * size] for i, key in enumerate(self.keys)}

    def _join(self, parts: dict[str, list[float]]) -> list[float]:
        return [value for key in self.keys for value in parts[key]]

    def searcher_args(self) -> dict:
        """``dim`` and the identity ``initial_mean``."""
        return dict(dim=self.dim, initial_mean=self.initial_mean())

    def example(self) -> list[float]:
        return self.initial_mean()

    def plot(self, candidate: Sequence[float], path: str, title: str) -> None:
        """Draw the candidate's searched curves to ``path``."""
        plot_curves(self.curves(candidate), path, title)

    @abstractmethod
    def initial_mean(self) -> list[float]:
        """Starting mean of the search: the identity curves (ASL / PAP mu_1)."""

    @abstractmethod
    def curves(self, candidate: Sequence[float]) -> dict[str, MonotoneFunction]:
        """The searched curves of a candidate, named for plots (e.g. ``'g_AND'``)."""
