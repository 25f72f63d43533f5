"""Search config validation: every problem is caught before a trial starts, naming the key."""
import warnings

import pytest
from mmengine.config import Config

from mmautoloss.search.builders import build_executor, build_searcher
from mmautoloss.search.errors import SearchConfigError
from mmautoloss.search.searchers import PPO2Searcher
from mmautoloss.search.validation import (
    check_reward_key,
    load_search_config,
    validate_search_config,
)
from mmautoloss.testing import REPO, write_proxy, write_search_config


def settings_for(tmp_path, extra='', **kwargs):
    proxy = write_proxy(tmp_path)
    path = write_search_config(tmp_path, proxy, extra=extra, **kwargs)
    return validate_search_config(load_search_config(path))


def test_valid_config_builds_everything(tmp_path):
    settings = settings_for(tmp_path, rounds=3, samples=4, seed=2)
    assert settings.space.dim == 12 and settings.rounds == 3 and settings.samples_per_round == 4
    searcher = build_searcher(settings)
    assert isinstance(searcher, PPO2Searcher) and searcher.seed == 2
    assert searcher.mean == settings.space.initial_mean()
    executor = build_executor(settings)
    assert executor.job.timeout_s == 60 and executor.job.failure_reward == 0.0


def error_for(tmp_path, text_transform, proxy_text=None):
    proxy = write_proxy(tmp_path, proxy_text) if proxy_text else write_proxy(tmp_path)
    path = write_search_config(tmp_path, proxy)
    with open(path) as f:
        text = text_transform(f.read())
    with open(path, 'w') as f:
        f.write(text)
    with pytest.raises(SearchConfigError) as info:
        validate_search_config(load_search_config(path))
    return str(info.value)


@pytest.mark.parametrize('transform,expected', [
    (lambda t: t.replace("proxy_config = '", "proxy_config = '/nonexistent"),
     "proxy_config='/nonexistent"),
    (lambda t: t + "\nbudgett = dict(rounds=1)\n", 'budgett'),
    (lambda t: t + "\nvisualizer = dict(vis_backends=[dict(type='TensorBoard')])\n",
     "type='TensorBoard' is not an mmengine vis backend"),
    (lambda t: t + "\nvisualizer = dict(backends=[])\n", 'visualizer must be dict(vis_backends'),
    (lambda t: t + "\noptuna_storage = 'optuna.db'\n", "optuna_storage must be an Optuna storage "
     "URL ('sqlite:///path.db', 'postgresql://...'), 'auto' or None, got 'optuna.db'"),
    (lambda t: t + "\ncheck_slots = 'yes'\n", "check_slots must be True or False, got 'yes'"),
    (lambda t: t + "\nforecast = dict(trial_s=1, search_s=-2, retrain_s=0)\n",
     'forecast must be dict(trial_s, search_s, retrain_s) in seconds >= 0'),
    (lambda t: t + "\nforecast = dict(trial_s=1)\n", 'forecast must be dict('),
    (lambda t: t.replace("reward_key = 'mIoU'\n", ''), 'reward_key'),
    (lambda t: t.replace("metric='mIoU'", "metric='F1'"), "'F1'"),
    (lambda t: t.replace("type='ASLSpace'", "type='NoSpace'"), "search_space.type='NoSpace'"),
    (lambda t: t.replace("type='ASLSpace', metric='mIoU'",
                         "type='ASLSpace', metric='mIoU', key='model.head.loss'"),
     "'model.head.loss'"),
    (lambda t: t.replace("reward_key = 'mIoU'", "reward_key = 'BF1'"), "reward_key='BF1'"),
    (lambda t: t.replace("rounds=2", "rounds=0"), 'budget.rounds'),
    (lambda t: t.replace("samples_per_round=3", "samples=3"), 'budget'),
    (lambda t: t.replace("num_steps=10", "num_steps=10, temperature=2"), 'temperature'),
    (lambda t: t.replace("num_steps=10", "num_steps=10, sigma=-1"), 'sigma'),
    (lambda t: t.replace("num_steps=10", "num_steps=10, seed=3"), 'searcher.seed'),
    (lambda t: t.replace("type='PPO2Searcher'", "type='Evolution'"), "'Evolution'"),
    (lambda t: t.replace("max_concurrent=1", "max_concurrent=1, timeout_s=3"),
     'executor.timeout_s'),
    (lambda t: t.replace("type='LocalExecutor'", "type='SlurmExecutor'"), "'SlurmExecutor'"),
    (lambda t: t.replace("seed = 0", "seed = -4"), 'seed'),
    (lambda t: t.replace("failure_reward = 0.0", "failure_reward = float('nan')"),
     'failure_reward'),
    (lambda t: t.replace("trial_timeout = 60", "trial_timeout = 0"), 'trial_timeout'),
    (lambda t: t.replace("searcher = dict(type='PPO2Searcher', num_steps=10)",
                         "searcher = 'PPO2Searcher'"), 'searcher must be a dict'),
    (lambda t: t.replace("type='ASLSpace', metric='mIoU'", "type='ASLSpace', metric='mIoU', "
                         "loss_options=dict(boundry_tolerance=1)"), 'boundry_tolerance'),
])
def test_malformed_configs_name_the_key(tmp_path, transform, expected):
    assert expected in error_for(tmp_path, transform)


