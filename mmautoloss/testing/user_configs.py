"""Training configs written the way a user writes their own, on stock OpenMMLab models this
repository does not ship (mmseg's FCN, mmdet's FCOS from its package configs) and on the
generated ToySeg / ToyDet data; for the planning tests and benchmark."""
from pathlib import Path

#: a decode head that computes its own cross-entropy and never calls ``loss_decode``
OWN_LOSS_HEAD = '''
import torch.nn.functional as F
from mmseg.models.decode_heads import FCNHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS


@MODELS.register_module()
class FCNHeadOwnLoss(FCNHead):
    def loss_by_feat(self, seg_logits, batch_data_samples):
        label = self._stack_batch_gt(batch_data_samples)
        logits = resize(seg_logits, size=label.shape[2:], mode='bilinear',
                        align_corners=self.align_corners)
        return dict(loss_ce=F.cross_entropy(logits, label.squeeze(1), ignore_index=255))
'''


def write_fcn_toyseg(directory: Path, data_root: str, iters: int = 20,
                     head: str = 'FCNHead', imports: tuple[str, ...] = ()) -> str:
    """mmseg's FCN (a quarter-width ResNet-18) on ToySeg at ``data_root``."""
    path = directory / 'fcn_r18_toyseg.py'
    path.write_text(f"""_base_ = ['mmseg::_base_/models/fcn_r50-d8.py',
          'mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmautoloss', *{list(imports)!r}], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size_divisor=8),
    pretrained=None,
    backbone=dict(depth=18, stem_channels=16, base_channels=16, norm_cfg=norm_cfg),
    decode_head=dict(type={head!r}, in_channels=128, channels=32, num_convs=1,
                     num_classes=5, norm_cfg=norm_cfg),
    auxiliary_head=None)
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(type='ToySegDataset', data_root={data_root!r},
                                     data_prefix=dict(img_path='img_dir/train',
                                                      seg_map_path='ann_dir/train'),
                                     pipeline=pipeline))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='ToySegDataset', data_root={data_root!r},
                                   data_prefix=dict(img_path='img_dir/val',
                                                    seg_map_path='ann_dir/val'),
                                   pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=0.003,
                                                         weight_decay=0.0001))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={iters},
                        by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters={iters}, val_interval={iters})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={iters}),
                     logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False))
""")
    return str(path)


def write_fcos_toydet(directory: Path, data_root: str, epochs: int = 1) -> str:
    """mmdet's FCOS (its package config, a ResNet-18 and a small head) on ToyDet at
    ``data_root`` (with a trailing slash), epoch-based as mmdet's own schedule."""
    path = directory / 'fcos_r18_toydet.py'
    path.write_text(f"""_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'
data_root = {data_root!r}
metainfo = dict(classes=('box', 'disk', 'triangle'))
model = dict(
    backbone=dict(depth=18, style='pytorch', norm_cfg=dict(type='BN', requires_grad=True),
                  norm_eval=False, frozen_stages=-1, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    bbox_head=dict(num_classes=3, in_channels=32, feat_channels=32, stacked_convs=1,
                   norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
                   strides=[8, 16, 32, 64, 128],
                   regress_ranges=((-1, 16), (16, 32), (32, 64), (64, 128), (128, 1e8))),
    test_cfg=dict(score_thr=0.0))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=4), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/instances_val.json', data_prefix=dict(img='val/'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=4),
    dict(type='MultiStepLR', begin=0, end={epochs}, by_epoch=True, milestones=[{epochs}],
         gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(logger=dict(interval=5))
""")
    return str(path)
