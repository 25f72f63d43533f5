"""A stand-in trial job for executor tests: no training, one scripted behaviour.

Called as ``python fake_job.py --mode MODE [opts] CONFIG --work-dir DIR`` (the executor appends
``CONFIG --work-dir DIR``). It first records its environment and timing in
``DIR/job_env.json``. Modes:
  ok        write metrics.json with {--reward-key: --reward, 'other': 1.0}, exit 0
  crash     print --lines numbered lines, exit 3
  no_metric write metrics.json without --reward-key, exit 0 (or no file with --no-file)
  hang      start a grandchild, write both pids and their start times (``/proc/PID/stat``
            field 22, so that a recycled pid is not taken for them) to DIR/pids.json,
            sleep forever (with --ignore-term both ignore SIGTERM)
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument('--mode', required=True, choices=['ok', 'crash', 'no_metric', 'hang'])
parser.add_argument('--reward-key', default='acc')
parser.add_argument('--reward', type=float, default=0.5)
parser.add_argument('--sleep', type=float, default=0.0)
parser.add_argument('--lines', type=int, default=0)
parser.add_argument('--no-file', action='store_true')
parser.add_argument('--ignore-term', action='store_true')
parser.add_argument('config')
parser.add_argument('--work-dir', required=True)
args = parser.parse_args()

start = time.time()
time.sleep(args.sleep)
with open(os.path.join(args.work_dir, 'job_env.json'), 'w') as f:
    json.dump(dict(CUDA_VISIBLE_DEVICES=os.environ.get('CUDA_VISIBLE_DEVICES'),
                   MASTER_PORT=os.environ.get('MASTER_PORT'), config=args.config,
                   start=start, end=time.time()), f)


def write_metrics(metrics):
    with open(os.path.join(args.work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f)


if args.mode == 'ok':
    write_metrics({args.reward_key: args.reward, 'other': 1.0})
elif args.mode == 'crash':
    for i in range(args.lines):
        print(f'line {i}')
    sys.exit(3)
elif args.mode == 'no_metric':
    if not args.no_file:
        write_metrics({'other': 1.0})
else:
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the grandchild
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
    starts = {}
    for name, pid in (('job', os.getpid()), ('grandchild', child.pid)):
        with open(f'/proc/{pid}/stat') as f:
            starts[name] = f.read().rsplit(')', 1)[1].split()[19]
    with open(os.path.join(args.work_dir, 'pids.json.tmp'), 'w') as f:
        json.dump(dict(job=os.getpid(), grandchild=child.pid, start_times=starts), f)
    os.replace(os.path.join(args.work_dir, 'pids.json.tmp'),
               os.path.join(args.work_dir, 'pids.json'))
    while True:
        time.sleep(1)
