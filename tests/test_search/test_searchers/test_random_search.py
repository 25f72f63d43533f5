"""Uniform random search, the baseline of ASL / PAP Fig. 3."""
import numpy as np
import pytest

from mmautoloss.search.searchers import RandomSearcher


def test_uniform_deterministic_and_tracks_best():
    a = RandomSearcher(3, 4, 5, seed=7)
    b = RandomSearcher(3, 4, 5, seed=7)
    told = []
    while not a.finished:
        candidates = a.ask()
        assert candidates == b.ask()
        for cand in candidates:
            reward = -abs(cand.genotype[0] - 0.25)
            told.append((reward, cand))
            a.tell(cand.candidate_id, reward)
            b.tell(cand.candidate_id, reward)
    vectors = np.array([cand.genotype for _, cand in told])
    assert vectors.shape == (20, 3)
    assert vectors.min() >= 0 and vectors.max() < 1
    assert len({tuple(v) for v in vectors.tolist()}) == 20
    best_reward, best_cand = max(told, key=lambda item: item[0])
    best = a.result()['best_sample']
    assert best['reward'] == best_reward and best['genotype'] == best_cand.genotype
    assert a.result()['selected'] == best
    assert [h['round'] for h in a.history] == [0, 1, 2, 3]
    assert a.history[0]['max_reward'] == max(r for r, c in told if c.round == 0)


def test_uniform_marginals():
    searcher = RandomSearcher(2, 50, 20, seed=0)
    values = []
    while not searcher.finished:
        for cand in searcher.ask():
            values.extend(cand.genotype)
            searcher.tell(cand.candidate_id, 0.0)
    hist, _ = np.histogram(values, bins=5, range=(0, 1))
    assert np.all(np.abs(hist / len(values) - 0.2) < 0.03)


def test_state_round_trip():
    a = RandomSearcher(2, 3, 2, seed=1)
    for cand in a.ask():
        a.tell(cand.candidate_id, cand.genotype[1])
    b = RandomSearcher(2, 3, 2, seed=1)
    b.load_state_dict(a.state_dict())
    assert b.ask() == a.ask() and b.round == 1 and b.best_sample == a.best_sample


@pytest.mark.parametrize('kwargs,key', [(dict(dim=0), 'dim'), (dict(num_rounds=0), 'num_rounds'),
                                        (dict(samples_per_round=1.5), 'samples_per_round'),
                                        (dict(seed=-1), 'seed')])
def test_constructor_errors(kwargs, key):
    args = dict(dim=2, num_rounds=2, samples_per_round=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=key):
        RandomSearcher(**args)
