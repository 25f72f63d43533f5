"""Searches recorded by an earlier commit (``tests/assets/recorded_searches``, see its
``record.py``) resume and re-draw unchanged with the code of today: the on-disk formats of
the journal, ``state.json``, ``best.json``, ``best_config.py`` and ``report.md`` are a
contract with every search already running on a user's machine."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmautoloss.testing import REPO, SEARCH_TOOL

RECORDED = REPO / 'tests' / 'assets' / 'recorded_searches'
SEARCHES = ('asl_ppo2_seeds_retrain', 'cse_generations')
WRITTEN = ('journal.jsonl', 'state.json', 'best.json', 'best_config.py', 'report.md')
ENV = dict(asl_ppo2_seeds_retrain=dict(OBJ_SEED_NOISE='0.01'),
           cse_generations=dict(OBJ_KEY='model.roi_head.bbox_head.loss_cls',
                                OBJ_REWARD_KEY='coco/bbox_mAP'))


def _copy(tmp_path: Path, name: str) -> Path:
    """The recorded search in a fresh working directory laid out as the recording's (the
    objective job at ``../search_job``); returns that directory."""
    cwd = tmp_path / 'recorded'
    shutil.copytree(RECORDED / name, cwd / name)
    (tmp_path / 'search_job').symlink_to(REPO / 'tests' / 'assets' / 'search_job')
    return cwd


def _run(cwd: Path, name: str, *args: str, tool: str = SEARCH_TOOL):
    env = dict(os.environ, OBJ_SLEEP='0', OMP_NUM_THREADS='1', **ENV[name])
    env['PYTHONPATH'] = str(REPO)
    return subprocess.run([sys.executable, tool, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _events(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _without_clock(event: dict) -> dict:
    """An event without what differs between two runs of the same trial (times, the log
    path of a trial run again in another directory)."""
    event = {k: v for k, v in event.items() if k != 'time'}
    if 'result' in event:
        event['result'] = {k: v for k, v in event['result'].items()
                           if k not in ('duration_s', 'log_path', 'log_tail')}
    return event


@pytest.mark.parametrize('name', SEARCHES)
def test_a_recorded_finished_search_resumes_and_redraws_byte_for_byte(tmp_path, name):
    cwd = _copy(tmp_path, name)
    work_dir = cwd / name / 'work_dir'
    resumed = _run(cwd, name, f'{name}/search.py', '--work-dir', f'{name}/work_dir',
                   '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for file_name in WRITTEN:
        assert (work_dir / file_name).read_bytes() == \
            (RECORDED / name / 'work_dir' / file_name).read_bytes(), file_name
    (work_dir / 'report.md').unlink()
    redrawn = _run(cwd, name, f'{name}/work_dir', tool=str(REPO / 'tools' / 'search_report.py'))
    assert redrawn.returncode == 0, redrawn.stderr[-3000:]
    assert (work_dir / 'report.md').read_bytes() == \
        (RECORDED / name / 'work_dir' / 'report.md').read_bytes()


@pytest.mark.parametrize('name', SEARCHES)
def test_a_recorded_search_cut_mid_round_resumes_to_the_recorded_result(tmp_path, name):
    """The journal cut after the second trial of the search, ``state.json`` lost: the
    resumed search rebuilds its state from the recorded snapshots, runs the rest and ends
    where the recorded search ended."""
    cwd = _copy(tmp_path, name)
    work_dir = cwd / name / 'work_dir'
    recorded = _events(work_dir / 'journal.jsonl')
    trial_lines = [i for i, e in enumerate(recorded) if e['event'] == 'trial']
    cut = trial_lines[1] + 1
    lines = (work_dir / 'journal.jsonl').read_text().splitlines(keepends=True)
    (work_dir / 'journal.jsonl').write_text(''.join(lines[:cut]))
    for file_name in WRITTEN[1:]:
        (work_dir / file_name).unlink()
    resumed = _run(cwd, name, f'{name}/search.py', '--work-dir', f'{name}/work_dir',
                   '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'rebuilt from the journal' in resumed.stderr
    assert [_without_clock(e) for e in _events(work_dir / 'journal.jsonl')] == \
        [_without_clock(e) for e in recorded]
    for file_name in WRITTEN[1:]:
        assert (work_dir / file_name).read_bytes() == \
            (RECORDED / name / 'work_dir' / file_name).read_bytes(), file_name
