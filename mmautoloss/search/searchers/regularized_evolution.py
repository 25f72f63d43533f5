"""AutoLoss-Zero's search: regularised (aging) evolution of formula losses (ALZ section 3.2).

Round 0 proposes K random initial losses (Figure 2); every later round proposes
``samples_per_round`` offspring, each made from a parent chosen by a tournament over
T = 5% of the population (the best of a random sample of that size): copy 10%, else
re-initialise 50%, else two mutations (Figure 3). Only the most recent P evaluated losses
stay in the population (aging). The paper's evolution is steady-state; here offspring come
in batches so that every trial slot stays busy.

Several branches are searched together (eq. 4): one formula per searched config key. An
offspring applies the offspring rule to every branch on its own (appendix A.2: "the
initialization / mutation process is repeated for each loss branch separately"), so a
4-branch child copies, re-draws or mutates each of its four formulas. With a
:class:`~mmautoloss.search.filters.LossRejection` protocol, each new formula is drawn again
until the protocol accepts it for its branch ("the initialization / mutation process of an
individual loss function would be repeated until the resulting loss function can pass the
loss-rejection protocol"), and an offspring whose gradient signature equals that of a loss
evaluated before is not trained: it joins the population with the earlier reward
(gradient-equivalence check; ``gradient_equivalence=False`` turns it off with the
protocol kept, the ablation of the paper's Figure 4). Without the protocol or the check,
identical formulas count as equivalent: training a loss twice tells nothing new.

Every round counts its candidates as the paper's Table 7 does, each once: ``explored`` =
``invalid`` + ``rejected`` (a branch formula the protocol turned away) + ``equivalent`` (a
loss whose signature was evaluated before or is already in the round) + ``copies`` (a loss
equal to its parent in every branch) + ``trained``.

Everything a round decides is computed once, kept in the state (population, ages, the
random generator, the round's proposal and its stage counts) and so restored by --resume:
a resumed search makes exactly the decisions of an uninterrupted one.
"""
import copy
import math
import random

from ...functional.formulas import PrimitiveSet, parse_formula
from ...utils.checks import check_int, check_number
from ..errors import SearchConfigError
from ..structures import Candidate, candidate_id
from ..variation import offspring, random_formula
from .base import SEARCHERS, BaseSearcher

#: draws of a branch formula before the search gives up on finding an accepted one
MAX_DRAWS = 5000
STAGES = ('explored', 'invalid', 'rejected', 'equivalent', 'copies', 'trained')


