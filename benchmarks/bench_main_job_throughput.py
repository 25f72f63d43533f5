"""Trials per hour of the README's main job, spawned trials vs forked trials, same run.

Runs the main-job search (``configs/search/asl_miou_toyseg.py``: 2 PPO2 rounds x 3 proxy
trainings, then the re-training stage) twice from scratch with ``tools/search.py``: once
with every trial started as a new interpreter (``executor.fork_jobs=False``, the executor
before forking) and once with the default forked jobs. Prints the wall time of each
search, its trials and trials per hour, and whether every trial got the same reward both
ways (same seed: the results must not change).

``--before REV`` makes the first run the repository at commit REV instead (a clone of it,
its own ``mmautoloss`` and tools, trials spawned as it spawned them; data linked from this
checkout), e.g. the commit before the throughput work: forked trials and the faster
surrogates measured together against what came before them.

    python benchmarks/bench_main_job_throughput.py [--keep DIR] [--before REV]
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

from mmautoloss.testing import REPO

CONFIG = 'configs/search/asl_miou_toyseg.py'


def rewards(work_dir: str) -> dict[str, float]:
    """Trial id -> reward, from the search's journal."""
    with open(osp.join(work_dir, 'journal.jsonl'), encoding='utf-8') as f:
        events = [json.loads(line) for line in f]
    return {e['result']['trial_id']: e['result']['reward'] for e in events
            if e['event'] == 'trial'}


def search(work_dir: str, fork: bool, checkout: str = str(REPO)) -> float:
    """Run the main-job search of ``checkout`` into ``work_dir``; its wall time in seconds.
    ``fork=None``: the checkout's own default (an earlier commit may not know the option)."""
    options = [] if fork is None else ['--cfg-options', f'executor.fork_jobs={fork}']
    env = dict(os.environ, PYTHONPATH=checkout)
    start = time.perf_counter()
    subprocess.run([sys.executable, 'tools/search.py', CONFIG, '--work-dir', work_dir,
                    *options], cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def clone_at(rev: str, root: str) -> str:
    """A clone of this repository at ``rev`` under ``root``, with this checkout's data."""
    checkout = osp.join(root, 'before')
    subprocess.run(['git', 'clone', '--quiet', str(REPO), checkout], check=True)
    subprocess.run(['git', 'checkout', '--quiet', rev], cwd=checkout, check=True)
    os.symlink(REPO / 'data', osp.join(checkout, 'data'))
    return checkout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', help='write the two searches here instead of a temp dir')
    parser.add_argument('--before', metavar='REV',
                        help='run the first search at this commit (its own spawned trials)')
    args = parser.parse_args()
    if not (REPO / 'data' / 'toyseg' / 'img_dir' / 'val').is_dir():
        subprocess.run([sys.executable, 'tools/generate_toyseg.py'], cwd=REPO, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or tmp
        os.makedirs(root, exist_ok=True)
        walls, found = {}, {}
        for fork in (False, True):
            work_dir = osp.join(root, 'forked' if fork else 'spawned')
            if args.before and not fork:
                walls[fork] = search(work_dir, None, clone_at(args.before, root))
            else:
                walls[fork] = search(work_dir, fork)
            found[fork] = rewards(work_dir)
    names = {False: f'{args.before}, spawned' if args.before else 'spawned', True: 'forked'}
    print(f'main job ({CONFIG}), {os.cpu_count()} cores, one CPU slot')
    print(f'{"trials":<18}{"trials":>7}{"wall s":>9}{"trials/hour":>13}')
    for fork in (False, True):
        n = len(found[fork])
        print(f'{names[fork]:<18}{n:>7}{walls[fork]:>9.0f}{n / walls[fork] * 3600:>13.1f}')
    print(f'speed-up: {walls[False] / walls[True]:.2f}x')
    differing = sorted(t for t in found[False] if found[False][t] != found[True].get(t))
    print(f'same reward for {len(found[False]) - len(differing)}/{len(found[False])} trials'
          + (f'; differing: {differing}' if differing else ''))


if __name__ == '__main__':
    main()
