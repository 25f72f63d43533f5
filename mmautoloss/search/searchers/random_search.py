"""Uniform random search, the baseline of ASL Fig. 3 and PAP Fig. 3."""

import numpy as np

from ..structures import Candidate, candidate_id
from .base import SEARCHERS, VectorSearcher


@SEARCHERS.register_module()
class RandomSearcher(VectorSearcher):
    """Every candidate is drawn uniformly from [0, 1]^dim; round t's draws depend only on
    (seed, t). The result is the best sampled candidate (``initial_mean`` is unused by the
    draws and kept only for the common interface)."""

    allows_early_stopping = True  # ranks by reward; a truncated one ranks low

    def _propose(self) -> list[Candidate]:
        rng = np.random.default_rng([self.seed, self.round])
        vectors = rng.random((self.samples_per_round, self.dim)).tolist()
        return [Candidate(candidate_id(self.round, i), self.round, i, vector)
                for i, vector in enumerate(vectors)]

    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        """Random search learns nothing from rewards beyond the best sample (kept by the base)."""
