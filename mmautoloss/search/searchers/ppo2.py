"""PPO2 search over a truncated normal distribution (ASL Algorithm 1, PAP Algorithm 1).

Round t samples M candidates from N_trunc[0,1](mu_t, sigma_t^2 I); with ``sample_mean`` the
first candidate is mu_t itself ("the mean itself is sampled as the baseline", the
authors' ASL search settings). Each reward R_i minus the round's mean reward is the
advantage A_i, and the next mean solves ASL eq. (15) / PAP eq. (10)-(11):

    mu_{t+1} = argmax_mu 1/M sum_i sum_d min(r_id A_i, CLIP(r_id, 1 - eps, 1 + eps) A_i),
    r_id = p(theta_id; mu_d, sigma_t) / p(theta_id; mu_t,d, sigma_t).

By default the ratio is clipped per component ("the clip operation in Eq. (11) is applied on
each component value in Theta independently", PAP section 4.1), i.e. every dimension is
treated as its own policy and the clipped objectives are summed over dimensions. With
``clip='joint'`` the ratio is that of the whole vector, r_i = prod_d r_id, clipped once
(PPO2 as written in ASL eq. 15). The argmax is taken
by Adam (``num_steps`` iterations, linear warm-up from 0 over ``warmup_steps``) on mu,
projected back onto [0, 1] after every step.

Defaults follow ASL (appendix, the authors' search settings): sigma 0.2 fixed, eps 0.2,
Adam lr 0.2 for 60 steps.
PAP (section 4.1) uses sigma 0.2 decaying linearly to 0 (``sigma_schedule='linear'``:
sigma_t = sigma (1 - t / T), t = 0 .. T-1), eps 0.1 and Adam lr 0.01 for 100 steps with 30
warm-up steps.

Result: ``best_mean`` is ASL Algorithm 1's output, the mean mu_t whose round has the highest
average reward (Theta* = argmax_{mu_t} sum_i xi(Theta_i^(t)), "the mean mu_t with the
highest average evaluation score", section 4.3); its ``reward`` is that round average and
``mean_trial_reward`` the reward of mu_t's own trial when the mean is sampled.
``best_sample`` is the best sampled candidate (PAP Algorithm 1's output). ``select`` names
the exported one.
"""
import math
from collections.abc import Sequence

import numpy as np
import torch

from ...utils.checks import check_int, is_number
from ..structures import Candidate, TrialRole, candidate_id, check_unit_vector
from .base import SEARCHERS, VectorSearcher
from .truncated_normal import truncnorm_log_prob, truncnorm_sample

SIGMA_SCHEDULES = ('constant', 'linear')
SELECTIONS = ('mean', 'sample')
CLIP_MODES = ('per_dimension', 'joint')


