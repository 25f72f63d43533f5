"""CSE-Autoloss's model-optimisation simulation (section 3.2.3): the verification set holds
one training image per category, read back with pycocotools; a simulation trial trains and
evaluates on it; proxies it cannot shorten are refused."""
import json
import os

import pytest
from mmengine.config import Config
from pycocotools.coco import COCO

from mmautoloss.datasets.toy_detection import generate_toydet
from mmautoloss.search.searchers.optimisation_simulation import OptimisationSimulation
from mmautoloss.search.trial import TrialSpec, write_trial_config
from mmautoloss.testing import REPO

PROXY = os.path.join(REPO, 'configs/proxies/cse_toydet_faster-rcnn_ce-giou.py')


@pytest.fixture(scope='module')
def toydet(tmp_path_factory):
    root = tmp_path_factory.mktemp('toydet')
    generate_toydet(str(root) + '/', seed=0, num_train=12, num_val=2)
    return str(root) + '/'


def proxy_cfg(root):
    cfg = Config.fromfile(PROXY)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': root,
                         'val_dataloader.dataset.data_root': root})
    return cfg


def test_verification_set_has_one_training_image_per_category(toydet, tmp_path):
    simulation = OptimisationSimulation(proxy_cfg(toydet), seed=0)
    path = simulation.prepare(str(tmp_path))
    verify = COCO(path)
    train = COCO(os.path.join(toydet, 'annotations/instances_train.json'))
    images = verify.getImgIds()
    assert len(images) <= len(train.getCatIds()) and set(images) <= set(train.getImgIds())
    for cat in train.getCatIds():  # every category is in D_verify
        assert verify.getImgIds(catIds=[cat]), cat
    for image in images:  # with all of the image's annotations, unchanged
        assert sorted(verify.getAnnIds(imgIds=[image])) == sorted(train.getAnnIds(imgIds=[image]))
    assert simulation.image_ids == sorted(images)
    # the same seed draws the same set; another seed draws from the same training set
    again = OptimisationSimulation(proxy_cfg(toydet), seed=0)
    again.prepare(str(tmp_path / 'again'))
    assert again.image_ids == simulation.image_ids


def test_images_per_category_draws_more_images(toydet, tmp_path):
    simulation = OptimisationSimulation(proxy_cfg(toydet), images_per_category=2)
    verify = COCO(simulation.prepare(str(tmp_path)))
    for cat in verify.getCatIds():
        assert len(verify.getImgIds(catIds=[cat])) >= 2


def test_a_simulation_trial_trains_and_evaluates_on_the_verification_set(toydet, tmp_path):
    simulation = OptimisationSimulation(proxy_cfg(toydet), iters=7, warmup_fraction=0.5)
    with pytest.raises(RuntimeError, match='prepare'):
        simulation.overrides()
    path = simulation.prepare(str(tmp_path))
    spec = TrialSpec('r000-c00', {}, simulation.overrides(), str(tmp_path / 'trial'))
    cfg = Config.fromfile(write_trial_config(spec, proxy_cfg(toydet), 20))
    assert cfg.train_dataloader.dataset.ann_file == path
    assert cfg.val_dataloader.dataset.ann_file == path
    assert cfg.val_evaluator.ann_file == path
    assert cfg.val_dataloader.dataset.data_prefix == cfg.train_dataloader.dataset.data_prefix
    assert cfg.val_dataloader.dataset.test_mode  # evaluated with the proxy's test pipeline
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 7
    assert cfg.param_scheduler == [dict(type='LinearLR', start_factor=0.001,
                                        by_epoch=False, begin=0, end=4)]
    assert cfg.default_hooks.checkpoint.interval == -1
    assert not cfg.default_hooks.checkpoint.save_last


def test_a_missing_training_annotation_file_is_an_os_error(tmp_path):
    simulation = OptimisationSimulation(proxy_cfg(str(tmp_path / 'nowhere') + '/'))
    with pytest.raises(OSError):
        simulation.prepare(str(tmp_path))


@pytest.mark.parametrize('change,match', [
    ({'val_evaluator': dict(type='VOCMetric')}, 'CocoMetric'),
    ({'train_cfg': dict(type='EpochBasedTrainLoop', max_epochs=1)}, 'iteration-based'),
    ({'train_dataloader.dataset': dict(type='RepeatDataset', times=2, dataset=dict())},
     'ann_file'),
])
def test_proxies_the_simulation_cannot_shorten_are_refused(change, match):
    cfg = Config.fromfile(PROXY)
    for key, value in change.items():
        cfg.merge_from_dict({key: dict(value, _delete_=True)})
    with pytest.raises(ValueError, match=match):
        OptimisationSimulation(cfg)


@pytest.mark.parametrize('kwargs,name', [
    (dict(iters=0), 'iters'), (dict(images_per_category=0), 'images_per_category'),
    (dict(warmup_fraction=1.5), 'warmup_fraction'), (dict(load_from='nope.pth'), 'load_from'),
])
def test_bad_settings_name_the_setting(kwargs, name):
    with pytest.raises(ValueError, match=f'simulation.{name}'):
        OptimisationSimulation(Config.fromfile(PROXY), **kwargs)


def test_the_verification_file_is_json_that_names_its_source_categories(toydet, tmp_path):
    simulation = OptimisationSimulation(proxy_cfg(toydet))
    with open(simulation.prepare(str(tmp_path))) as f:
        subset = json.load(f)
    with open(os.path.join(toydet, 'annotations/instances_train.json')) as f:
        assert subset['categories'] == json.load(f)['categories']
