# Short proxy schedule for the ASL search (ASL section 4.3: a shorter schedule than the
# re-training one): 300 iterations, poly decay, one validation at the end.
# AdamW instead of the paper's SGD: the proxy net starts from scratch (nothing can be
# downloaded), and in 300 iterations SGD (lr 0.01) left it predicting only background with
# the identity mIoU surrogate (val mIoU 17.3 on ToySeg) where AdamW reached 68.3.
optimizer = dict(type='AdamW', lr=0.003, weight_decay=0.0001)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=300, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=300)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
