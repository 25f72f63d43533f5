# FCOS R50-FPN (caffe backbone, GN head) with CSE-Autoloss-B and the IoU branch
# (CSE-Autoloss Table 1: 39.6 AP vs 38.8 for FL + GIoU). The quality branch learns the IoU
# instead of the centerness and the classification loss takes it as w (IoUFCOSHead);
# classification -[w y (1 + erf~(sigmoid(1 - y))) log sigmoid(x) + (gd~(x) - w y)
# (sigmoid(x) - w y) log(1 - sigmoid(x))] times 0.25 y + 0.75 (1 - y), regression
# (3eu + 12e + 3i + 3u + 18) / (-3eu + iu + u^2 - 15e + 5i + 5u), weights 1 (section 4).
# mmdet's FCOS 1x schedule (4 GPUs x 4 images).
_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    bbox_head=dict(
        type='IoUFCOSHead',
        loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-B/cls', use_sigmoid=True,
                      loss_weight=1.0),
        loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-B/reg', loss_weight=1.0)))
train_dataloader = dict(batch_size=4)
auto_scale_lr = dict(base_batch_size=16)
