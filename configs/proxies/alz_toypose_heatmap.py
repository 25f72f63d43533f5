# AutoLoss-Zero pose-estimation proxy on ToyPose (ALZ section 4.4, on CPU): an mmpose
# top-down heatmap model (SimpleBaseline: ResNet-18 from scratch, three deconvolutions,
# HeatmapHead) on 64x64 person crops with 16x16 heatmaps, trained with mmpose's
# KeypointMSELoss (target weights per keypoint) for 300 iterations, then COCO keypoint AP
# (mmpose's CocoMetric, `coco/AP`) on the validation split with ground-truth boxes. The
# formula search overrides `model.head.loss`. No flip augmentation: the toy keypoints are
# told apart by colour, which a flip does not swap.
# Data: `python tools/generate_toypose.py --out data/toypose`.
default_scope = 'mmpose'
custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18, init_cfg=None),
    head=dict(
        type='HeatmapHead',
        in_channels=512,
        out_channels=17,
        deconv_out_channels=(64, 64, 64),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))
data_root = 'data/toypose/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='CocoDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/person_keypoints_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
# the proxy validates on the search split (held out from train); the re-training stage
# reports on the untouched val split (test_dataloader / test_evaluator)
test_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type='CocoDataset',
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/person_keypoints_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=val_pipeline))
val_dataloader = dict(
    test_dataloader,
    dataset=dict(test_dataloader['dataset'], ann_file='annotations/person_keypoints_search.json',
                 data_prefix=dict(img='search/')))
test_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json')
val_evaluator = dict(test_evaluator,
                     ann_file=data_root + 'annotations/person_keypoints_search.json')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=300, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=300)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
