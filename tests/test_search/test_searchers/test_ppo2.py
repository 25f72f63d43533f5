"""PPO2 searcher and its truncated normal (ASL Algorithm 1, PAP eq. 10-11)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from mmautoloss.search.searchers import PPO2Searcher, RandomSearcher
from mmautoloss.search.searchers.truncated_normal import truncnorm_log_prob, truncnorm_sample


def scipy_truncnorm(mean: float, sigma: float):
    return stats.truncnorm((0 - mean) / sigma, (1 - mean) / sigma, loc=mean, scale=sigma)


@pytest.mark.parametrize('mean,sigma', [(0.5, 0.2), (0.02, 0.2), (0.97, 0.05), (1.0, 0.01)])
def test_log_prob_matches_scipy(mean, sigma):
    x = torch.linspace(0, 1, 41, dtype=torch.float64)
    ours = truncnorm_log_prob(x, torch.tensor(mean, dtype=torch.float64), sigma)
    reference = scipy_truncnorm(mean, sigma).logpdf(x.numpy())
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-9, atol=1e-9)


def test_log_prob_finite_gradient_outside_interval():
    mean = torch.tensor([1.15, -0.1], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.9, 0.05], dtype=torch.float64)
    truncnorm_log_prob(x, mean, 0.05).sum().backward()
    assert torch.isfinite(mean.grad).all()


def test_samples_follow_truncated_normal():
    rng = np.random.default_rng(0)
    uniform = torch.from_numpy(rng.random(4000))
    for mean, sigma in [(0.1, 0.2), (0.8, 0.3)]:
        samples = truncnorm_sample(torch.tensor([mean], dtype=torch.float64), sigma, uniform)
        assert samples.min() >= 0 and samples.max() <= 1
        ks = stats.kstest(samples.numpy(), scipy_truncnorm(mean, sigma).cdf)
        assert ks.pvalue > 1e-3


def test_sample_rejects_bad_inputs():
    with pytest.raises(ValueError, match='sigma'):
        truncnorm_sample(torch.tensor([0.5]), 0.0, torch.tensor([0.3]))
    with pytest.raises(ValueError, match='mean'):
        truncnorm_sample(torch.tensor([1.5]), 0.2, torch.tensor([0.3]))
    with pytest.raises(ValueError, match='uniform'):
        truncnorm_sample(torch.tensor([0.5]), 0.2, torch.tensor([float('nan')]))


def test_ask_samples_mean_first_and_is_deterministic():
    mean = [0.2, 0.4, 0.6, 0.8]
    a = PPO2Searcher(4, 3, 5, seed=3, initial_mean=mean)
    b = PPO2Searcher(4, 3, 5, seed=3, initial_mean=mean)
    c = PPO2Searcher(4, 3, 5, seed=4, initial_mean=mean)
    first = a.ask()
    assert [cand.role for cand in first] == ['mean'] + ['sample'] * 4
    assert first[0].genotype == mean
    assert [cand.candidate_id for cand in first] == [f'r000-c0{i}' for i in range(5)]
    assert a.ask() == first == b.ask()
    assert [cand.genotype for cand in c.ask()] != [cand.genotype for cand in first]
    assert all(0 <= v <= 1 for cand in first for v in cand.genotype)


def test_linear_sigma_schedule():
    searcher = PPO2Searcher(2, 4, 3, sigma=0.2, sigma_schedule='linear')
    assert [searcher.sigma_at(t) for t in range(4)] == pytest.approx([0.2, 0.15, 0.1, 0.05])
    assert PPO2Searcher(2, 4, 3).sigma_at(3) == 0.2


def clipped_objective(mean, old_mean, samples, rewards, sigma, eps):
    """Brute-force PAP eq. (11) summed over components, with scipy densities."""
    advantages = np.asarray(rewards) - np.mean(rewards)
    total = 0.0
    for sample, advantage in zip(samples, advantages):
        for d, x in enumerate(sample):
            ratio = scipy_truncnorm(mean[d], sigma).pdf(x) / \
                scipy_truncnorm(old_mean[d], sigma).pdf(x)
            total += min(ratio * advantage, min(max(ratio, 1 - eps), 1 + eps) * advantage)
    return total / len(samples)


def test_update_improves_objective_and_clips_each_component():
    eps, sigma = 0.2, 0.2
    searcher = PPO2Searcher(3, 5, 2, lr=0.01, num_steps=400, warmup_steps=30, clip_eps=eps)
    old = [0.5, 0.5, 0.5]
    samples = [[0.5, 0.5, 0.5], [0.7, 0.3, 0.55]]
    rewards = [0.0, 1.0]
    new = searcher.update_mean(old, samples, rewards, sigma)
    assert new[0] > 0.5 and new[1] < 0.5  # towards the better sample
    assert clipped_objective(new, old, samples, rewards, sigma, eps) > \
        clipped_objective(old, old, samples, rewards, sigma, eps) + 0.1
    # The baseline sample (negative advantage) stops pulling once ITS OWN ratio in each
    # component is clipped at 1 - eps: a per-component clip, not a clip of the joint ratio.
    for d in range(3):
        ratio = scipy_truncnorm(new[d], sigma).pdf(0.5) / scipy_truncnorm(0.5, sigma).pdf(0.5)
        assert ratio <= 1 - eps + 0.01


def test_equal_rewards_keep_the_mean():
    searcher = PPO2Searcher(2, 3, 4, seed=1, initial_mean=[0.3, 0.6])
    for cand in searcher.ask():
        searcher.tell(cand.candidate_id, 0.5)
    assert searcher.mean == [0.3, 0.6]
    assert searcher.round == 1


def drive(searcher, reward_fn, rounds=None):
    for _ in range(rounds or searcher.num_rounds):
        for cand in searcher.ask():
            searcher.tell(cand.candidate_id, reward_fn(cand))


def test_best_mean_is_the_mean_of_the_round_with_the_best_average():
    """ASL Algorithm 1: Theta* is the mean whose round scored best on average, not the mean
    whose own sample scored best (here round 1's mean wins alone, round 0 on average)."""
    searcher = PPO2Searcher(2, 3, 3, seed=0, initial_mean=[0.5, 0.5], num_steps=5)
    means = []

    def reward(cand):
        if cand.role == 'mean':
            means.append(cand.genotype)
            return [0.1, 0.9, 0.4][cand.round]
        return [0.8, 0.2, 0.5][cand.round]

    drive(searcher, reward)
    result = searcher.result()
    assert result['best_mean']['genotype'] == means[0]
    assert result['best_mean']['reward'] == pytest.approx((0.1 + 0.8 + 0.8) / 3)
    assert result['best_mean']['mean_trial_reward'] == 0.1
    assert result['best_mean']['candidate_id'] == 'r000-c00'
    assert result['selected'] == result['best_mean']
    assert result['best_sample']['reward'] == 0.9


def test_best_mean_without_sampling_the_mean():
    searcher = PPO2Searcher(2, 2, 3, seed=0, sample_mean=False, num_steps=5)
    drive(searcher, lambda cand: [0.3, 0.6][cand.round])
    best = searcher.result()['best_mean']
    assert best['round'] == 1 and best['candidate_id'] == 'r001-mean'
    assert best['reward'] == pytest.approx(0.6) and best['mean_trial_reward'] is None


def test_state_dict_round_trip_reproduces_the_search():
    def reward(cand):
        return -sum((v - 0.7) ** 2 for v in cand.genotype)

    full = PPO2Searcher(3, 4, 4, seed=5, num_steps=20)
    drive(full, reward)
    half = PPO2Searcher(3, 4, 4, seed=5, num_steps=20)
    drive(half, reward, rounds=2)
    first = half.ask()[0]
    half.tell(first.candidate_id, reward(first))  # mid-round state too
    restored = PPO2Searcher(3, 4, 4, seed=5, num_steps=20)
    restored.load_state_dict(half.state_dict())
    assert restored.ask() == half.ask()
    for cand in restored.ask()[1:]:
        restored.tell(cand.candidate_id, reward(cand))
    drive(restored, reward, rounds=1)
    assert restored.finished
    assert restored.state_dict() == full.state_dict()
    with pytest.raises(ValueError, match='RandomSearcher'):
        RandomSearcher(3, 4, 4).load_state_dict(full.state_dict())


def test_tell_rejects_bad_calls():
    searcher = PPO2Searcher(2, 1, 2)
    with pytest.raises(ValueError, match='r009-c00'):
        searcher.tell('r009-c00', 1.0)
    searcher.tell('r000-c00', 1.0)
    with pytest.raises(ValueError, match='already'):
        searcher.tell('r000-c00', 1.0)
    with pytest.raises(ValueError, match='nan'):
        searcher.tell('r000-c01', math.nan)
    searcher.tell('r000-c01', 0.0)
    assert searcher.finished
    with pytest.raises(RuntimeError, match='finished'):
        searcher.ask()


@pytest.mark.parametrize('kwargs,key', [
    (dict(sigma=-0.1), 'sigma'), (dict(clip_eps=1.5), 'clip_eps'), (dict(lr=0), 'lr'),
    (dict(sigma_schedule='cosine'), 'sigma_schedule'), (dict(select='best'), 'select'),
    (dict(num_steps=0), 'num_steps'),
    (dict(initial_mean=[0.5, 1.5]), r'initial_mean\[1\]'),
])
def test_constructor_errors_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        PPO2Searcher(2, 3, 4, **kwargs)


def test_ppo2_beats_random_search_at_equal_budget():
    """ASL Fig. 3 / PAP Fig. 3 in miniature: best reward after 10 rounds x 8 samples on a
    noisy objective with a hidden optimum, averaged over 4 seeds."""
    dim = 8

    def run(searcher, seed):
        optimum = np.random.default_rng(100 + seed).uniform(0.1, 0.9, dim)
        noise = np.random.default_rng(200 + seed)
        drive(searcher, lambda c: -float(np.abs(np.asarray(c.genotype) - optimum).mean())
              + 0.01 * noise.standard_normal())
        return searcher.result()['best_sample']['reward']

    ppo = [run(PPO2Searcher(dim, 10, 8, seed=s, num_steps=30, select='sample'), s)
           for s in range(4)]
    rand = [run(RandomSearcher(dim, 10, 8, seed=s), s) for s in range(4)]
    assert np.mean(ppo) > np.mean(rand) + 0.03


def joint_clipped_objective(mean, old_mean, samples, rewards, sigma, eps):
    """Brute-force PPO2 objective with ONE ratio per candidate (product over components)."""
    advantages = np.asarray(rewards) - np.mean(rewards)
    total = 0.0
    for sample, advantage in zip(samples, advantages):
        ratio = np.prod([scipy_truncnorm(mean[d], sigma).pdf(x) /
                         scipy_truncnorm(old_mean[d], sigma).pdf(x)
                         for d, x in enumerate(sample)])
        total += min(ratio * advantage, min(max(ratio, 1 - eps), 1 + eps) * advantage)
    return total / len(samples)


def test_joint_clip_optimizes_the_ratio_of_the_whole_vector():
    eps, sigma = 0.2, 0.2
    old = [0.5, 0.5, 0.5]
    samples = [[0.5, 0.5, 0.5], [0.7, 0.3, 0.55], [0.35, 0.6, 0.4]]
    rewards = [0.0, 1.0, 0.4]
    kwargs = dict(lr=0.01, num_steps=100, warmup_steps=30, clip_eps=eps)
    joint = PPO2Searcher(3, 5, 3, clip='joint', **kwargs).update_mean(old, samples, rewards,
                                                                      sigma)
    per_dim = PPO2Searcher(3, 5, 3, **kwargs).update_mean(old, samples, rewards, sigma)
    assert joint_clipped_objective(joint, old, samples, rewards, sigma, eps) > \
        joint_clipped_objective(old, old, samples, rewards, sigma, eps) + 0.05
    assert np.abs(np.subtract(joint, per_dim)).max() > 1e-3  # a different objective
    # with one dimension the two are the same objective
    one = [[0.5], [0.7], [0.35]]
    assert PPO2Searcher(1, 5, 3, clip='joint', **kwargs).update_mean(
        [0.5], one, rewards, sigma) == pytest.approx(
            PPO2Searcher(1, 5, 3, **kwargs).update_mean([0.5], one, rewards, sigma))
    with pytest.raises(ValueError, match='clip must be one of'):
        PPO2Searcher(3, 5, 2, clip='global')
