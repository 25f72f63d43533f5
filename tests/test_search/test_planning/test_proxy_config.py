"""The proxy derived from a user's config: schedulers scaled by hand-computed factors, the
held-out split, evaluators that read the held-out ground truth from the samples."""
import pytest
from mmengine.config import Config

from mmautoloss.search.planning.proxy_config import (
    held_out_evaluator,
    proxy_overrides,
    samples_carry_annotations,
    scaled_schedulers,
)


def _epoch_cfg():
    return Config(dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
            dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
                 gamma=0.1)],
        train_dataloader=dict(batch_size=2, dataset=dict(type='CocoDataset', ann_file='a')),
        val_dataloader=dict(batch_size=1, dataset=dict(
            type='CocoDataset', ann_file='b',
            pipeline=[dict(type='LoadImageFromFile'), dict(type='PackDetInputs')])),
        val_evaluator=dict(type='CocoMetric', ann_file='b', metric='bbox')))


def test_epoch_schedulers_become_iterations_scaled_to_the_proxy():
    # 12 epochs x 100 iterations = 1200; a 300-iteration proxy keeps each bound's share:
    # warm-up 500 iterations -> 125, milestones epochs 8, 11 -> 200, 275, end 12 -> 300
    linear, step = scaled_schedulers(_epoch_cfg(), 300, 100)
    assert (linear['begin'], linear['end'], linear['by_epoch']) == (0, 125, False)
    assert (step['end'], step['milestones'], step['by_epoch']) == (300, [200, 275], False)


def test_iteration_schedulers_scale_by_the_iteration_ratio():
    cfg = Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=40000),
                      param_scheduler=dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0,
                                           end=40000, by_epoch=False)))
    (poly, ) = scaled_schedulers(cfg, 300, 1)
    assert (poly['begin'], poly['end'], poly['power']) == (0, 300, 0.9)


def test_the_proxy_trains_and_validates_on_two_parts_of_the_training_split():
    overrides = proxy_overrides(_epoch_cfg(), 300, 100, 0.5, seed=3)
    train = overrides['train_dataloader']['dataset']
    held = overrides['val_dataloader']['dataset']
    assert (train['type'], train['part'], train['train_fraction']) == \
        ('HeldOutSplit', 'train', 0.5)
    assert (held['type'], held['part'], held['dataset']['ann_file']) == \
        ('HeldOutSplit', 'held_out', 'a')  # the training annotations, not the val ones
    assert 'instances' in held['dataset']['pipeline'][-1]['meta_keys']
    assert overrides['val_evaluator']['ann_file'] is None
    assert overrides['train_cfg'] == dict(_delete_=True, type='IterBasedTrainLoop',
                                          max_iters=300, val_interval=300)
    assert overrides['randomness'] == dict(seed=3)


def test_wrapped_datasets_are_split_inside_and_concatenations_refused():
    cfg = _epoch_cfg()
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=3,
                                        dataset=dict(type='CocoDataset', ann_file='a'))
    train = proxy_overrides(cfg, 300, 100, 1.0, seed=0)['train_dataloader']['dataset']
    assert train['type'] == 'RepeatDataset' and train['dataset']['type'] == 'HeldOutSplit'
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[])
    with pytest.raises(ValueError, match='ConcatDataset'):
        proxy_overrides(cfg, 300, 100, 1.0, seed=0)


def test_annotation_readers_keep_their_other_settings():
    pipeline = samples_carry_annotations([dict(type='PackDetInputs', meta_keys=('img_id', ))])
    assert pipeline[0]['meta_keys'] == ('img_id', 'instances')
    cfg = Config(dict(val_evaluator=[dict(type='IoUMetric'),
                                     dict(type='CocoMetric', ann_file='x', metric='segm')]))
    assert held_out_evaluator(cfg) == [dict(type='IoUMetric'),
                                       dict(type='CocoMetric', ann_file=None, metric='segm')]
