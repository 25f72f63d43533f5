"""CSE-Autoloss's evolution (Algorithm 1): generation 1 from the initial loss, the stage
counts, the simulation threshold, top-K and top-P, a generation that trains nothing, the
exact state round trip."""
import json

import pytest

from mmautoloss.functional.formulas import get_primitive_set, parse_formula
from mmautoloss.search.filters import Verdict
from mmautoloss.search.searchers import ConvergenceSimulationSearcher

KEY = 'model.roi_head.bbox_head.loss_cls'
CEI = 'Neg(Dot(Mul(W,Y),Log(Softmax(X))))'


class LogCheck:
    """Accepts a formula iff it contains ``Log``; ``Sqrt`` makes it invalid."""

    def __init__(self):
        self.batches = []

    def judge_many(self, key, formulas):
        self.batches.append(list(formulas))
        return [Verdict('invalid') if 'Sqrt' in f else
                Verdict('accepted') if 'Log' in f else
                Verdict('non_convergent', 'no Log') for f in formulas]


class FakeSimulation:
    def __init__(self):
        self.prepared = None

    def prepare(self, work_dir):
        self.prepared = work_dir

    def overrides(self):
        return {'train_cfg.max_iters': 3}


def make(seed=0, simulation=True, **kwargs):
    branches = {KEY: (get_primitive_set('cse'), 'softmax_cls')}
    kwargs.setdefault('convergence', LogCheck())
    return ConvergenceSimulationSearcher(
        branches, num_rounds=kwargs.pop('rounds', 3), samples_per_round=2, seed=seed,
        population_size=kwargs.pop('population_size', 8),
        simulation=FakeSimulation() if simulation else None, **kwargs)


def proxy_reward(formula):
    return (len(formula) % 11) / 11


def verify_ap(formula):
    return (len(formula) % 7) / 7


def drive(searcher, verify=verify_ap, reward=proxy_reward, told=()):
    """Finish the search; ``told``: ids of the current round already told."""
    told = set(told)
    while not searcher.finished:
        for cand in searcher.ask():
            if cand.candidate_id in told:
                continue
            score = verify if cand.role == 'simulation' else reward
            searcher.tell(cand.candidate_id, score(cand.genotype[KEY]))
        told = set()


def test_generation_one_evolves_from_the_initial_loss_and_counts_every_stage():
    searcher = make()
    simulated = searcher.ask()
    assert all(c.role == 'simulation' for c in simulated)
    stats = searcher.proposal_stats()
    assert stats['generated'] == 8
    assert stats['generated'] == (stats['duplicate'] + stats['invalid'] +
                                  stats['non_convergent'] + stats['simulated'])
    assert stats['simulated'] == len(simulated) and 'trained' not in stats
    initial = parse_formula(CEI, 'cse', 'softmax_cls')
    for cand in simulated:  # one DEAP mutation of CEI each, all different from it
        formula = cand.genotype[KEY]
        assert 'Log' in formula and formula != str(initial)
    # the check saw each distinct offspring once
    judged = [f for batch in searcher.convergence.batches for f in batch]
    assert len(judged) == len(set(judged)) == 8 - stats['duplicate']


def test_top_k_of_the_simulation_train_and_the_threshold_is_the_best_loss_verify_ap():
    searcher = make(rounds=2)
    simulated = searcher.ask()
    aps = {c.candidate_id: verify_ap(c.genotype[KEY]) for c in simulated}
    for cand in simulated:
        searcher.tell(cand.candidate_id, aps[cand.candidate_id])
    trained = searcher.ask()
    assert [c.role for c in trained] == ['sample'] * min(2, len(simulated))
    best_aps = sorted(aps.values(), reverse=True)[:2]
    assert sorted(verify_ap(c.genotype[KEY]) for c in trained) == sorted(best_aps)
    assert searcher.proposal_stats()['trained'] == len(trained)
    rewards = {c.genotype[KEY]: proxy_reward(c.genotype[KEY]) for c in trained}
    for cand in trained:
        searcher.tell(cand.candidate_id, rewards[cand.genotype[KEY]])
    best = max(rewards, key=rewards.get)
    # the next generation must beat the verification AP of this generation's best loss
    assert searcher.threshold == verify_ap(best)
    assert [p['formula'] for p in searcher.parents][0] == best
    row, = searcher.stage_rows()
    assert row['best_reward'] == rewards[best] and row['trained'] == len(trained)
    # simulations are never the search's best, whatever their AP
    assert searcher.result()['selected']['genotype'][KEY] == best


