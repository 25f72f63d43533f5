# ToyDet: synthetic 128x128 COCO-format detection set written by
# `python tools/generate_toydet.py --out data/toydet` (3 classes: box, disk, triangle),
# read by mmdet's own CocoDataset; evaluated by mmdet's CocoMetric (coco/bbox_mAP).
# Splits: training validates on `search` (held out from train: a proxy's reward, on which a
# search picks its losses); `test` is the untouched `val` split that the re-training stage
# reports on (mmautoloss.search.retraining).
dataset_type = 'CocoDataset'
data_root = 'data/toydet/'
metainfo = dict(
    classes=('box', 'disk', 'triangle'),
    palette=[(220, 60, 50), (60, 190, 70), (50, 90, 220)])
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    test_dataloader,
    dataset=dict(test_dataloader['dataset'], ann_file='annotations/instances_search.json',
                 data_prefix=dict(img='search/')))
test_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val.json',
    metric='bbox',
    format_only=False,
    backend_args=backend_args)
val_evaluator = dict(test_evaluator, ann_file=data_root + 'annotations/instances_search.json')