@SEARCHERS.register_module()
class RegularizedEvolutionSearcher(BaseSearcher):
    """Regularised evolution over one formula per branch (module docstring).

    Args:
        branches (Dict[str, Tuple[PrimitiveSet, str]]):
            config key -> (primitive set, branch kind), given by the formula space.
        num_rounds (int): generations (round 0 is the initial population).
        samples_per_round (int): offspring trained per generation.
        seed (int): seeds every draw.
        population_size (int): K, random initial losses (paper: 20).
        max_population (int): P, most recent losses kept (paper: 2500).
        tournament_fraction (float): T (paper: 5% of the population; at least 2 members).
        depth (int): D of the random trees (paper: 3).
        copy_prob, reinit_prob: the offspring rule (paper: 0.1, 0.5).
        loss_rejection: a :class:`~mmautoloss.search.filters.FormulaFilter` (built by the
            search config from its ``loss_rejection`` field), or None.
        gradient_equivalence (bool): skip the training of a loss whose gradient signature
            was evaluated before (paper: on); off, only identical formulas are equivalent.
    """

    allows_early_stopping = True  # ranks by reward; a truncated one ranks low
    built_fields = dict(loss_rejection='LossRejection')

    def __init__(self, branches: dict[str, tuple[PrimitiveSet, str]], num_rounds: int,
                 samples_per_round: int, seed: int = 0, population_size: int = 20,
                 max_population: int = 2500, tournament_fraction: float = 0.05,
                 depth: int = 3, copy_prob: float = 0.1, reinit_prob: float = 0.5,
                 loss_rejection=None, gradient_equivalence: bool = True) -> None:
        super().__init__(num_rounds, samples_per_round, seed)
        if not branches:
            raise ValueError('branches must name at least one searched loss branch')
        self.branches = dict(branches)
        self.population_size = check_int(population_size, 'population_size', 2)
        self.max_population = check_int(max_population, 'max_population',
                                        self.population_size)
        self.tournament_fraction = check_number(tournament_fraction, 'tournament_fraction', 0, 1)
        self.depth = check_int(depth, 'depth', 1)
        self.copy_prob = check_number(copy_prob, 'copy_prob', 0, 1)
        self.reinit_prob = check_number(reinit_prob, 'reinit_prob', 0, 1)
        for pset, kind in self.branches.values():
            random_formula(pset, kind, self.depth, random.Random(0))  # depth fits the set
        self.loss_rejection = loss_rejection
        if not isinstance(gradient_equivalence, bool):
            raise ValueError(f'gradient_equivalence must be True or False, got '
                             f'{gradient_equivalence!r}')
        self.gradient_equivalence = gradient_equivalence
        self.population: list[dict] = []
        #: candidate signature -> reward of its training (gradient-equivalence check)
        self.known: dict[str, float] = {}
        #: 'key=formula' -> its rounded gradient norms, for every formula the protocol judged
        self.branch_signatures: dict[str, list[float]] = {}
        self.stats: list[dict] = []
        self._rng = random.Random(f'regularized-evolution:{seed}')
        self._proposal: dict | None = None

    @property
    def total_trials(self) -> int:
        """K initial losses, then ``samples_per_round`` per later generation."""
        return self.population_size + (self.num_rounds - 1) * self.samples_per_round

    # -- proposals ---------------------------------------------------------------------
    def _propose(self) -> list[Candidate]:
        if self._proposal is None or self._proposal['round'] != self.round:
            self._proposal = self._make_proposal()
        return [Candidate(c['candidate_id'], self.round, c['index'], dict(c['genotype']))
                for c in self._proposal['candidates']]

    def proposal_stats(self) -> dict:
        """This round's candidates per stage, each counted once (ALZ Table 7; module
        docstring)."""
        self._propose()
        return dict(self._proposal['stats'])

    def _make_proposal(self) -> dict:
        counts = dict.fromkeys(STAGES, 0)
        wanted = self.population_size if self.round == 0 else self.samples_per_round
        chosen: list[dict] = []
        signatures = set()
        while len(chosen) < wanted:
            if counts['equivalent'] + counts['copies'] > MAX_DRAWS * wanted:
                raise SearchConfigError(
                    f'round {self.round}: {counts["equivalent"] + counts["copies"]} offspring '
                    'were all copies or equivalent to evaluated losses; raise '
                    'searcher.reinit_prob')
            parent = None if self.round == 0 else self._tournament()
            genotype = self._child(parent, counts)
            counts['explored'] += 1
            if parent is not None and genotype == parent['genotype']:
                counts['copies'] += 1
                self._remember(genotype, parent['reward'], parent['signature'])
                continue
            signature = self._signature(genotype)
            if signature in self.known or signature in signatures:
                counts['equivalent'] += 1
                if signature in self.known:
                    self._remember(genotype, self.known[signature], signature)
                continue
            signatures.add(signature)
            index = len(chosen)
            chosen.append(dict(candidate_id=candidate_id(self.round, index), index=index,
                               genotype=genotype, signature=signature))
        counts['trained'] = len(chosen)
        return dict(round=self.round, candidates=chosen, stats=counts)

    def _tournament(self) -> dict:
        size = max(2, int(math.ceil(self.tournament_fraction * len(self.population))))
        contestants = self._rng.sample(self.population, min(size, len(self.population)))
        return max(contestants, key=lambda member: member['reward'])

    def _child(self, parent: dict | None, counts: dict) -> dict[str, str]:
        """A genotype whose every branch went through the offspring rule (round 0: a random
        formula) and whose every new formula the protocol accepted."""
        return {key: self._accepted(key, None if parent is None else parent['genotype'][key],
                                    counts)
                for key in sorted(self.branches)}

    def _accepted(self, key: str, parent: str | None, counts: dict) -> str:
        pset, kind = self.branches[key]
        parent_formula = None if parent is None else parse_formula(parent, pset, kind)
        for _ in range(MAX_DRAWS):
            if parent_formula is None:
                formula = str(random_formula(pset, kind, self.depth, self._rng))
            else:
                formula = str(offspring(parent_formula, self._rng, self.depth,
                                        self.copy_prob, self.reinit_prob))
            if self.loss_rejection is None or formula == parent:
                return formula
            verdict, = self.loss_rejection.judge_many(key, [formula])
            if verdict.accepted:
                self.branch_signatures[f'{key}={formula}'] = list(verdict.signature)
                return formula
            counts[verdict.status] += 1
            counts['explored'] += 1
        raise SearchConfigError(f'branch {key!r}: no formula passed the loss-rejection '
                                f'protocol in {MAX_DRAWS} draws; lower '
                                'searcher.loss_rejection.threshold')

    def _signature(self, genotype: dict[str, str]) -> str:
        """Every branch's gradient norms (2 significant digits), or its formula when the
        protocol has not judged it (a search without the protocol) or the check is off."""
        parts = []
        for key in sorted(genotype):
            norms = self.branch_signatures.get(f'{key}={genotype[key]}') \
                if self.gradient_equivalence else None
            parts.append(f'{key}={genotype[key] if norms is None else norms}')
        return ';'.join(parts)

    # -- results -----------------------------------------------------------------------
    def _remember(self, genotype: dict[str, str], reward: float, signature: str) -> None:
        self.population.append(dict(genotype=copy.deepcopy(genotype), reward=float(reward),
                                    signature=signature))
        del self.population[:-self.max_population]

    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        by_id = {c['candidate_id']: c for c in self._proposal['candidates']}
        for cand, reward in zip(candidates, rewards):
            signature = by_id[cand.candidate_id]['signature']
            self.known[signature] = reward
            self._remember(cand.genotype, reward, signature)
        self.stats.append(dict(round=self.round, **self._proposal['stats']))
        self._proposal = None

    # -- state -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        version, internal, gauss = self._rng.getstate()
        return dict(super().state_dict(), population=copy.deepcopy(self.population),
                    known=dict(self.known), stats=copy.deepcopy(self.stats),
                    branch_signatures=copy.deepcopy(self.branch_signatures),
                    rng=[version, list(internal), gauss],
                    proposal=copy.deepcopy(self._proposal))

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.population = copy.deepcopy(state['population'])
        self.known = {str(k): float(v) for k, v in state['known'].items()}
        self.stats = copy.deepcopy(state['stats'])
        self.branch_signatures = copy.deepcopy(state['branch_signatures'])
        version, internal, gauss = state['rng']
        self._rng.setstate((version, tuple(internal), gauss))
        self._proposal = copy.deepcopy(state['proposal'])
