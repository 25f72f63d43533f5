"""PPO2 vs random search at equal budget on a synthetic reward (ASL Fig. 3 / PAP Fig. 3 in
miniature): the highest reward found up to each round, averaged over seeds.

The reward of a candidate x in [0, 1]^dim is ``1 - mean|x - x*| + noise`` for a hidden
optimum x* drawn per seed in [0.1, 0.9]^dim (noise: N(0, 0.01^2), standing in for the
run-to-run variance of a proxy training). Dimensions follow the real spaces: 12 (ASL mIoU,
two 2-piece Bezier curves) and 41 (PAP, one detection head). PPO2 starts from the centre
of the cube (its round-1 samples are already closer to x* on average than uniform ones).

    python benchmarks/bench_search_ppo2_vs_random.py [--seeds 4]
"""
import argparse
import time

import numpy as np

from mmautoloss.search.searchers import PPO2Searcher, RandomSearcher

SETTINGS = {
    # dim, rounds, samples per round, searchers
    'ASL (dim 12, 12 rounds x 8)': (12, 12, 8, {
        'PPO2, ASL settings': lambda d, t, m, s: PPO2Searcher(d, t, m, seed=s, select='sample'),
        'random': lambda d, t, m, s: RandomSearcher(d, t, m, seed=s)}),
    'PAP (dim 41, 40 rounds x 8)': (41, 40, 8, {
        'PPO2, PAP settings': lambda d, t, m, s: PPO2Searcher(
            d, t, m, seed=s, sigma_schedule='linear', clip_eps=0.1, lr=0.01, num_steps=100,
            warmup_steps=30, select='sample'),
        'random': lambda d, t, m, s: RandomSearcher(d, t, m, seed=s)}),
}


def best_so_far(searcher, seed: int, dim: int) -> np.ndarray:
    optimum = np.random.default_rng(1000 + seed).uniform(0.1, 0.9, dim)
    noise = np.random.default_rng(2000 + seed)
    curve, best = [], -np.inf
    while not searcher.finished:
        for cand in searcher.ask():
            reward = 1 - float(np.abs(np.asarray(cand.vector) - optimum).mean()) \
                + 0.01 * noise.standard_normal()
            best = max(best, reward)
            searcher.tell(cand.candidate_id, reward)
        curve.append(best)
    return np.asarray(curve)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, default=4)
    args = parser.parse_args()
    for title, (dim, rounds, samples, searchers) in SETTINGS.items():
        columns = sorted({0, rounds // 4, rounds // 2, 3 * rounds // 4, rounds - 1})
        print(f'\n{title}: best reward so far (mean +- std over {args.seeds} seeds)')
        print(f'{"searcher":<22}' + ''.join(f'{f"round {c + 1}":>16}' for c in columns)
              + f'{"time_s":>9}')
        for name, make in searchers.items():
            start = time.perf_counter()
            curves = np.stack([best_so_far(make(dim, rounds, samples, seed), seed, dim)
                               for seed in range(args.seeds)])
            elapsed = time.perf_counter() - start
            cells = ''.join(f'{curves[:, c].mean():>9.4f}+-{curves[:, c].std():<5.3f}'
                            for c in columns)
            print(f'{name:<22}{cells}{elapsed:>9.1f}')


if __name__ == '__main__':
    main()
