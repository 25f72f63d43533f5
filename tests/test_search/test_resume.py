"""--resume after SIGKILL reaches exactly the uninterrupted result without rerunning trials."""
import json
import os
import signal
import subprocess
import time
from collections import Counter

from mmautoloss.search.search_config import (build_executor, build_searcher, load_search_config,
                                             validate_search_config)
from mmautoloss.search.search_loop import SearchLoop
from mmautoloss.testing import (REPO, env_with_counter, search_cmd, trial_events, write_proxy,
                                write_search_config)


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path, monkeypatch):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=2, samples=4, seed=11)

    ref_dir = tmp_path / 'reference'  # uninterrupted, in this process
    monkeypatch.setenv('OBJ_SLEEP', '0.1')
    settings = validate_search_config(load_search_config(config))
    SearchLoop(settings, build_searcher(settings), build_executor(settings), str(ref_dir),
               reporter_stream=open(os.devnull, 'w')).run()

    work_dir = tmp_path / 'killed'
    env = env_with_counter(tmp_path / 'counter.txt')
    proc = subprocess.Popen(search_cmd(config, work_dir), env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if (work_dir / 'journal.jsonl').exists() and len(trial_events(work_dir)) >= 5:
            break
        time.sleep(0.02)
    assert proc.poll() is None, 'the search ended before it could be killed mid-round'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = [e['result']['trial_id'] for e in trial_events(work_dir)]
    assert 5 <= len(done_before) < 8
    time.sleep(1.0)  # a trial job orphaned by the kill finishes on its own
    with open(work_dir / 'journal.jsonl', 'a') as f:  # a write torn by the kill
        f.write('{"event": "trial", "round": 1, "resu')

    resumed = subprocess.run(search_cmd(config, work_dir, '--resume'), env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    with open(ref_dir / 'best.json') as f:
        reference_best = json.load(f)
    with open(work_dir / 'best.json') as f:
        assert json.load(f) == reference_best

    events = trial_events(work_dir)
    ids = [e['result']['trial_id'] for e in events]
    assert len(ids) == len(set(ids)) == 8
    reference = {e['result']['trial_id']: e for e in trial_events(ref_dir)}
    for event in events:
        ref_event = reference[event['result']['trial_id']]
        assert event['candidate'] == ref_event['candidate']
        assert event['result']['reward'] == ref_event['result']['reward']

    with open(tmp_path / 'counter.txt') as f:
        runs = Counter(f.read().split())
    assert set(runs) == set(ids)
    assert all(runs[trial_id] == 1 for trial_id in done_before)
    assert sum(runs.values()) <= 8 + 1  # at most the one trial in flight at the kill reran
