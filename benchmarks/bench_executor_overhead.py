"""Scheduling overhead and slot utilisation of LocalExecutor and RayExecutor.

Every trial is a shell job that only sleeps ``--sleep`` seconds and writes metrics.json, so
all time beyond ``ceil(trials / slots) * sleep`` is the executor's own cost (config
derivation, process launch, waiting, judging; for Ray also task submission, scheduling and
the worker's start). For each slot count and executor it prints the wall time, the ideal
time, the lost slot-time per trial in ms, the mean trial latency beyond the sleep, and the
utilisation (busy slot-time / available slot-time), plus the mean cost of deriving one trial
config. CPU rows: ``slots`` CPU trials at once (Ray: a local instance of 8 logical CPUs,
``8 / slots`` CPUs per trial). GPU-fraction rows: ``slots`` trials share one (fake) GPU at
``gpus_per_trial = 1 / slots``, the local executor's packing against Ray's fractional GPUs.

    python benchmarks/bench_executor_overhead.py [--trials 16] [--sleep 0.5] [--slots 1 2 4 8]
        [--no-ray]
"""
from __future__ import annotations

import argparse
import math
import os
import os.path as osp
import statistics
import tempfile
import time

from mmengine.config import Config

from mmautoloss.search.executors import LocalExecutor
from mmautoloss.search.trial import TrialSpec, write_trial_config

# sh -c SCRIPT SLEEP CONFIG --work-dir DIR  ->  $0=SLEEP $1=CONFIG $2=--work-dir $3=DIR
SLEEP_JOB = 'sleep "$0"; echo \'{"acc": 1.0}\' > "$3/metrics.json"'
PROXY = "model = dict(type='Toy', loss=dict(type='AutoSegLoss', params=[0.5] * 12))\n"


def bench(executor, root: str, name: str, slots: int, trials: int, sleep: float) -> dict:
    specs = [TrialSpec(trial_id=f't{i}', candidate=[i / trials],
                       overrides={'model.loss.params': [i / trials] * 12},
                       work_dir=osp.join(root, name, f't{i}')) for i in range(trials)]
    start = time.perf_counter()
    results = list(executor.run(specs))
    wall = time.perf_counter() - start
    if any(r.status != 'ok' for r in results):
        raise RuntimeError(f'a benchmark trial failed: {[r.reason for r in results]}')
    ideal = math.ceil(trials / slots) * sleep
    return dict(wall=wall, ideal=ideal,
                overhead_ms=(wall * slots - trials * sleep) / trials * 1000,
                latency_ms=statistics.mean(r.duration_s for r in results) * 1000 - sleep * 1000,
                utilisation=trials * sleep / (wall * slots) * 100)


def executors(proxy: str, slots: int, sleep: float, use_ray: bool):
    """(row label, executor) pairs for one slot count."""
    common = dict(proxy_config=proxy, reward_key='acc', timeout_s=60,
                  job_entry=['/bin/sh', '-c', SLEEP_JOB, str(sleep)])
    os.environ['CUDA_VISIBLE_DEVICES'] = '0'  # one fake GPU for the fraction rows
    yield 'local cpu', LocalExecutor(max_concurrent=slots, **common)
    yield 'local gpu/k', LocalExecutor(gpus=1, gpus_per_trial=1 / slots, **common)
    if use_ray:
        from mmautoloss.search.executors import RayExecutor
        yield 'ray cpu', RayExecutor(num_cpus=8, num_gpus=1, cpus_per_trial=8 / slots,
                                     **common)
        yield 'ray gpu/k', RayExecutor(num_cpus=8, num_gpus=1, cpus_per_trial=0,
                                       gpus_per_trial=1 / slots, **common)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--trials', type=int, default=16)
    parser.add_argument('--sleep', type=float, default=0.5)
    parser.add_argument('--slots', type=int, nargs='+', default=[1, 2, 4, 8])
    parser.add_argument('--no-ray', action='store_true', help='local executor rows only')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        proxy = osp.join(root, 'proxy.py')
        with open(proxy, 'w') as f:
            f.write(PROXY)
        n = 20
        for source in (proxy, Config.fromfile(proxy)):
            start = time.perf_counter()
            for i in range(n):
                write_trial_config(TrialSpec(f'c{i}', [], {'model.loss.params': [0.1] * 12},
                                             osp.join(root, 'cfg', str(i))), source, 20)
            config_ms = (time.perf_counter() - start) / n * 1000
            kind = 'file' if source is proxy else 'parsed Config (as the executor does)'
            print(f'write_trial_config from {kind}: {config_ms:.1f} ms per trial')
        print(f'trials={args.trials} sleep={args.sleep}s')
        print(f'{"executor":>12} {"slots":>5} {"wall s":>8} {"ideal s":>8} '
              f'{"overhead ms/trial":>18} {"trial latency ms":>17} {"utilisation %":>14}')
        for slots in args.slots:
            for label, executor in executors(proxy, slots, args.sleep, not args.no_ray):
                if label.startswith('ray'):  # start `slots` workers: a long search's state
                    bench(executor, root, f'warm-up-{label}-{slots}', slots, slots, 0.3)
                r = bench(executor, root, f'{label}-{slots}', slots, args.trials, args.sleep)
                print(f'{label:>12} {slots:>5} {r["wall"]:>8.2f} {r["ideal"]:>8.2f} '
                      f'{r["overhead_ms"]:>18.1f} {r["latency_ms"]:>17.1f} '
                      f'{r["utilisation"]:>14.1f}')


if __name__ == '__main__':
    main()
