"""CSE-Autoloss's search: convergence-simulation driven evolution (CSE-Autoloss section 3.2,
Algorithm 1).

One loss branch is searched (the search space's single key); the other branch stays as the
proxy config has it (classification with GIoU fixed, or regression with CE / FL fixed).
Generation 1 is ``population_size`` (N) mutants of the initial loss L_I (CEI for a softmax
classifier, FLI for a sigmoid one, GIoU for regression, or any formula); every later
generation is N offspring of the parents: pairs of parents crossed over with probability
p1 (``crossover_prob``), every child mutated with probability p2 (``mutation_prob``), with
DEAP's operators (:mod:`mmautoloss.search.variation.deap_operators`). The parents are the
top P of the losses trained so far (Algorithm 1, ``selection='truncation'``), or, with
``selection='tournament'`` (the "traditional tournament selection" section 3.2.1 starts
from), every loss of the last trained generation, each offspring's parent the best of
``tournament_size`` of them drawn at random. Each generation then

1. drops offspring already judged in this search (``duplicate``; a copy of an evaluated
   loss would cost a training job to learn its known reward);
2. runs the computational-validity check (``invalid``) and the convergence-property
   verification (``non_convergent``), :class:`~mmautoloss.search.filters.ConvergenceCheck`,
   on all of them at once;
3. simulates the survivors (at most ``max_simulated``, the others count as
   ``over_max_simulated``) as short trials on D_verify
   (:class:`~mmautoloss.search.filters.OptimisationSimulation`): a simulation whose trial
   did not finish ok (crashed, NaN, timed out) is dropped whatever its score
   (``diverged``, generation 1 included), the candidates whose AP there is below that of
   the previous generation's best loss are dropped (``below_threshold``; generation 1 has
   no threshold) and the best K of the others (K = the budget's ``samples_per_round``) are
   kept (``not_top_k`` counts the rest);
4. trains those K on the proxy (``trained``); the best P (``num_parents``) of them become
   the parents, topped up with the previous parents when fewer were trained (a generation
   in which no candidate reached the threshold trains none and keeps its parents).

With the simulation, a generation is two rounds of the search engine: the simulation
trials (role ``'simulation'``, their AP on D_verify is not a proxy reward and never the
search's best) and then the training trials, each journaled and resumable like any round.
Without it (``simulation=None``, the rows of Table 2 without the simulation) every
survivor of the checks trains, as the paper's rows evaluate them all; ``samples_per_round``
is then unused and ``max_simulated`` caps the survivors.
Each generation's stage counts (Table 2) are kept in the state, journaled at the end of the
generation and reported in ``best.json``.

Everything a generation decides is computed once and kept in the state (the random
generator, the judged formulas, the pending generation), so ``--resume`` repeats exactly
the decisions of an uninterrupted search.
"""
import copy
import random

from ...functional.formulas import Formula, FormulaError, PrimitiveSet, parse_formula
from ...functional.formulas.released import RELEASED_FORMULAS
from ...utils.checks import check_int, check_number
from ..errors import SearchConfigError
from ..structures import Candidate, TrialRole, candidate_id
from ..variation.deap_operators import crossover, mutate
from .base import SEARCHERS, BaseSearcher
from .optimisation_simulation import OptimisationSimulation

#: the initial loss L_I of each branch kind (CSE-Autoloss section 3.1 and 4)
INITIAL_LOSSES = dict(softmax_cls='CEI', sigmoid_cls='FLI', box='GIoU')
#: batches of N offspring drawn before a generation without any survivor gives up
MAX_BATCHES = 20
STAGES = ('generated', 'duplicate', 'invalid', 'non_convergent', 'over_max_simulated',
          'simulated', 'diverged', 'below_threshold', 'not_top_k', 'trained')
SELECTIONS = ('truncation', 'tournament')