def test_candidates_below_the_threshold_are_dropped_and_none_left_skips_training():
    searcher = make(rounds=2)
    drive_one_generation = [c for c in searcher.ask()]
    for cand in drive_one_generation:
        searcher.tell(cand.candidate_id, 0.5)
    for cand in searcher.ask():
        searcher.tell(cand.candidate_id, 0.3)
    assert searcher.threshold == 0.5 and searcher.round == 2
    second = searcher.ask()
    for cand in second:  # every offspring below the threshold
        searcher.tell(cand.candidate_id, 0.4)
    assert searcher.finished  # the training round of generation 2 was skipped
    row = searcher.stage_rows()[-1]
    assert row['below_threshold'] == len(second) and row['trained'] == 0
    assert 'best_reward' not in row
    assert searcher.result()['selected']['reward'] == 0.3


def test_offspring_come_from_the_parents():
    searcher = make(rounds=2, crossover_prob=0.0, mutation_prob=0.0)
    drive_first = searcher.ask()
    for cand in drive_first:
        searcher.tell(cand.candidate_id, verify_ap(cand.genotype[KEY]))
    for cand in searcher.ask():
        searcher.tell(cand.candidate_id, proxy_reward(cand.genotype[KEY]))
    # no crossover, no mutation: every offspring is a parent, so a duplicate
    parents = {p['formula'] for p in searcher.parents}
    before = len(searcher.judged)
    with pytest.raises(Exception, match='none of .* offspring passed'):
        searcher.ask()
    assert len(searcher.judged) == before and parents


def test_without_simulation_every_survivor_trains_in_one_round_per_generation():
    # the rows of the paper's Table 2 without the simulation evaluate every survivor
    searcher = make(simulation=False, rounds=2)
    first = searcher.ask()
    stats = searcher.proposal_stats()
    assert [c.role for c in first] == ['sample'] * len(first)
    assert len(first) == stats['trained'] == stats['generated'] - stats['duplicate'] - \
        stats['invalid'] - stats['non_convergent'] > 2  # more than samples_per_round
    assert stats['not_top_k'] == 0
    assert searcher.trial_overrides(first[0]) == {}
    drive(searcher)
    assert searcher.round == 2 and len(searcher.stage_rows()) == 2
    assert all(row['simulated'] == 0 for row in searcher.stage_rows())


@pytest.mark.parametrize('threshold', [None, 0.0])
def test_a_diverged_simulation_never_reaches_proxy_training(threshold):
    """Generation 1 (no threshold) and a threshold of 0: a crashed / NaN simulation
    scores the failure reward 0.0, which would otherwise rank and fill a top-K slot."""
    searcher = make(rounds=2)
    if threshold is not None:  # a first generation whose best loss had a verify AP of 0
        for cand in searcher.ask():
            searcher.tell(cand.candidate_id, 0.0)
        for cand in searcher.ask():
            searcher.tell(cand.candidate_id, 0.2)
        assert searcher.threshold == threshold
    simulated = searcher.ask()
    assert len(simulated) >= 3
    failed = {c.candidate_id for c in simulated[:-1]}
    for cand in simulated:
        searcher.tell(cand.candidate_id, 0.0, ok=cand.candidate_id not in failed)
    trained = searcher.ask()
    assert [c.genotype for c in trained] == [simulated[-1].genotype]
    stats = searcher.proposal_stats()
    assert stats['diverged'] == len(failed) and stats['trained'] == 1
    assert stats['simulated'] == stats['diverged'] + stats['below_threshold'] + \
        stats['not_top_k'] + stats['trained']


