"""Scheduling overhead and slot utilisation of LocalExecutor.

Every trial is a shell job that only sleeps ``--sleep`` seconds and writes metrics.json, so
all time beyond ``ceil(trials / slots) * sleep`` is the executor's own cost (config
derivation, process launch, waiting, judging). For each slot count it prints the wall time,
the ideal time, the lost slot-time per trial in ms, the mean trial latency beyond the sleep,
and the utilisation (busy slot-time / available slot-time), plus the mean cost of deriving
one trial config.

    python benchmarks/bench_executor_overhead.py [--trials 16] [--sleep 0.5] [--slots 1 2 4 8]
"""
from __future__ import annotations

import argparse
import math
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


def bench(proxy: str, root: str, slots: int, trials: int, sleep: float) -> dict:
    executor = LocalExecutor(proxy, 'acc', gpus=0, max_concurrent=slots, timeout_s=60,
                             job_entry=['/bin/sh', '-c', SLEEP_JOB, str(sleep)])
    specs = [TrialSpec(trial_id=f's{slots}_t{i}', candidate=[i / trials],
                       overrides={'model.loss.params': [i / trials] * 12},
                       work_dir=osp.join(root, f's{slots}', f't{i}')) for i in range(trials)]
    start = time.perf_counter()
    results = list(executor.run(specs))
    wall = time.perf_counter() - start
    if any(r.status != 'ok' for r in results):
        raise RuntimeError(f'a benchmark trial failed: {[r.reason for r in results]}')
    ideal = math.ceil(trials / slots) * sleep
    return dict(slots=slots, wall=wall, ideal=ideal,
                overhead_ms=(wall * slots - trials * sleep) / trials * 1000,
                latency_ms=statistics.mean(r.duration_s for r in results) * 1000 - sleep * 1000,
                utilisation=trials * sleep / (wall * slots) * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--trials', type=int, default=16)
    parser.add_argument('--sleep', type=float, default=0.5)
    parser.add_argument('--slots', type=int, nargs='+', default=[1, 2, 4, 8])
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
        print(f'{"slots":>5} {"wall s":>8} {"ideal s":>8} {"overhead ms/trial":>18} '
              f'{"trial latency ms":>17} {"utilisation %":>14}')
        for slots in args.slots:
            r = bench(proxy, root, slots, args.trials, args.sleep)
            print(f'{r["slots"]:>5} {r["wall"]:>8.2f} {r["ideal"]:>8.2f} '
                  f'{r["overhead_ms"]:>18.1f} {r["latency_ms"]:>17.1f} '
                  f'{r["utilisation"]:>14.1f}')


if __name__ == '__main__':
    main()
