"""--resume after SIGKILL reaches exactly the uninterrupted result without rerunning trials."""
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter

import pytest

from mmautoloss.search.builders import build_executor, build_searcher
from mmautoloss.search.search_loop import SearchLoop
from mmautoloss.search.validation import load_search_config, validate_search_config
from mmautoloss.testing import (
    REPO,
    env_with_counter,
    search_cmd,
    trial_events,
    write_proxy,
    write_search_config,
)


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


def _half_finished_search(tmp_path, monkeypatch, rounds=3, samples=2):
    """A reference run and a copy of its journal cut after round 1's trials: the state of a
    search killed mid-way (state.json saved at the start of round 1)."""
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=rounds, samples=samples, seed=5)
    monkeypatch.setenv('OBJ_SLEEP', '0')
    settings = validate_search_config(load_search_config(config))
    ref_dir = tmp_path / 'reference'
    SearchLoop(settings, build_searcher(settings), build_executor(settings), str(ref_dir),
               reporter_stream=open(os.devnull, 'w')).run()
    work_dir = tmp_path / 'half'
    work_dir.mkdir()
    lines = (ref_dir / 'journal.jsonl').read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if '"event": "round_start"' in line]
    kept = lines[:starts[2]]  # rounds 0 and 1 complete
    (work_dir / 'journal.jsonl').write_text(''.join(kept))
    round1 = json.loads(lines[starts[1]])
    (work_dir / 'state.json').write_text(json.dumps(dict(round=1, searcher=round1['searcher'])))
    shutil.copytree(ref_dir / 'trials', work_dir / 'trials')
    return config, ref_dir, work_dir


def _resume(config, work_dir):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', OBJ_SLEEP='0')
    return subprocess.run(search_cmd(config, work_dir, '--resume'), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_a_deleted_or_corrupted_state_is_rebuilt_from_the_journal(tmp_path, monkeypatch):
    config, ref_dir, work_dir = _half_finished_search(tmp_path, monkeypatch)
    reference = json.loads((ref_dir / 'best.json').read_text())
    for damage in ('truncate', 'delete'):
        half = tmp_path / damage
        shutil.copytree(work_dir, half)
        if damage == 'truncate':
            text = (half / 'state.json').read_text()
            (half / 'state.json').write_text(text[:len(text) // 2])
        else:
            (half / 'state.json').unlink()
        done = _resume(config, half)
        assert done.returncode == 0, done.stderr[-3000:]
        assert 'rebuilt from the journal' in done.stderr
        assert json.loads((half / 'best.json').read_text()) == reference
        ids = [e['result']['trial_id'] for e in trial_events(half)]
        assert len(ids) == len(set(ids)) == 6


@pytest.mark.parametrize('damage, match', [
    ('{"event": "trial", "round": 1\n', 'line 3 is not valid JSON'),
    ('{"event": "trial"}\n', "line 3: a 'trial' event without ['round', 'candidate', 'result']"),
    ('{"event": "trial", "round": 0, "candidate": [], "result": {"status": "ok"}}\n',
     "without ['result.trial_id', 'result.reward']"),
    ('[1, 2]\n', 'line 3 is not an event object'),
])
def test_a_damaged_journal_line_exits_2_and_leaves_the_journal_as_it_was(
        tmp_path, monkeypatch, damage, match):
    config, _, work_dir = _half_finished_search(tmp_path, monkeypatch)
    journal = work_dir / 'journal.jsonl'
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text(''.join(lines[:2] + [damage] + lines[2:]))
    before = journal.read_bytes()
    done = _resume(config, work_dir)
    assert done.returncode == 2, done.stderr[-2000:]
    assert match in done.stderr and 'Traceback' not in done.stderr
    assert f'mv {journal} {journal}.damaged' in done.stderr
    assert journal.read_bytes() == before


def test_a_changed_trial_timeout_cannot_resume(tmp_path, monkeypatch):
    config, _, work_dir = _half_finished_search(tmp_path, monkeypatch)
    with open(config, 'a') as f:
        f.write('\ntrial_timeout = 5\n')
    before = (work_dir / 'journal.jsonl').read_bytes()
    done = _resume(config, work_dir)
    assert done.returncode == 2 and 'trial_timeout: recorded 60.0, now 5.0' in done.stderr
    assert (work_dir / 'journal.jsonl').read_bytes() == before
