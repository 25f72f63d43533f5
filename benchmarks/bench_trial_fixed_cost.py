"""Fixed cost of a search trial: spawned interpreter vs job forked from a warm forker.

The same short trial (the Auto Seg-Loss ToySeg proxy of the README's main job, cut to
``--iters`` iterations and one validation, the identity mIoU surrogate) runs ``--trials``
times on one CPU slot of a LocalExecutor, once with every job started as a new interpreter
(``fork_jobs=False``, the executor before forking) and once forked from the slot's warm job
forker (``fork_jobs=True``). A timing hook in each job notes when training starts and when
the training loop (iterations and the validation) ends; the fixed cost of a trial is its
wall time as the executor measures it (config derivation, launch, waiting, judging) minus
that loop. The first forked trial also waits for its forker to import; it is reported on
its own. Same-run ratios; rewards of the two ways are compared too (same seed).

    python benchmarks/bench_trial_fixed_cost.py [--trials 5] [--iters 20]
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

from mmautoloss.search.executors import LocalExecutor
from mmautoloss.search.trial import TrialSpec
from mmautoloss.testing import REPO

PROXY = str(REPO / 'configs' / 'proxies' / 'asl_toyseg.py')
DATA = REPO / 'data' / 'toyseg'
# the timing hook, imported by each job from the benchmark's temporary directory
HOOK_SOURCE = '''
import json, os, time
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class TrialTimingHook(Hook):
    priority = 'HIGHEST'

    def before_train(self, runner):
        self.start = time.time()

    def after_train(self, runner):
        with open(os.path.join(runner.work_dir, 'timing.json'), 'w') as f:
            json.dump(dict(loop_s=time.time() - self.start), f)
'''


def run_trials(fork: bool, root: str, trials: int, iters: int) -> list[dict]:
    executor = LocalExecutor(PROXY, 'mIoU', timeout_s=600, fork_jobs=fork)
    label = 'forked' if fork else 'spawned'
    specs = [TrialSpec(trial_id=f'{label}{i}', candidate=[], work_dir=osp.join(root, label, str(i)),
                       overrides={
                           'model.decode_head.loss_decode': dict(
                               _delete_=True, type='AutoSegLoss', metric='mIoU'),
                           'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
                           'custom_imports.imports': ['trial_timing_hook'],
                           'custom_hooks': [dict(type='TrialTimingHook')]})
             for i in range(trials)]
    rows = []
    for result in executor.run(specs):  # one slot: in order
        if result.status != 'ok':
            raise RuntimeError(f'{result.trial_id}: {result.reason}\n{result.log_tail}')
        with open(osp.join(osp.dirname(result.log_path), 'timing.json')) as f:
            loop_s = json.load(f)['loop_s']
        rows.append(dict(wall=result.duration_s, loop=loop_s, fixed=result.duration_s - loop_s,
                         reward=result.reward))
    executor.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--trials', type=int, default=5)
    parser.add_argument('--iters', type=int, default=20)
    args = parser.parse_args()
    if not (DATA / 'img_dir' / 'val').is_dir():
        subprocess.run([sys.executable, str(REPO / 'tools' / 'generate_toyseg.py'), '--out',
                        str(DATA)], check=True)
    os.chdir(REPO)  # the proxy's data_root is relative to the repository
    with tempfile.TemporaryDirectory() as root:
        with open(osp.join(root, 'trial_timing_hook.py'), 'w') as f:
            f.write(HOOK_SOURCE)
        os.environ['PYTHONPATH'] = os.pathsep.join(
            [root, str(REPO), *filter(None, [os.environ.get('PYTHONPATH')])])
        start = time.perf_counter()
        rows = {fork: run_trials(fork, root, args.trials, args.iters) for fork in (False, True)}
        total = time.perf_counter() - start
    print(f'ToySeg ASL proxy trial cut to {args.iters} iterations + 1 validation, '
          f'{args.trials} trials each way on one CPU slot ({os.cpu_count()} cores), '
          f'{total:.0f} s in all')
    print(f'{"":<30}{"wall s":>8}{"loop s":>8}{"fixed s":>9}')
    spawned, forked = rows[False], rows[True]
    lines = [('spawned, mean of all', spawned), ('forked, first (forker start)', forked[:1]),
             ('forked, mean of the others', forked[1:])]
    for label, part in lines:
        if part:
            print(f'{label:<30}' + ''.join(f'{statistics.mean(r[k] for r in part):>{w}.2f}'
                                         for k, w in (('wall', 8), ('loop', 8), ('fixed', 9))))
    if forked[1:]:
        old = statistics.mean(r['fixed'] for r in spawned)
        new = statistics.mean(r['fixed'] for r in forked[1:])
        print(f'fixed cost per trial: {old:.2f} s spawned -> {new:.2f} s forked '
              f'({old / new:.1f}x less)')
    same = [a['reward'] == b['reward'] for a, b in zip(spawned, forked)]
    print(f'rewards equal spawned vs forked (same seed): {sum(same)}/{len(same)} '
          f'(mIoU {spawned[0]["reward"]} / {forked[0]["reward"]})')


if __name__ == '__main__':
    main()
