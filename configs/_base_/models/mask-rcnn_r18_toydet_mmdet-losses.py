# Mask R-CNN R18-FPN for 128x128 ToyDet images (3 classes) with mmdet's default losses: the
# Faster R-CNN base plus an FCN mask head (4 convs, 14x14 RoIs, 28x28 masks, per-class
# sigmoid cross-entropy). The base of the instance-segmentation formula-loss proxies.
_base_ = './faster-rcnn_r18_toydet_mmdet-losses.py'
model = dict(
    type='MaskRCNN',
    data_preprocessor=dict(pad_mask=True),
    roi_head=dict(
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=64,
            featmap_strides=[4, 8, 16, 32]),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=64,
            conv_out_channels=64,
            num_classes=3,
            loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    train_cfg=dict(rcnn=dict(mask_size=28)),
    test_cfg=dict(rcnn=dict(mask_thr_binary=0.5)))
