# A toy mmengine job (tests/assets/toy_job/toy_job_modules.py): 8 SGD iterations of a linear
# regressor, validated once at the end; a checkpoint every 4 iterations.
custom_imports = dict(imports=['toy_job_modules'], allow_failed_imports=False)
model = dict(type='ToyRegressor', nan_from_iter=-1)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(type='ToyRegressionDataset', num_samples=16, seed=0),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(type='ToyRegressionDataset', num_samples=8, seed=1),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
val_evaluator = dict(type='ToyMSEMetric')
train_cfg = dict(by_epoch=False, max_iters=8, val_interval=8)
val_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4),
    logger=dict(type='LoggerHook', interval=1))
randomness = dict(seed=0)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
