"""How close tools/plan_search.py's forecast comes to the time a search then takes here.

The "user config" is the main job's proxy model with mmseg's cross-entropy
(``configs/proxies/alz_toyseg.py``: DeepLabV3+ with a quarter-width ResNet-18 on ToySeg,
300 iterations). It is planned for ASL at the main job's size (``--rounds 2 --samples 3``,
300 proxy iterations; the plan's re-training stage: the best surrogate, the user's loss and
the identity surrogate, 5 seeds each on the user's unchanged schedule; 3 when the figures
of docs/benchmarks.md were measured), then the written
search runs through tools/search.py. Printed: each stage's forecast, the time spent (the
trainings' summed durations from the journal, and the search's wall time), their ratios,
and the peak resident memory of the planning process.

Usage: ``python benchmarks/bench_plan_forecast.py [--out work_dirs/bench_plan_forecast]``
(about 8 minutes on 2 CPU cores; ToySeg is generated when ``data/toyseg`` is missing).
"""
import argparse
import json
import os.path as osp
import resource
import shutil
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
USER_CONFIG = osp.join(REPO, 'configs', 'proxies', 'alz_toyseg.py')


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='work_dirs/bench_plan_forecast')
    args = parser.parse_args()
    out = osp.join(REPO, args.out)
    shutil.rmtree(out, ignore_errors=True)
    if not osp.isdir(osp.join(REPO, 'data', 'toyseg')):
        run([sys.executable, 'tools/generate_toyseg.py', '--out', 'data/toyseg'])
    plan_s = run([sys.executable, 'tools/plan_search.py', USER_CONFIG, '--method', 'asl',
                  '--rounds', '2', '--samples', '3', '--proxy-iters', '300', '--out',
                  osp.join(out, 'plan')])
    wall_s = run([sys.executable, 'tools/search.py', osp.join(out, 'plan', 'search.py'),
                  '--work-dir', osp.join(out, 'search')])
    best = json.load(open(osp.join(out, 'search', 'best.json')))
    forecast, spent = best['forecast'], best['time_spent']
    trial = spent['search_s'] / spent['proxy_trainings']
    print(f'planning (probe included): {plan_s:.1f} s')
    print(f'{"stage":<28}{"forecast s":>12}{"spent s":>10}{"spent / forecast":>18}')
    for name, f, s in (('one proxy trial', forecast['trial_s'], trial),
                       (f'search ({spent["proxy_trainings"]} trainings)',
                        forecast['search_s'], spent['search_s']),
                       (f're-training ({spent["retrain_trainings"]})', forecast['retrain_s'],
                        spent['retrain_s']),
                       ('total (trainings)', forecast['search_s'] + forecast['retrain_s'],
                        spent['search_s'] + spent['retrain_s']),
                       ('total (search wall time)', forecast['search_s'] + forecast['retrain_s'],
                        wall_s)):
        print(f'{name:<28}{f:>12.1f}{s:>10.1f}{s / f:>18.2f}')
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f'peak resident memory of a child process (planning or search driver): '
          f'{peak:.0f} MiB')


if __name__ == '__main__':
    main()
