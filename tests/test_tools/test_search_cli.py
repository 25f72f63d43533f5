"""tools/search.py: exit code 2 on a bad config before any trial; a tiny search end to end."""
import importlib.util
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'test_search'))
from search_test_utils import REPO, SEARCH_TOOL, write_proxy, write_search_config  # noqa: E402


@pytest.fixture(scope='module')
def search_main():
    spec = importlib.util.spec_from_file_location('search_tool', SEARCH_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_malformed_config_exits_2_naming_the_key(tmp_path):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, extra="sampler = dict(type='x')")
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir)],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "'sampler'" in proc.stderr
    assert not work_dir.exists()


def test_tiny_search_and_exit_codes(tmp_path, search_main, capsys):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=5, samples=2)
    work_dir = tmp_path / 'work'
    assert search_main([config, '--work-dir', str(work_dir),
                        '--cfg-options', 'budget.rounds=1']) == 0
    assert 'best mIoU =' in capsys.readouterr().out
    assert sorted(os.listdir(work_dir / 'trials')) == ['r000-c00', 'r000-c01']
    for name in ('best.json', 'best_config.py', 'journal.jsonl', 'state.json', 'rewards.png',
                 'best_curves.png'):
        assert (work_dir / name).is_file()
    # a second run into the same work dir needs --resume; a changed budget cannot resume
    assert search_main([config, '--work-dir', str(work_dir)]) == 2
    assert '--resume' in capsys.readouterr().err
    assert search_main([config, '--work-dir', str(work_dir), '--resume']) == 2
    assert "['rounds']" in capsys.readouterr().err
    missing = write_search_config(tmp_path, str(tmp_path / 'nope.py'), name='missing.py')
    assert search_main([missing, '--work-dir', str(tmp_path / 'w2')]) == 2
    assert 'proxy_config=' in capsys.readouterr().err
    assert search_main([config, '--work-dir', str(tmp_path / 'w3'), '--gpus', '-1']) == 2
    assert 'gpus' in capsys.readouterr().err
    assert not (tmp_path / 'w2').exists() and not (tmp_path / 'w3').exists()
