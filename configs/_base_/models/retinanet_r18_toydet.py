# RetinaNet R18-FPN for 128x128 ToyDet images (3 classes), the PAP RetinaNet proxy network,
# with the Parameterized AP Loss at identity f(x) = x, lambda = 1 (the search engine
# overrides `model.bbox_head.loss_ap` with each candidate ParamAPLoss).
_base_ = './r18_toydet.py'
model = dict(
    type='RetinaNet',
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 256, 512],
        out_channels=64,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='ParamAPRetinaHead',
        num_classes=3,
        in_channels=64,
        stacked_convs=2,
        feat_channels=64,
        # strides 4-64 and base scale 2 give anchors of 8-203 px for 8-100 px objects
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=2,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=None,
        loss_bbox=None,
        # identity f(x) = x for the five functions of eq. (6), lambda = 1
        loss_ap=dict(
            type='ParamAPLoss',
            functions=None,
            num_segments=5,
            grad_scale=1.0,
            loc_measure='giou',
            loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    # eq. (6) ranks logits and fixes no absolute score level: keep every detection
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))
