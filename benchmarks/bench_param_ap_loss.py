"""Time and peak memory of Parameterized AP Loss (PAP eq. 6): sorted prefix sums vs dense.

``fast`` is :func:`mmautoloss.functional.ap_surrogate.param_ap_surrogate` (O((N + P M) log N)
time, O(N + P M) memory). ``dense`` is the authors' formulation: the full
[positives x candidates] matrix of f(d_ji), here in float32. Both run forward + backward on
the same inputs (released RetinaNet functions of the PAP public release).

Each (method, N, P) runs in its own subprocess with one torch thread. Peak memory is
``ru_maxrss`` of that process after the runs minus ``ru_maxrss`` after imports and input
creation, i.e. the extra resident memory the loss needed at its peak. Time is the median of
several forward + backward passes after one warm-up.

Usage, from the repository root (or with mmautoloss installed):
    PYTHONPATH=. python benchmarks/bench_param_ap_loss.py [--dense-limit 1e7] [--repeats 3]
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from mmautoloss.functional.ap_surrogate import param_ap_surrogate
from mmautoloss.functional.piecewise_linear import piecewise_linear
from mmautoloss.testing.released_references import PAP_RETINANET

RETINANET_FUNCTIONS = PAP_RETINANET
CASES = [(1_000, 10), (1_000, 100), (10_000, 100), (10_000, 1_000), (100_000, 100),
         (100_000, 1_000), (1_000_000, 1_000)]


def dense_param_ap(scores, pos_mask, pos_loc, knots):
    """Eq. (6) with the explicit (P, N) matrix of pairs, j = i masked, denominator detached."""
    pos_index = pos_mask.nonzero().squeeze(1)

    def f(index, x):
        return piecewise_linear(x, knots[index, :, 0].to(x), knots[index, :, 1].to(x))

    d = ((scores[None, :] - scores[pos_index][:, None]).clamp(-1, 1) + 1) / 2
    not_self = torch.ones_like(d, dtype=torch.bool)
    not_self[torch.arange(pos_index.numel()), pos_index] = False
    weights = torch.ones_like(scores).index_put((pos_index, ), 1 - f(1, pos_loc))
    numerator = (f(0, d) * not_self * weights[None, :]).sum(1)
    denominator = 1 + (f(4, d.detach()) * not_self).sum(1)
    terms = f(3, pos_loc) - numerator / denominator * f(2, pos_loc)
    return 1 - terms.mean()


def make_inputs(num, num_pos):
    generator = torch.Generator().manual_seed(0)
    scores = (torch.randn(num, generator=generator) * 2).requires_grad_()
    pos_mask = torch.zeros(num, dtype=torch.bool)
    pos_mask[torch.randperm(num, generator=generator)[:num_pos]] = True
    pos_loc = torch.rand(num_pos, generator=generator).requires_grad_()
    knots = torch.tensor(RETINANET_FUNCTIONS, dtype=torch.float64).reshape(5, 6, 2)
    return scores, pos_mask, pos_loc, knots


def worker(method, num, num_pos, repeats):
    torch.set_num_threads(1)
    inputs = make_inputs(num, num_pos)
    fn = param_ap_surrogate if method == 'fast' else dense_param_ap
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, value = [], None
    for _ in range(repeats + 1):
        for tensor in (inputs[0], inputs[2]):
            tensor.grad = None
        start = time.perf_counter()
        loss = fn(*inputs)
        loss.backward()
        times.append(time.perf_counter() - start)
        value = loss.item()
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(json.dumps(dict(time=statistics.median(times[1:]), peak_mb=peak_mb, value=value)))


def run_case(method, num, num_pos, repeats):
    out = subprocess.run([sys.executable, __file__, '--worker', method, str(num),
                          str(num_pos), str(repeats)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dense-limit', type=float, default=1e7,
                        help='skip dense when P x N exceeds this (it needs ~50 B per pair)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--worker', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, num, num_pos, repeats = args.worker
        worker(method, int(num), int(num_pos), int(repeats))
        return
    print(f'PAP eq. (6) forward + backward on CPU, 1 torch thread, median of {args.repeats} '
          f'runs after a warm-up; peak memory = ru_maxrss of a fresh subprocess after the '
          f'runs minus after input creation.')
    print(f'dense = full (P x N) pair matrix in float32, skipped when P x N > '
          f'{args.dense_limit:.0e}.')
    header = (f'{"N":>9} {"P":>6} | {"fast s":>9} {"fast MB":>8} | {"dense s":>9} '
              f'{"dense MB":>9} | {"dense/fast":>10} {"|diff|":>8}')
    print(header)
    print('-' * len(header))
    for num, num_pos in CASES:
        fast = run_case('fast', num, num_pos, args.repeats)
        row = f'{num:>9} {num_pos:>6} | {fast["time"]:>9.4f} {fast["peak_mb"]:>8.1f} | '
        if num * num_pos <= args.dense_limit:
            dense = run_case('dense', num, num_pos, args.repeats)
            row += (f'{dense["time"]:>9.4f} {dense["peak_mb"]:>9.1f} | '
                    f'{dense["time"] / fast["time"]:>9.1f}x '
                    f'{abs(dense["value"] - fast["value"]):>8.1e}')
        else:
            row += f'{"skipped":>9} {"":>9} | {"":>10} {"":>8}'
        print(row, flush=True)


if __name__ == '__main__':
    main()
