"""The data check before the first round: every split a search trains, rewards and
reports on must exist; a set from before the search split is refused in one line."""
import os
import shutil
import subprocess
import sys

from mmengine.config import Config

from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.search.data_check import missing_data
from mmautoloss.testing import REPO, SEARCH_TOOL, search_config_text

ASL_PROXY = str(REPO / 'configs' / 'proxies' / 'asl_toyseg.py')


def _proxy(tmp_path, root) -> str:
    path = tmp_path / 'proxy.py'
    path.write_text(f"_base_ = {ASL_PROXY!r}\n" + ''.join(
        f"{key} = dict(dataset=dict(data_root={str(root)!r}))\n"
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')))
    return str(path)


def test_every_split_a_proxy_names_is_found_and_a_missing_one_is_named(tmp_path):
    root = tmp_path / 'toyseg'
    generate_toyseg(str(root), num_train=2, num_val=1, size=16)
    cfg = Config.fromfile(_proxy(tmp_path, root))
    assert missing_data(cfg) == []
    shutil.rmtree(root / 'ann_dir' / 'search')  # a set written before the search split
    assert missing_data(cfg) == [f'val_dataloader: {root}/ann_dir/search']
    wrapped = Config(dict(train_dataloader=dict(dataset=dict(type='HeldOutSplit', dataset=dict(
        data_root=str(root), ann_file='missing.json'))), val_evaluator=[
        dict(type='CocoMetric', ann_file=str(root / 'nope.json')), dict(type='IoUMetric')]))
    assert missing_data(wrapped) == [f'train_dataloader: {root}/missing.json',
                                     f'val_evaluator: {root}/nope.json']
    assert missing_data(Config(dict(val_dataloader=dict(dataset=dict(ann_file='x'))))) == []
    remote = dict(dataset=dict(data_root='s3://bucket/coco', ann_file='a.json'))
    assert missing_data(Config(dict(val_dataloader=remote))) == []


def test_a_search_on_a_set_without_its_search_split_exits_2_in_one_line(tmp_path):
    root = tmp_path / 'toyseg'
    generate_toyseg(str(root), num_train=2, num_val=1, size=16)
    shutil.rmtree(root / 'img_dir' / 'search')
    config = tmp_path / 'search.py'
    config.write_text(search_config_text(_proxy(tmp_path, root), extra='check_slots = True'))
    done = subprocess.run([sys.executable, SEARCH_TOOL, str(config), '--work-dir',
                           str(tmp_path / 'work')], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('search config error: ') and \
        f'val_dataloader: {root}/img_dir/search' in lines[0] and 'its generator' in lines[0]
    assert not (tmp_path / 'work' / 'journal.jsonl').exists()