def test_tournament_selection_picks_the_better_of_its_draws():
    searcher = make(rounds=2, selection='tournament', tournament_size=3,
                    crossover_prob=0.0, mutation_prob=0.0)
    pool = [(parse_formula(CEI, 'cse', 'softmax_cls'), 0.1),
            (parse_formula('Neg(Dot(Y,Log(Softmax(X))))', 'cse', 'softmax_cls'), 0.9)]
    picks = [str(searcher._pick(pool)) for _ in range(400)]
    best_share = picks.count(str(pool[1][0])) / len(picks)
    assert abs(best_share - (1 - 0.5 ** 3)) < 0.06  # best unless all 3 draws miss it
    truncation = make(rounds=2)
    share = [str(truncation._pick(pool)) for _ in range(400)].count(str(pool[1][0])) / 400
    assert abs(share - 0.5) < 0.08
    # tournament selection keeps every trained loss of the generation as a parent
    searcher = make(rounds=2, selection='tournament', max_simulated=None)
    drive_first = searcher.ask()
    for cand in drive_first:
        searcher.tell(cand.candidate_id, verify_ap(cand.genotype[KEY]))
    trained = searcher.ask()
    for cand in trained:
        searcher.tell(cand.candidate_id, proxy_reward(cand.genotype[KEY]))
    assert len(searcher.parents) == max(len(trained), searcher.num_parents)
    with pytest.raises(ValueError, match="selection must be one of"):
        make(selection='roulette')


def test_simulation_trials_get_the_simulation_overrides():
    searcher = make()
    searcher.prepare('/tmp/search')
    assert searcher.simulation.prepared == '/tmp/search'
    cand = searcher.ask()[0]
    assert searcher.trial_overrides(cand) == {'train_cfg.max_iters': 3}


def test_state_round_trip_reproduces_the_search_exactly():
    reference = make(seed=3)
    drive(reference)
    searcher = make(seed=3)
    first = searcher.ask()[0]  # stop in the middle of generation 1's simulations
    searcher.tell(first.candidate_id, verify_ap(first.genotype[KEY]))
    state = json.loads(json.dumps(searcher.state_dict()))
    restored = make(seed=3)
    restored.load_state_dict(state)
    drive(restored, told={first.candidate_id})
    assert restored.result() == reference.result()
    assert restored.stage_rows() == reference.stage_rows()


def test_seeds_decide_the_offspring():
    assert [c.genotype for c in make(seed=1).ask()] == [c.genotype for c in make(seed=1).ask()]
    assert [c.genotype for c in make(seed=1).ask()] != [c.genotype for c in make(seed=2).ask()]


@pytest.mark.parametrize('kwargs,match', [
    (dict(initial_loss='Neg(Dot(Y,Foo(X)))'), 'initial_loss'),
    (dict(crossover_prob=1.5), 'crossover_prob'),
    (dict(population_size=0), 'population_size'),
    (dict(max_simulated=0), 'max_simulated'),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_one_branch_is_searched():
    cse = get_primitive_set('cse')
    with pytest.raises(ValueError, match='one loss branch'):
        ConvergenceSimulationSearcher({'a': (cse, 'softmax_cls'), 'b': (cse, 'box')},
                                      num_rounds=1, samples_per_round=1)


def test_the_initial_loss_defaults_to_the_paper_s_by_branch_kind():
    cse = get_primitive_set('cse')
    for kind, name in (('softmax_cls', 'CEI'), ('sigmoid_cls', 'FLI'), ('box', 'GIoU')):
        searcher = ConvergenceSimulationSearcher({'k': (cse, kind)}, num_rounds=1,
                                                 samples_per_round=1)
        from mmautoloss.functional.formulas.released import RELEASED_FORMULAS
        assert str(searcher.initial) == RELEASED_FORMULAS[name].formula


def test_survivors_over_max_simulated_are_counted():
    """Every generated offspring is in exactly one stage, also when the cap cuts survivors."""
    searcher = make(max_simulated=1, population_size=12)
    simulated = searcher.ask()
    stats = searcher.proposal_stats()
    assert len(simulated) == stats['simulated'] == 1
    assert stats['over_max_simulated'] >= 1
    assert stats['generated'] == sum(stats[k] for k in (
        'duplicate', 'invalid', 'non_convergent', 'over_max_simulated', 'simulated'))
