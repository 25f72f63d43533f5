"""The interface of a formula filter: a cheap check, run in the driver, that decides which
candidate formulas are worth a proxy training job (AutoLoss-Zero section 3.2,
CSE-Autoloss section 3.2.2)."""
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..structures import VerdictStatus


@dataclass(frozen=True)
class Verdict:
    """A filter's decision on one formula.

    Attributes:
        status: a :class:`~mmautoloss.search.structures.VerdictStatus`.
        reason: why a formula was not accepted ('' when it was, or when the score says it).
        score: the filter's score of the formula, where it has one (AutoLoss-Zero's
            correlation score, eq. (5); ``-inf`` for an invalid formula).
        signature: the rounded gradient norms that identify equivalent losses (AutoLoss-Zero's
            equivalence check); None where the filter computes none or the formula is invalid.
    """
    status: str
    reason: str = ''
    score: float | None = None
    signature: tuple[float, ...] | None = None

    @property
    def accepted(self) -> bool:
        return self.status == VerdictStatus.ACCEPTED


class FormulaFilter(ABC):
    """A check of candidate formulas for the searched branches of a formula space.

    ``search_inputs`` names what the search config gives the filter besides the settings of
    its own field: ``proxy_cfg`` (the proxy config), ``branches`` (config key -> (primitive
    set, branch kind) of the formula space), ``seed`` (the search's seed, unless the field
    sets one).
    """

    search_inputs: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def judge_many(self, key: str, formulas: Sequence[str]) -> list[Verdict]:
        """The verdict on each formula as the loss of branch ``key``, in order."""
