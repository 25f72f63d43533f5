"""Builders shared by the search tests of this repository: a tiny proxy config, a search
config, the deterministic objective job (``tests/assets/search_job/objective_job.py``) as
the trial job, running ``tools/search.py`` and killing it. They need a source checkout
(``REPO`` is the checkout holding this package)."""
import os
import sys
from pathlib import Path

from mmautoloss.search.journal import read_journal

REPO = Path(__file__).resolve().parents[2]
OBJECTIVE_JOB = str(REPO / 'tests' / 'assets' / 'search_job' / 'objective_job.py')
SEARCH_TOOL = str(REPO / 'tools' / 'search.py')
PLAN_TOOL = str(REPO / 'tools' / 'plan_search.py')

PROXY_SEG = """
model = dict(decode_head=dict(loss_decode=dict(
    type='AutoSegLoss', metric='mIoU', num_classes=3, loss_weight=1.0, theta=None)))
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU']), dict(type='FWIoUMetric')]
"""


def write_proxy(directory: Path, text: str = PROXY_SEG, name: str = 'proxy.py') -> str:
    path = directory / name
    path.write_text(text)
    return str(path)


def search_config_text(proxy: str, rounds: int = 2, samples: int = 3, seed: int = 0,
                       searcher: str | None = None, extra: str = '',
                       trial_timeout: float = 60, executor: str | None = None) -> str:
    """A search config over the ASL space of ``proxy``; the Optuna mirror and the slot
    check are off (``optuna_storage = None``, ``check_slots = False``: the jobs are
    stand-ins) unless ``extra`` sets them."""
    searcher = searcher or "dict(type='PPO2Searcher', num_steps=10)"
    executor = executor or (f"dict(type='LocalExecutor', max_concurrent=1, "
                            f"job_entry=[{sys.executable!r}, {OBJECTIVE_JOB!r}], "
                            f"kill_grace_s=0.2, poll_interval_s=0.02)")
    return f"""
proxy_config = {proxy!r}
search_space = dict(type='ASLSpace', metric='mIoU')
reward_key = 'mIoU'
searcher = {searcher}
executor = {executor}
budget = dict(rounds={rounds}, samples_per_round={samples})
seed = {seed}
failure_reward = 0.0
trial_timeout = {trial_timeout}
optuna_storage = None
check_slots = False
{extra}
"""


def write_search_config(directory: Path, proxy: str, name: str = 'search.py', **kwargs) -> str:
    path = directory / name
    path.write_text(search_config_text(proxy, **kwargs))
    return str(path)


def objective(vector) -> float:
    """The reward objective_job.py computes (hidden optimum 0.3 in every dimension)."""
    return 1.0 - sum(abs(v - 0.3) for v in vector) / len(vector)



def sigkill_after_trials(cmd, env, work_dir, trials: int, timeout: float = 300) -> None:
    """Start the search ``cmd``, SIGKILL it once its journal holds ``trials`` trial events
    (failing if it ends first), and let an orphaned trial job finish."""
    import json as _json
    import signal
    import subprocess
    import time
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    journal = Path(work_dir) / 'journal.jsonl'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists():
            lines = journal.read_text().splitlines()
            done = sum(1 for line in lines if line.startswith('{')
                       and _json.loads(line).get('event') == 'trial')
            if done >= trials:
                break
        time.sleep(0.02)
    assert proc.poll() is None, 'the search ended before it could be killed'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)


def killed_and_resumed(config: str, env: dict, tmp_path, trials: int):
    """Run the search ``config`` uninterrupted into ``tmp_path/reference``, then again into
    ``tmp_path/killed``, SIGKILLed after ``trials`` trials and finished with ``--resume``;
    both must exit 0 with the same ``best.json``. Returns the reference run (its stderr
    holds the terminal report), that ``best.json`` and the killed search's work dir."""
    import json as _json
    import subprocess
    reference = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir',
                                str(tmp_path / 'reference')], env=env, cwd=REPO,
                               capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stderr[-3000:]
    work_dir = tmp_path / 'killed'
    sigkill_after_trials([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir)],
                         env, work_dir, trials)
    resumed = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir),
                              '--resume'], env=env, cwd=REPO, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(tmp_path / 'reference' / 'best.json') as f:
        expected = _json.load(f)
    with open(work_dir / 'best.json') as f:
        assert _json.load(f) == expected
    return reference, expected, work_dir


def env_with_counter(counter_path) -> dict:
    """The environment of a search whose objective jobs append their trial ids to
    ``counter_path`` (to count how often each trial ran)."""
    env = dict(os.environ, OBJ_SLEEP='0.1', OBJ_COUNTER=str(counter_path), OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')])
    return env


def search_cmd(config, work_dir, *extra) -> list[str]:
    """``python tools/search.py CONFIG --work-dir WORK_DIR [extra...]``."""
    return [sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir), *extra]


def trial_events(work_dir) -> list[dict]:
    """The ``trial`` events of a search's journal."""
    return [e for e in read_journal(str(work_dir / 'journal.jsonl')) if e['event'] == 'trial']
