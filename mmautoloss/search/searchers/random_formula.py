"""Random formula search: the baseline of the formula searches (every candidate is a random
initial loss of AutoLoss-Zero section 3.2, Figure 2, one formula per searched branch)."""
import random

from ...functional.formulas import PrimitiveSet
from ...utils.checks import check_int
from ..structures import Candidate, candidate_id
from ..variation import random_formula
from .base import SEARCHERS, BaseSearcher


@SEARCHERS.register_module()
class RandomFormulaSearcher(BaseSearcher):
    """Each candidate holds one random formula of depth ``depth`` per branch; round t's
    draws depend only on (seed, t). The result is the best sample.

    Args:
        branches (Dict[str, Tuple[PrimitiveSet, str]]):
            config key -> (primitive set, branch kind), given by the formula space.
        num_rounds, samples_per_round, seed: see :class:`~.base.BaseSearcher`.
        depth (int): depth D of the random trees (ALZ uses D = 3).
    """

    allows_early_stopping = True  # ranks by reward; a truncated one ranks low

    def __init__(self, branches: dict[str, tuple[PrimitiveSet, str]], num_rounds: int,
                 samples_per_round: int, seed: int = 0, depth: int = 3) -> None:
        super().__init__(num_rounds, samples_per_round, seed)
        if not branches:
            raise ValueError('branches must name at least one searched loss branch')
        self.branches = dict(branches)
        self.depth = check_int(depth, 'depth', 1)
        for pset, kind in self.branches.values():
            random_formula(pset, kind, self.depth, random.Random(0))  # depth fits the set

    def _propose(self) -> list[Candidate]:
        rng = random.Random(f'{self.seed}:{self.round}')
        return [Candidate(candidate_id(self.round, i), self.round, i,
                          {key: str(random_formula(pset, kind, self.depth, rng))
                           for key, (pset, kind) in self.branches.items()})
                for i in range(self.samples_per_round)]

    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        """Random search learns nothing from rewards beyond the best sample (kept by the base)."""
