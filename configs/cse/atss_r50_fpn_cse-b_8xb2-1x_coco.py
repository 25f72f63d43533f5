# ATSS R50-FPN with CSE-Autoloss-B and the IoU branch (CSE-Autoloss Table 1: 40.5 AP vs
# 40.0 for FL + GIoU): the quality branch learns the IoU instead of the centerness and the
# classification loss takes it as w (IoUATSSHead); regression weight 1 (section 4).
# mmdet's ATSS 1x schedule (8 GPUs x 2 images).
_base_ = 'mmdet::atss/atss_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    bbox_head=dict(
        type='IoUATSSHead',
        loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-B/cls', use_sigmoid=True,
                      loss_weight=1.0),
        loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-B/reg', loss_weight=1.0)))
