"""The configs/ tree follows the OpenMMLab conventions: one metafile.yml per method folder
listing exactly its released configs (mim / model-index), a BibTeX entry in each method
README, mmdet-style detection config names, proxies apart in configs/proxies/."""
import glob
import os
import re

import pytest
import yaml

from mmautoloss.testing import REPO

METHODS = ('asl', 'paploss', 'alz', 'cse')


@pytest.mark.parametrize('method', METHODS)
def test_metafile_lists_exactly_the_released_configs(method):
    folder = os.path.join(REPO, 'configs', method)
    with open(os.path.join(folder, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    collection, = meta['Collections']
    assert collection['Paper']['URL'].startswith('https://arxiv.org/abs/')
    assert collection['README'] == f'configs/{method}/README.md'
    listed = sorted(os.path.join(REPO, m['Config']) for m in meta['Models'])
    assert listed == sorted(glob.glob(os.path.join(folder, '*.py')))
    for model in meta['Models']:
        assert model['In Collection'] == collection['Name']
        assert model['Name'] == os.path.basename(model['Config'])[:-3]


@pytest.mark.parametrize('method', METHODS)
def test_method_readme_has_a_bibtex_entry(method):
    with open(os.path.join(REPO, 'configs', method, 'README.md')) as f:
        readme = f.read()
    assert re.search(r'```bibtex\n@inproceedings\{\w+,\n  title', readme)


def test_detection_configs_name_the_method_after_the_model():
    """mmdet: {model}_{backbone}_{neck}_{method}_{schedule}_{dataset}.py."""
    for method, tag in (('paploss', 'paploss'), ('cse', 'cse-')):
        for path in glob.glob(os.path.join(REPO, 'configs', method, '*.py')):
            name = os.path.basename(path)
            assert re.fullmatch(rf'[\w-]+_r\d+[\w-]*_{tag}[\w-]*_\d+xb\d+-[\w]+_coco\.py',
                                name), name


def test_proxies_stand_apart_and_every_search_uses_one():
    for method in METHODS:
        assert not glob.glob(os.path.join(REPO, 'configs', method, 'proxy*.py')), method
    proxies = {os.path.basename(p) for p in
               glob.glob(os.path.join(REPO, 'configs', 'proxies', '*.py'))}
    with open(os.path.join(REPO, 'configs', 'proxies', 'README.md')) as f:
        readme = f.read()
    assert all(f'`{name}`' in readme for name in proxies)
    from mmautoloss.search.validation import load_search_config
    for path in glob.glob(os.path.join(REPO, 'configs', 'search', '*.py')):
        proxy = load_search_config(path).proxy_config
        assert proxy.startswith('configs/proxies/') and os.path.basename(proxy) in proxies


def _split(loader: dict, evaluator) -> tuple:
    """The split a dataloader reads (its image folder) and the one its evaluator scores
    (its COCO annotation file; None for an evaluator that reads the samples)."""
    dataset = loader['dataset']
    prefix = dataset['data_prefix']
    folder = (prefix.get('img') or prefix.get('img_path')).rstrip('/').rsplit('/', 1)[-1]
    evaluators = evaluator if isinstance(evaluator, list) else [evaluator]
    ann_files = {e['ann_file'] for e in evaluators if e.get('ann_file')}
    scored = {re.search(r'_([a-z]+)\.json$', a).group(1) for a in ann_files} or {None}
    return folder, dataset.get('ann_file'), scored


@pytest.mark.parametrize('proxy', sorted(glob.glob(os.path.join(REPO, 'configs', 'proxies',
                                                                 '*.py'))))
def test_every_proxy_validates_on_the_search_split_and_tests_on_val(proxy):
    """A search rewards on the split held out from training; the re-training reports on
    the untouched val split (the test split); the evaluators score the split loaded."""
    from mmengine.config import Config
    cfg = Config.fromfile(proxy)
    for loader, evaluator, split in ((cfg.val_dataloader, cfg.val_evaluator, 'search'),
                                     (cfg.test_dataloader, cfg.test_evaluator, 'val')):
        folder, ann_file, scored = _split(loader, evaluator)
        assert folder == split, (proxy, folder)
        assert ann_file is None or ann_file.endswith(f'_{split}.json'), (proxy, ann_file)
        assert scored <= {split, None}, (proxy, scored)
    assert cfg.val_dataloader.dataset.data_root == cfg.test_dataloader.dataset.data_root == \
        cfg.train_dataloader.dataset.data_root
