# Cascade R-CNN R50-FPN with CSE-Autoloss-A in all three stages (CSE-Autoloss Table 1:
# 40.5 AP vs 40.3 for CE + smooth L1); each stage's head is mmdet's cascade head with its
# own target stds, fed the IoU w (IoUShared2FCBBoxHead) and regressing decoded boxes
# (weight 10). mmdet's 1x schedule and stage loss weights [1, 0.5, 0.25].
_base_ = 'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    roi_head=dict(bbox_head=[
        dict(
            type='IoUShared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=True,
            reg_decoded_bbox=True,
            loss_cls=dict(type='ExprLoss', formula='CSE-A/cls', loss_weight=1.0),
            loss_bbox=dict(type='ExprLoss', formula='CSE-A/reg', loss_weight=10.0)),
        dict(
            type='IoUShared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.05, 0.05, 0.1, 0.1]),
            reg_class_agnostic=True,
            reg_decoded_bbox=True,
            loss_cls=dict(type='ExprLoss', formula='CSE-A/cls', loss_weight=1.0),
            loss_bbox=dict(type='ExprLoss', formula='CSE-A/reg', loss_weight=10.0)),
        dict(
            type='IoUShared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.033, 0.033, 0.067, 0.067]),
            reg_class_agnostic=True,
            reg_decoded_bbox=True,
            loss_cls=dict(type='ExprLoss', formula='CSE-A/cls', loss_weight=1.0),
            loss_bbox=dict(type='ExprLoss', formula='CSE-A/reg', loss_weight=10.0)),
    ]))
