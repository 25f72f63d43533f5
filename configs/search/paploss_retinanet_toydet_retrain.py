# The PAP RetinaNet search of paploss_retinanet_toydet.py followed by a re-training stage
# (PAP section 4, shortened for a CPU): the best sampled Parameterized AP Loss and
# RetinaNet's standard losses (focal loss + GIoU, mmdet's RetinaHead) as they are and tuned
# (a learning-rate sweep chosen on ToyDet's search split), trained again with 3 new seeds on
# the proxy schedule and reported on ToyDet's val split; report.md tabulates mean +- std of
# every COCO metric and the paired differences by seed. 18 trainings.
_base_ = './paploss_retinanet_toydet.py'
_head = dict(
    num_classes=3,
    in_channels=64,
    stacked_convs=2,
    feat_channels=64,
    anchor_generator=dict(
        type='AnchorGenerator',
        octave_base_scale=2,
        scales_per_octave=3,
        ratios=[0.5, 1.0, 2.0],
        strides=[4, 8, 16, 32, 64]),
    bbox_coder=dict(
        type='DeltaXYWHBBoxCoder',
        target_means=[.0, .0, .0, .0],
        target_stds=[1.0, 1.0, 1.0, 1.0]))
retrain = dict(
    schedule_factor=1,  # the proxy's 300 iterations (2x by default), for a CPU
    top_k=1,
    seeds=3,
    baseline=False,  # the proxy's own loss is PAP at identity, not the detector's default
    baselines={
        'focal-giou': {
            'model.bbox_head':
            dict(
                _delete_=True,
                type='RetinaHead',
                reg_decoded_bbox=True,
                loss_cls=dict(
                    type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                    loss_weight=1.0),
                loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
                **_head)
        }
    },
    tune_baselines=dict(lr_factors=[0.5, 1, 2]))
