"""Searcher interface shared by every search algorithm (``docs/design.md``).

A searcher proposes candidates round by round: ``ask()`` returns the candidates of the current
round, ``tell(candidate_id, reward, ok)`` records a reward (``ok=False``: the trial did not
finish as it should, its reward is the failure reward), and once every candidate of the round
has a reward the searcher updates itself and moves to the next round. The candidates of a
round are a pure function of the searcher's state at the start of that round, so a search
restored with ``load_state_dict`` re-asks exactly the same candidates (used by ``--resume``).
"""
import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ...registry import SEARCHERS  # noqa: F401  (re-exported to the searchers)
from ...utils.checks import check_int
from ..structures import PROXY_ROLES, Candidate, check_unit_vector


class BaseSearcher(ABC):
    """Round-based searcher over any genotype (a vector or formulas, see
    :data:`~mmautoloss.search.structures.Genotype`).

    A searcher implements :meth:`_propose` and :meth:`_update`; the rest of the round
    (``ask`` / ``tell``, the best candidate, the history, the state) is here. A staged
    search (CSE-Autoloss) also overrides the optional group: :meth:`proposal_stats`,
    :meth:`stage_rows`, :meth:`trial_overrides`, :meth:`prepare`.

    Args:
        num_rounds (int): rounds T of the search budget (generations for evolution).
        samples_per_round (int): candidates M (ASL) / S (PAP) evaluated per round.
        seed (int): seeds every random draw; a round's draws depend on the state at its start.
    """

    #: whether a trial's reward may be its last validation's when the search's early
    #: stopping cuts it short (no for a policy gradient that needs every final reward)
    allows_early_stopping = False
    #: searcher arguments that the search config builds from a settings dict: argument ->
    #: the registered type of a formula filter (``FILTERS``, e.g. ``'LossRejection'``) or
    #: the class of a stage of the searcher; each gets its field's settings and the
    #: ``search_inputs`` it names
    built_fields: ClassVar[dict[str, str | type]] = {}
    #: of those, the ones built with default settings when the config leaves them out
    #: (``None`` in the config turns one off)
    default_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, num_rounds: int, samples_per_round: int, seed: int = 0) -> None:
        self.num_rounds = check_int(num_rounds, 'num_rounds', 1)
        self.samples_per_round = check_int(samples_per_round, 'samples_per_round', 1)
        self.seed = check_int(seed, 'seed', 0)
        self.round = 0
        self._pending: dict[str, float] = {}
        self._pending_failed: set[str] = set()
        #: while :meth:`_update` runs: the round's candidates whose trials did not finish ok
        self.failed: frozenset[str] = frozenset()
        self.best_sample: dict | None = None
        self.history: list[dict] = []

    @property
    def finished(self) -> bool:
        return self.round >= self.num_rounds

    def ask(self) -> list[Candidate]:
        """Candidates of the current round (the same list every time until the round ends)."""
        if self.finished:
            raise RuntimeError(f'the search is finished after {self.num_rounds} rounds')
        return self._propose()

    def tell(self, cand_id: str, reward: float, ok: bool = True) -> None:
        """Record the reward of candidate ``cand_id`` (``ok=False``: its trial crashed,
        timed out or diverged); the last one of a round triggers the searcher update and
        advances to the next round."""
        candidates = {c.candidate_id: c for c in self.ask()}
        if cand_id not in candidates:
            raise ValueError(f'candidate_id {cand_id!r} is not a candidate of round '
                             f'{self.round}: {sorted(candidates)}')
        if cand_id in self._pending:
            raise ValueError(f'candidate_id {cand_id!r} already has a reward')
        reward = float(reward)
        if not math.isfinite(reward):
            raise ValueError(f'reward of {cand_id!r} must be finite, got {reward!r}')
        self._pending[cand_id] = reward
        if not ok:
            self._pending_failed.add(cand_id)
        if len(self._pending) < len(candidates):
            return
        ordered = sorted(candidates.values(), key=lambda c: c.index)
        rewards = [self._pending[c.candidate_id] for c in ordered]
        # a pre-training stage (CSE-Autoloss's simulation) scores on another set: its
        # rewards rank candidates within the searcher but are not the proxy's
        scored = [(c, r) for c, r in zip(ordered, rewards) if c.role in PROXY_ROLES]
        for cand, reward_i in scored:
            if self.best_sample is None or reward_i > self.best_sample['reward']:
                self.best_sample = dict(candidate_id=cand.candidate_id, round=cand.round,
                                        genotype=copy.deepcopy(cand.genotype),
                                        reward=reward_i)
        if scored:
            values = [r for _, r in scored]
            self.history.append(dict(round=self.round, mean_reward=sum(values) / len(values),
                                     max_reward=max(values)))
        self.failed = frozenset(self._pending_failed)
        self._update(ordered, rewards)
        self.failed = frozenset()
        self._pending, self._pending_failed = {}, set()
        self.round += 1

    @property
    def total_trials(self) -> int:
        """Trials of the whole search (for progress and ETA)."""
        return self.num_rounds * self.samples_per_round

    def result(self) -> dict:
        """Best candidates found so far; ``selected`` is the one to export."""
        return dict(selected=self.best_sample, best_sample=self.best_sample)

    def state_dict(self) -> dict:
        """JSON-serialisable state; ``load_state_dict`` of it reproduces the search exactly."""
        state = dict(type=type(self).__name__, round=self.round, pending=dict(self._pending),
                     best_sample=self.best_sample, history=[dict(h) for h in self.history])
        if self._pending_failed:  # left out while empty: the state file of older searches
            state['pending_failed'] = sorted(self._pending_failed)
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get('type') != type(self).__name__:
            raise ValueError(f'state type must be {type(self).__name__!r}, '
                             f'got {state.get("type")!r}')
        self.round = int(state['round'])
        self._pending = {str(k): float(v) for k, v in state['pending'].items()}
        self._pending_failed = {str(k) for k in state.get('pending_failed', ())}
        self.best_sample = state['best_sample']
        self.history = [dict(h) for h in state['history']]

    # -- what every searcher implements ----------------------------------------------------
    @abstractmethod
    def _propose(self) -> list[Candidate]:
        """The current round's candidates, a pure function of the state at its start."""

    @abstractmethod
    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        """Learn from a finished round (candidates in index order, their rewards; the ids
        of those whose trials failed in :attr:`failed`)."""

    # -- optional: the hooks of a staged search (CSE-Autoloss's filters and simulations) --
    def proposal_stats(self) -> dict | None:
        """How many candidates each filter stage removed this round (None: no filters)."""
        return None

    def stage_rows(self) -> list[dict]:
        """Stage counts of each finished generation of a multi-stage search (CSE-Autoloss
        Table 2); empty for the others."""
        return []

    def trial_overrides(self, candidate: Candidate) -> dict:
        """Config overrides a candidate's trial gets besides its loss (none by default;
        CSE-Autoloss's simulation trains on its verification set)."""
        return {}

    def prepare(self, work_dir: str) -> None:
        """Write the files the searcher's trials need under the search's ``work_dir``
        (nothing by default; CSE-Autoloss writes its verification set). Called at every
        start of the search, resumed or not; must give the same files each time."""


class VectorSearcher(BaseSearcher):
    """A searcher over [0, 1]^dim (PPO2, random search).

    Args:
        dim (int): number of search parameters.
        num_rounds, samples_per_round, seed: see :class:`BaseSearcher`.
        initial_mean (Optional[Sequence[float]]):
            starting point (the identity curves for ASL / PAP), in [0, 1]^dim.
    """

    def __init__(self, dim: int, num_rounds: int, samples_per_round: int, seed: int = 0,
                 initial_mean: Sequence[float] | None = None) -> None:
        super().__init__(num_rounds, samples_per_round, seed)
        self.dim = check_int(dim, 'dim', 1)
        self.initial_mean = check_unit_vector(
            [0.5] * dim if initial_mean is None else initial_mean, dim, 'initial_mean')
