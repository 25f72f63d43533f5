# FCOS R18-FPN for 128x128 ToyDet images (3 classes) with mmdet's default FCOS losses:
# focal loss, IoU loss on decoded boxes and the centerness cross-entropy. The base of the
# one-stage formula-loss proxies (CSE-Autoloss), which replace the searched branches.
_base_ = './r18_toydet.py'
model = dict(
    type='FCOS',
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 256, 512],
        out_channels=64,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='FCOSHead',
        num_classes=3,
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
        strides=[8, 16, 32, 64, 128],
        # 8-100 px objects on 128 px images: the ranges of mmdet's FCOS divided by 4
        regress_ranges=((-1, 16), (16, 32), (32, 64), (64, 128), (128, 1e8)),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_bbox=dict(type='IoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    # COCO AP ranks detections: no score threshold, so a briefly trained proxy reports AP
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))