@SEARCHERS.register_module()
class ConvergenceSimulationSearcher(BaseSearcher):
    """CSE-Autoloss's evolution (module docstring).

    Args:
        branches (Dict[str, Tuple[PrimitiveSet, str]]):
            config key -> (primitive set, branch kind), from the formula space; one
            key.
        num_rounds (int): E, generations.
        samples_per_round (int): K, losses trained on the proxy per generation.
        seed (int): seeds every draw.
        initial_loss (Optional[str]):
            L_I, a formula of the branch's primitive set or a released name
            (default: CEI / FLI / GIoU by branch kind).
        population_size (int): N, offspring per generation.
        num_parents (int): P, the parents kept by truncation selection.
        selection (str): ``'truncation'`` (Algorithm 1: top P) or ``'tournament'``.
        tournament_size (int): losses drawn for each tournament.
        crossover_prob, mutation_prob: p1 and p2.
        depth (int): the largest depth of a subtree grown by a uniform mutation.
        max_simulated (Optional[int]):
            at most this many simulations per generation (None: all survivors).
        convergence: a :class:`~mmautoloss.search.filters.FormulaFilter` (built by the
            search config from ``convergence=dict(...)``), or None for no check at all.
        simulation: an :class:`OptimisationSimulation` (built from ``simulation=dict(...)``)
            or None.
    """

    built_fields = dict(convergence='ConvergenceCheck', simulation=OptimisationSimulation)
    default_fields = ('convergence', 'simulation')

    def __init__(self, branches: dict[str, tuple[PrimitiveSet, str]], num_rounds: int,
                 samples_per_round: int, seed: int = 0, initial_loss: str | None = None,
                 population_size: int = 20, num_parents: int = 2,
                 selection: str = 'truncation', tournament_size: int = 2,
                 crossover_prob: float = 0.5, mutation_prob: float = 0.8, depth: int = 2,
                 max_simulated: int | None = None, convergence=None,
                 simulation=None) -> None:
        super().__init__(num_rounds, samples_per_round, seed)
        if not isinstance(branches, dict) or len(branches) != 1:
            raise ValueError('CSE-Autoloss searches one loss branch while the other stays as '
                             f'the proxy config has it; the search space has {len(branches)} '
                             f'keys {sorted(branches)}')
        (self.key, (self.pset, self.kind)), = branches.items()
        if initial_loss is None:
            if self.kind not in INITIAL_LOSSES:
                raise ValueError(f'initial_loss is required for a {self.kind!r} branch (the '
                                 f'defaults cover {sorted(INITIAL_LOSSES)})')
            initial_loss = INITIAL_LOSSES[self.kind]
        text = RELEASED_FORMULAS[initial_loss].formula \
            if initial_loss in RELEASED_FORMULAS else initial_loss
        try:
            self.initial = parse_formula(text, self.pset, self.kind)
        except FormulaError as error:
            raise ValueError(f'initial_loss={initial_loss!r}: {error}') from error
        self.population_size = check_int(population_size, 'population_size', 1)
        self.num_parents = check_int(num_parents, 'num_parents', 1)
        if selection not in SELECTIONS:
            raise ValueError(f'selection must be one of {SELECTIONS}, got {selection!r}')
        self.selection = selection
        self.tournament_size = check_int(tournament_size, 'tournament_size', 1)
        self.crossover_prob = check_number(crossover_prob, 'crossover_prob', 0, 1)
        self.mutation_prob = check_number(mutation_prob, 'mutation_prob', 0, 1)
        self.depth = check_int(depth, 'depth', 0)
        self.max_simulated = None if max_simulated is None else \
            check_int(max_simulated, 'max_simulated', 1)
        self.convergence = convergence
        self.simulation = simulation
        self.rounds_per_generation = 1 if simulation is None else 2
        self._rng = random.Random(f'cse-autoloss:{seed}')
        #: canonical formulas judged so far (duplicates are not judged again)
        self.judged: list[str] = []
        #: parents of the next generation: dict(formula, reward, verify_ap)
        self.parents: list[dict] = []
        #: the AP on D_verify that a simulated candidate must reach
        self.threshold: float | None = None
        #: one finished Table-2 row per generation
        self.stats: list[dict] = []
        self._generation: dict | None = None

    # -- rounds and generations ----------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.round >= self.num_rounds * self.rounds_per_generation

    @property
    def generation(self) -> int:
        return self.round // self.rounds_per_generation

    @property
    def phase(self) -> str:
        """``'simulate'`` or ``'train'``: what the current round runs."""
        if self.simulation is not None and self.round % 2 == 0:
            return 'simulate'
        return 'train'

    @property
    def total_trials(self) -> int:
        """Trials of the generations run so far, then the most the others can take."""
        survivors = min(self.population_size, self.max_simulated or self.population_size)
        per_generation = survivors if self.simulation is None \
            else survivors + self.samples_per_round
        done = sum(row['simulated'] + row['trained'] for row in self.stats)
        left = self.num_rounds - len(self.stats)
        return done + max(left, 0) * per_generation

    def trial_overrides(self, candidate: Candidate) -> dict:
        """A simulation trial trains and tests on D_verify."""
        return self.simulation.overrides() if candidate.role == TrialRole.SIMULATION else {}

    def prepare(self, work_dir: str) -> None:
        """Write D_verify under the search's work dir."""
        if self.simulation is not None:
            self.simulation.prepare(work_dir)

    # -- proposals -----------------------------------------------------------------------
    def _propose(self) -> list[Candidate]:
        if self._generation is None or self._generation['generation'] != self.generation:
            self._generation = self._make_generation()
        gen = self._generation
        if self.phase == 'simulate':
            formulas, role = gen['survivors'], TrialRole.SIMULATION
        else:
            formulas, role = gen['selected'], TrialRole.SAMPLE
        return [Candidate(candidate_id(self.round, i), self.round, i, {self.key: f}, role)
                for i, f in enumerate(formulas)]

    def proposal_stats(self) -> dict:
        """The current generation's stage counts so far (Table 2): up to the simulation in
        a simulation round, every stage in a training round."""
        self._propose()
        row = self._generation['row']
        last = STAGES.index('simulated') if self.phase == 'simulate' else len(STAGES) - 1
        return {stage: row[stage] for stage in STAGES[:last + 1]}

    def stage_rows(self) -> list[dict]:
        """One row of stage counts per finished generation."""
        return copy.deepcopy(self.stats)

    def _make_generation(self) -> dict:
        row = dict(generation=self.generation, **dict.fromkeys(STAGES, 0))
        survivors: list[str] = []
        for _ in range(MAX_BATCHES):
            batch = [str(f) for f in self._offspring()]
            row['generated'] += len(batch)
            seen, fresh = set(self.judged), []
            for formula in batch:
                if formula in seen:
                    row['duplicate'] += 1
                else:
                    seen.add(formula)
                    fresh.append(formula)
            self.judged.extend(fresh)
            if self.convergence is None:
                survivors.extend(fresh)
            else:
                for formula, verdict in zip(fresh,
                                            self.convergence.judge_many(self.key, fresh)):
                    if verdict.accepted:
                        survivors.append(formula)
                    else:
                        row[verdict.status] += 1
            if survivors:
                break
        else:
            raise SearchConfigError(
                f'generation {self.generation}: none of {row["generated"]} offspring passed '
                f'the checks (duplicate {row["duplicate"]}, invalid {row["invalid"]}, '
                f'non-convergent {row["non_convergent"]}); raise searcher.population_size or '
                'searcher.mutation_prob, or relax searcher.convergence')
        if self.max_simulated is not None:
            row['over_max_simulated'] = max(len(survivors) - self.max_simulated, 0)
            survivors = survivors[:self.max_simulated]
        gen = dict(generation=self.generation, survivors=survivors, simulated={},
                   selected=[], row=row)
        if self.simulation is None:  # every survivor trains
            gen['selected'] = survivors
            row['trained'] = len(survivors)
        else:
            row['simulated'] = len(survivors)
        return gen

    def _offspring(self) -> list[Formula]:
        """N mutants of L_I (generation 1) or N offspring of the parents."""
        if not self.parents:
            return [mutate(self.initial, self._rng, self.depth)
                    for _ in range(self.population_size)]
        pool = [(parse_formula(p['formula'], self.pset, self.kind), p['reward'])
                for p in self.parents]
        children: list[Formula] = []
        while len(children) < self.population_size:
            first, second = self._pick(pool), self._pick(pool)
            if self._rng.random() < self.crossover_prob:
                first, second = crossover(first, second, self._rng)
            for child in (first, second):
                if self._rng.random() < self.mutation_prob:
                    child = mutate(child, self._rng, self.depth)
                children.append(child)
        return children[:self.population_size]

    def _pick(self, pool: list[tuple[Formula, float]]) -> Formula:
        """A parent from (formula, proxy reward) pairs: uniform over the top P
        (truncation), or the best of ``tournament_size`` drawn at random with replacement
        (tournament, as DEAP's ``selTournament``)."""
        if self.selection == 'truncation':
            return self._rng.choice(pool)[0]
        drawn = [self._rng.choice(pool) for _ in range(self.tournament_size)]
        return max(drawn, key=lambda item: item[1])[0]

    # -- results -------------------------------------------------------------------------
    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        gen = self._generation
        row = gen['row']
        if self.phase == 'simulate':
            for cand, reward in zip(candidates, rewards):
                if cand.candidate_id not in self.failed:
                    gen['simulated'][cand.genotype[self.key]] = reward
            ranked = sorted(((f, r) for f, r in gen['simulated'].items()
                             if self.threshold is None or r >= self.threshold),
                            key=lambda item: -item[1])
            gen['selected'] = [f for f, _ in ranked[:self.samples_per_round]]
            row.update(threshold=self.threshold,
                       diverged=len(candidates) - len(gen['simulated']),
                       below_threshold=len(gen['simulated']) - len(ranked),
                       not_top_k=len(ranked) - len(gen['selected']),
                       trained=len(gen['selected']))
            if gen['selected']:
                return
            self.round += 1  # nothing reached the threshold: no training round
            self._finish_generation(row, [])
            return
        trained = [dict(formula=c.genotype[self.key], reward=r,
                        verify_ap=gen['simulated'].get(c.genotype[self.key]))
                   for c, r in zip(candidates, rewards)]
        self._finish_generation(row, trained)

    def _finish_generation(self, row: dict, trained: list[dict]) -> None:
        ranked = sorted(trained, key=lambda t: -t['reward'])
        if ranked:
            row.update(best_reward=ranked[0]['reward'], best_formula=ranked[0]['formula'])
            if ranked[0]['verify_ap'] is not None:
                self.threshold = ranked[0]['verify_ap']
        size = self.num_parents if self.selection == 'truncation' \
            else max(len(ranked), self.num_parents)
        chosen = {t['formula'] for t in ranked[:size]}
        kept = [p for p in self.parents if p['formula'] not in chosen]
        self.parents = (ranked[:size] + kept)[:size]
        self.stats.append(row)
        self._generation = None

    def result(self) -> dict:
        return dict(super().result(), generations=self.stage_rows())

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        version, internal, gauss = self._rng.getstate()
        return dict(super().state_dict(), judged=list(self.judged),
                    parents=copy.deepcopy(self.parents), threshold=self.threshold,
                    stats=copy.deepcopy(self.stats), rng=[version, list(internal), gauss],
                    generation=copy.deepcopy(self._generation))

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.judged = list(state['judged'])
        self.parents = copy.deepcopy(state['parents'])
        self.threshold = state['threshold']
        self.stats = copy.deepcopy(state['stats'])
        version, internal, gauss = state['rng']
        self._rng.setstate((version, tuple(internal), gauss))
        self._generation = copy.deepcopy(state['generation'])
        if self._generation is not None:  # JSON keys of the simulated APs stay strings
            self._generation['simulated'] = {str(k): float(v) for k, v in
                                             self._generation['simulated'].items()}
