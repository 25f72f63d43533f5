"""Run the executors' failure tests again and again on a busy machine.

``python tools/stress_failures.py [--runs 20] [--burners N] [--set fast|heavy|all]
[--out DIR] [-- extra pytest args]``

Each run is one pytest session over the chosen failure tests (local and Ray executors:
killed worker, killed node, killed driver, SIGTERM, timeouts, NaN stop, forked-trial
SIGKILL, resume mid-round and mid-re-training), while ``--burners`` processes (default: one
per core) spin on the CPUs. It prints a line per run, then the pass count of every test and,
per guarantee, how long the stops took (``mmautoloss.testing.processes.wait_gone`` measures
from the stop, e.g. the driver's exit or the trial's time limit, to the last process of the
job gone; docs/search.md promises ``kill_grace_s`` + ``STOP_SLACK_S``). Not part of the test
suite: a run of the whole set takes minutes, and the point is many of them.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXECUTORS = 'tests/test_search/test_executors'
RAY = f'{EXECUTORS}/test_ray_executor.py'
LOCAL = f'{EXECUTORS}/test_local_executor.py'

#: seconds-long tests of every stop path
FAST = [
    f'{EXECUTORS}/test_processes/test_job_keeper.py',
    f'{LOCAL}::test_timeout_kills_the_process_group',
    f'{LOCAL}::test_interrupt_kills_running_trials',
    f'{LOCAL}::test_real_jobs_nan_and_ok',
    f'{LOCAL}::test_sigkilled_forked_trial_then_the_next_one_on_its_slot_runs_normally',
    f'{LOCAL}::test_forked_job_past_its_time_limit_is_killed_with_its_group',
    f'{LOCAL}::test_a_dead_forker_loses_its_trial_and_is_replaced',
    f'{LOCAL}::test_close_and_interrupt_leave_no_forker_or_job',
    f'{EXECUTORS}/test_processes/test_stale_jobs.py::test_job_dies_with_a_killed_driver',
    f'{EXECUTORS}/test_processes/test_stale_jobs.py::test_forked_job_dies_with_a_killed_driver',
    'tests/test_tools/test_search_cli.py::test_sigterm_stops_the_running_trials_and_exits_143',
    f'{RAY}::test_a_killed_worker_is_retried_and_no_finished_trial_runs_twice',
    f'{RAY}::test_a_worker_that_dies_past_the_retries_fails_the_trial_with_the_reason',
    f'{RAY}::test_a_timeout_kills_the_job_group_on_the_node',
    f'{RAY}::test_sigterm_to_the_driver_stops_the_trials_on_the_cluster',
    f'{RAY}::test_a_force_cancelled_trial_leaves_no_process_behind',
    f'{RAY}::test_early_stopping_cancels_a_trial_that_falls_behind',
]
#: whole searches killed and resumed, a Ray node killed (half a minute each, unloaded)
HEAVY = [
    f'{RAY}::test_a_killed_driver_resumes_against_the_same_cluster',
    f'{RAY}::test_a_dead_node_takes_only_its_running_trial_which_is_retried_elsewhere',
    'tests/test_search/test_resume.py::test_sigkill_then_resume_matches_uninterrupted_run',
    'tests/test_search/test_retraining.py::'
    'test_a_stage_killed_midway_resumes_without_rerunning_finished_retrainings',
]
SETS = dict(fast=FAST, heavy=HEAVY, all=FAST + HEAVY)


def start_burners(count: int) -> list:
    """``count`` processes that keep one core busy each (their own sessions)."""
    return [subprocess.Popen([sys.executable, '-c', 'while True: pass'],
                             start_new_session=True) for _ in range(count)]


def stop_burners(burners: list) -> None:
    for burner in burners:
        os.killpg(burner.pid, signal.SIGKILL)
        burner.wait()


def outcomes(junit_xml: Path) -> dict:
    """``{test id: 'passed' | 'failed' | 'skipped'}`` of one pytest run."""
    results = {}
    for case in ET.parse(junit_xml).getroot().iter('testcase'):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find('failure') is not None or case.find('error') is not None:
            results[name] = 'failed'
        elif case.find('skipped') is not None:
            results[name] = 'skipped'
        else:
            results[name] = 'passed'
    return results


def run_once(index: int, tests: list, out: Path, extra: list) -> dict:
    junit = out / f'run{index:03d}.xml'
    env = dict(os.environ, MMAUTOLOSS_STOP_TIMES=str(out / 'stop_times.jsonl'))
    with open(out / f'run{index:03d}.log', 'w') as log:
        subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                        f'--junitxml={junit}', *tests, *extra], cwd=REPO, env=env,
                       stdout=log, stderr=subprocess.STDOUT)
    return outcomes(junit) if junit.exists() else {'(pytest did not report)': 'failed'}


def report(passes: dict, runs: int, stop_times: Path) -> None:
    print(f'\n{"test":100s} passed / runs')
    for test in sorted(passes):
        counts = passes[test]
        print(f'{test[-100:]:100s} {counts["passed"]:3d} / {sum(counts.values())}')
    if not stop_times.exists():
        return
    by_guarantee = defaultdict(list)
    for line in stop_times.read_text().splitlines():
        record = json.loads(line)
        by_guarantee[record['guarantee']].append(record['seconds'])
    print(f'\n{"guarantee (stop -> last process gone)":58s} {"n":>4s} {"median s":>9s} '
          f'{"slowest s":>9s}')
    for guarantee in sorted(by_guarantee):
        seconds = by_guarantee[guarantee]
        print(f'{guarantee:58s} {len(seconds):4d} {statistics.median(seconds):9.2f} '
              f'{max(seconds):9.2f}')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--burners', type=int, default=os.cpu_count() or 1,
                        help='CPU-burning processes beside the tests (default: one per core)')
    parser.add_argument('--set', choices=sorted(SETS), default='all',
                        help='fast: the stop paths; heavy: killed-and-resumed searches and a '
                        'killed Ray node; all: both')
    parser.add_argument('--out', default='work_dirs/stress_failures')
    parser.add_argument('pytest_args', nargs='*', help='after --: more pytest arguments')
    args = parser.parse_args(argv)
    if args.runs < 1 or args.burners < 0:
        print(f'--runs must be >= 1 and --burners >= 0, got --runs={args.runs} '
              f'--burners={args.burners}', file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'stop_times.jsonl').unlink(missing_ok=True)
    tests = SETS[args.set]
    passes: dict = defaultdict(lambda: defaultdict(int))
    burners = start_burners(args.burners)
    start = time.monotonic()
    try:
        for index in range(args.runs):
            began = time.monotonic()
            results = run_once(index, tests, out, args.pytest_args)
            for test, outcome in results.items():
                passes[test][outcome] += 1
            failed = sorted(t for t, o in results.items() if o == 'failed')
            print(f'[stress] run {index + 1}/{args.runs}: {len(results) - len(failed)} passed, '
                  f'{len(failed)} failed in {time.monotonic() - began:.0f} s'
                  + (f' ({", ".join(failed)}; log {out}/run{index:03d}.log)' if failed else ''),
                  flush=True)
    finally:
        stop_burners(burners)
    print(f'[stress] {args.runs} runs of {len(tests)} test paths with {args.burners} CPU '
          f'burner(s) in {time.monotonic() - start:.0f} s')
    report(passes, args.runs, out / 'stop_times.jsonl')
    return 0 if all(c['failed'] == 0 for c in passes.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