@SEARCHERS.register_module()
class PPO2Searcher(VectorSearcher):
    """PPO2 on a per-dimension truncated normal (ASL section 4.3, PAP section 3.3).

    Args:
        dim, num_rounds, samples_per_round, seed, initial_mean: see
            :class:`~.base.VectorSearcher`.
        sigma (float): standard deviation of the parent normal (0.2 in both papers).
        sigma_schedule (str): ``'constant'`` (ASL) or ``'linear'`` decay towards 0 (PAP).
        clip_eps (float): PPO2 ratio clip range epsilon.
        clip (str):
            ``'per_dimension'`` (PAP section 4.1, default) or ``'joint'`` (one ratio of the
            whole candidate vector).
        lr (float): Adam learning rate of the inner mean update.
        num_steps (int): Adam iterations per round.
        warmup_steps (int): linear learning-rate warm-up from 0 over the first steps.
        sample_mean (bool): make candidate 0 of every round the mean itself.
        select (str): ``'mean'`` exports the best mean, ``'sample'`` the best sampled candidate.
    """

    def __init__(self, dim: int, num_rounds: int, samples_per_round: int, seed: int = 0,
                 initial_mean: Sequence[float] | None = None, sigma: float = 0.2,
                 sigma_schedule: str = 'constant', clip_eps: float = 0.2,
                 clip: str = 'per_dimension', lr: float = 0.2,
                 num_steps: int = 60, warmup_steps: int = 0, sample_mean: bool = True,
                 select: str = 'mean') -> None:
        super().__init__(dim, num_rounds, samples_per_round, seed, initial_mean)
        for key, value in (('sigma', sigma), ('clip_eps', clip_eps), ('lr', lr)):
            if not is_number(value) or not math.isfinite(value) or value <= 0:
                raise ValueError(f'{key} must be a finite positive number, got {value!r}')
        if clip_eps >= 1:
            raise ValueError(f'clip_eps must be < 1, got {clip_eps!r}')
        if clip not in CLIP_MODES:
            raise ValueError(f'clip must be one of {CLIP_MODES}, got {clip!r}')
        if sigma_schedule not in SIGMA_SCHEDULES:
            raise ValueError(f'sigma_schedule must be one of {SIGMA_SCHEDULES}, '
                             f'got {sigma_schedule!r}')
        for key, value, low in (('num_steps', num_steps, 1), ('warmup_steps', warmup_steps, 0)):
            check_int(value, key, low)
        if select not in SELECTIONS:
            raise ValueError(f'select must be one of {SELECTIONS}, got {select!r}')
        if samples_per_round < 2:
            raise ValueError(f'samples_per_round must be >= 2 for PPO2 (the advantage is the '
                             f'reward minus the round mean), got {samples_per_round!r}')
        self.sigma = float(sigma)
        self.sigma_schedule = sigma_schedule
        self.clip_eps = float(clip_eps)
        self.clip = clip
        self.lr = float(lr)
        self.num_steps = num_steps
        self.warmup_steps = warmup_steps
        self.sample_mean = sample_mean
        self.select = select
        self.mean = list(self.initial_mean)
        self.best_mean: dict | None = None

    def sigma_at(self, round_index: int) -> float:
        """sigma_t of round ``round_index`` (0-based)."""
        if self.sigma_schedule == 'constant':
            return self.sigma
        return self.sigma * (1 - round_index / self.num_rounds)

    def _propose(self) -> list[Candidate]:
        rng = np.random.default_rng([self.seed, self.round])
        num_drawn = self.samples_per_round - int(self.sample_mean)
        uniform = torch.from_numpy(rng.random((num_drawn, self.dim)))
        mean = torch.tensor(self.mean, dtype=torch.float64)
        samples = truncnorm_sample(mean, self.sigma_at(self.round), uniform).tolist()
        vectors = ([list(self.mean)] if self.sample_mean else []) + samples
        return [Candidate(candidate_id(self.round, i), self.round, i, vector,
                          TrialRole.MEAN if self.sample_mean and i == 0 else TrialRole.SAMPLE)
                for i, vector in enumerate(vectors)]

    def _update(self, candidates: list[Candidate], rewards: list[float]) -> None:
        round_average = sum(rewards) / len(rewards)
        if self.best_mean is None or round_average > self.best_mean['reward']:
            self.best_mean = dict(
                candidate_id=(candidates[0].candidate_id if self.sample_mean else
                              f'r{self.round:03d}-mean'),
                round=self.round, genotype=list(self.mean), reward=round_average,
                mean_trial_reward=rewards[0] if self.sample_mean else None)
        self.mean = self.update_mean(self.mean, [c.genotype for c in candidates], rewards,
                                     self.sigma_at(self.round))

    def update_mean(self, mean: Sequence[float], samples: Sequence[Sequence[float]],
                    rewards: Sequence[float], sigma: float) -> list[float]:
        """Solve the clipped surrogate argmax (ASL eq. 15 / PAP eq. 10-11) with Adam."""
        old_mean = torch.tensor(mean, dtype=torch.float64)
        theta = torch.tensor(samples, dtype=torch.float64)
        reward = torch.tensor(rewards, dtype=torch.float64)
        advantage = (reward - reward.mean())[:, None]
        old_log_prob = truncnorm_log_prob(theta, old_mean, sigma)
        mu = old_mean.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu], lr=self.lr)
        for step in range(self.num_steps):
            if self.warmup_steps:
                for group in optimizer.param_groups:
                    group['lr'] = self.lr * min(1.0, (step + 1) / self.warmup_steps)
            log_ratio = truncnorm_log_prob(theta, mu, sigma) - old_log_prob
            if self.clip == 'joint':  # one ratio per candidate: the product over dimensions
                log_ratio = log_ratio.sum(1, keepdim=True)
            ratio = torch.exp(log_ratio)
            clipped = ratio.clamp(1 - self.clip_eps, 1 + self.clip_eps)
            objective = torch.minimum(ratio * advantage, clipped * advantage).sum(1).mean()
            optimizer.zero_grad()
            (-objective).backward()
            optimizer.step()
            with torch.no_grad():
                mu.clamp_(0, 1)
        return mu.detach().tolist()

    def result(self) -> dict:
        selected = self.best_mean if self.select == 'mean' else self.best_sample
        return dict(selected=selected, best_mean=self.best_mean, best_sample=self.best_sample,
                    final_mean=list(self.mean))

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(mean=list(self.mean), best_mean=self.best_mean)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.mean = check_unit_vector(state['mean'], self.dim, 'state.mean')
        self.best_mean = state['best_mean']
