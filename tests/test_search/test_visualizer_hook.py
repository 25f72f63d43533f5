"""A search logged through mmengine's visualizer backends: the TensorBoard scalars, read
back with TensorBoard's own reader, equal the journal's rewards; a backend that fails
(one that cannot write its directory) costs one warning and changes nothing of the search."""
import glob
import json
import subprocess

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mmautoloss.testing import (
    REPO,
    env_with_counter,
    search_cmd,
    trial_events,
    write_proxy,
    write_search_config,
)


def _search(tmp_path, backends: str, name: str):
    proxy = write_proxy(tmp_path)
    config = write_search_config(
        tmp_path, proxy, name=f'{name}.py', rounds=2, samples=3,
        extra=f'visualizer = dict(vis_backends={backends})\noptuna_storage = None')
    done = subprocess.run(search_cmd(config, tmp_path / name), cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env_with_counter(tmp_path / 'n.txt'))
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path / name, done.stderr


def test_tensorboard_scalars_equal_the_journal_and_the_local_backend_keeps_them(tmp_path):
    work_dir, _ = _search(tmp_path, "[dict(type='LocalVisBackend'), "
                          "dict(type='TensorboardVisBackend')]", 'work')
    events = trial_events(work_dir)
    files = glob.glob(str(work_dir / 'vis_data' / 'events.out.tfevents.*'))
    assert files
    scalars, images = {}, set()
    for path in files:
        reader = EventAccumulator(path, size_guidance={'scalars': 0, 'images': 0})
        reader.Reload()
        for tag in reader.Tags()['scalars']:
            scalars.setdefault(tag, []).extend((s.step, s.value) for s in reader.Scalars(tag))
        images |= set(reader.Tags()['images'])
    rewards = [e['result']['reward'] for e in events]
    assert [step for step, _ in scalars['trial/reward']] == list(range(1, len(rewards) + 1))
    # TensorBoard stores float32
    assert all(abs(v - r) < 1e-6 for (_, v), r in zip(scalars['trial/reward'], rewards))
    ends = [json.loads(line) for line in (work_dir / 'journal.jsonl').read_text().splitlines()
            if '"round_end"' in line]
    assert [(s, round(v, 6)) for s, v in scalars['round/max_reward']] == \
        [(e['round'], round(e['max_reward'], 6)) for e in ends]
    assert 'search/rewards.png' in images
    # the local backend: one JSON line per logged step
    lines = [json.loads(line) for line in
             (work_dir / 'vis_data' / 'scalars.json').read_text().splitlines()]
    logged = [line['trial/reward'] for line in lines if 'trial/reward' in line]
    assert all(abs(a - b) < 1e-9 for a, b in zip(logged, rewards)) and \
        len(logged) == len(rewards)


def test_a_failing_backend_warns_once_and_changes_nothing(tmp_path):
    reference, _ = _search(tmp_path, "[dict(type='LocalVisBackend')]", 'reference')
    work_dir, stderr = _search(tmp_path, "[dict(type='LocalVisBackend', "
                               "save_dir='/proc/mmautoloss-cannot-write')]", 'unwritable')
    warnings = [line for line in stderr.splitlines() if 'VisualizerHook failed' in line]
    assert len(warnings) == 1, stderr[-3000:]
    assert json.loads((work_dir / 'best.json').read_text()) == \
        json.loads((reference / 'best.json').read_text())