def test_unreadable_files(tmp_path):
    with pytest.raises(SearchConfigError, match='missing.py'):
        load_search_config(str(tmp_path / 'missing.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text('budget = dict(rounds=\n')
    with pytest.raises(SearchConfigError, match='bad.py'):
        load_search_config(str(bad))
    assert 'val_evaluator' in error_for(tmp_path, lambda t: t, proxy_text="""
model = dict(decode_head=dict(loss_decode=dict(type='AutoSegLoss')))
""")


def test_cfg_options_override(tmp_path):
    proxy = write_proxy(tmp_path)
    path = write_search_config(tmp_path, proxy, extra='_helper = 3')
    cfg = load_search_config(path, {'budget.rounds': 7})
    assert validate_search_config(cfg).rounds == 7


def test_unknown_evaluator_type_is_accepted_with_a_warning(tmp_path):
    proxy_text = """
model = dict(decode_head=dict(loss_decode=dict(type='AutoSegLoss')))
val_evaluator = [dict(type='IoUMetric'), dict(type='MyMetric')]
"""
    message = 'MyMetric'
    with pytest.warns(UserWarning, match=message):
        check_reward_key('my/score', Config.fromstring(proxy_text, '.py'))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        check_reward_key('mIoU', Config.fromstring(proxy_text, '.py'))


@pytest.mark.parametrize('name,dim,reward_key', [
    ('asl_miou_toyseg.py', 12, 'mIoU'), ('asl_fwiou_toyseg.py', 12, 'FWIoU'),
    ('asl_biou_toyseg.py', 12, 'BIoU'), ('asl_bf1_toyseg.py', 8, 'BF1'),
    ('asl_macc_toyseg.py', 6, 'mAcc'), ('asl_gacc_toyseg.py', 6, 'aAcc'),
    ('asl_miou_toyseg_ray.py', 12, 'mIoU'),
    ('paploss_retinanet_toydet.py', 41, 'coco/bbox_mAP'),
    ('paploss_retinanet_toydet_retrain.py', 41, 'coco/bbox_mAP'),
    ('paploss_faster-rcnn_toydet.py', 82, 'coco/bbox_mAP'),
    ('paploss_deformable-detr_toydet.py', 41, 'coco/bbox_mAP'),
    # formula spaces: one formula per searched branch
    ('alz_seg-miou_toyseg.py', 1, 'mIoU'), ('alz_seg-bf1_toyseg.py', 1, 'BF1'),
    ('alz_seg-biou_toyseg.py', 1, 'BIoU'),
    ('alz_seg-miou_toyseg_long.py', 1, 'mIoU'),
    ('alz_det_faster-rcnn_toydet.py', 4, 'coco/bbox_mAP'),
    ('alz_ins_mask-rcnn_toydet.py', 5, 'coco/segm_mAP'),
    ('alz_pose_heatmap_toypose.py', 1, 'coco/AP'),
    # CSE-Autoloss: one searched branch, the other fixed in the proxy
    ('cse_faster-rcnn_cls_toydet.py', 1, 'coco/bbox_mAP'),
    ('cse_faster-rcnn_cls_toydet_table2-validity.py', 1, 'coco/bbox_mAP'),
    ('cse_faster-rcnn_cls_toydet_table2-convergence.py', 1, 'coco/bbox_mAP'),
    ('cse_faster-rcnn_reg_toydet.py', 1, 'coco/bbox_mAP'),
    ('cse_fcos_cls_toydet.py', 1, 'coco/bbox_mAP'),
    ('cse_fcos_reg_toydet.py', 1, 'coco/bbox_mAP'),
])
def test_shipped_search_configs_validate(monkeypatch, name, dim, reward_key):
    monkeypatch.chdir(REPO)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the proxies' evaluators and losses are all known
        settings = validate_search_config(load_search_config(f'configs/search/{name}'))
    assert settings.space.dim == dim and settings.reward_key == reward_key


@pytest.mark.parametrize('name', ['asl_miou_toyseg.py', 'paploss_retinanet_toydet_retrain.py',
                                  'alz_seg-miou_toyseg_long.py'])
def test_shipped_retrain_baselines_build_their_models(monkeypatch, name):
    """A baseline is trained only after the search; a broken one must fail here."""
    import copy

    from mmengine.registry import MODELS, DefaultScope

    from mmautoloss.search.structures import get_config_key
    monkeypatch.chdir(REPO)
    settings = validate_search_config(load_search_config(f'configs/search/{name}'))
    assert settings.retrain['baselines']
    scope = settings.proxy_cfg.get('default_scope')
    for overrides in settings.retrain['baselines'].values():
        cfg = copy.deepcopy(settings.proxy_cfg)
        cfg.merge_from_dict(copy.deepcopy(overrides))
        with DefaultScope.overwrite_default_scope(scope):
            model = MODELS.build(cfg.model)
        built = {type(m).__name__ for m in model.modules()}
        for key, loss in overrides.items():  # the baseline's loss replaced the proxy's
            replaced = get_config_key(settings.proxy_cfg, key)['type']
            assert loss['type'] in built and (replaced == loss['type'] or replaced not in built)
