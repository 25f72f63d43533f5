# CSE-Autoloss-B on the ToyDet proxy (CSE-Autoloss section 4, on CPU): FCOS R18-FPN from
# scratch, 128x128 images, batch 4, 300 iterations, COCO AP on the validation split. The
# quality branch learns the IoU instead of the centerness and the classification loss gets
# that IoU (IoUFCOSHead); CSE-B's classification and regression losses, weights 1.
# Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/fcos_r18_toydet_mmdet-losses.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
model = dict(
    bbox_head=dict(
        type='IoUFCOSHead',
        loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-B/cls', use_sigmoid=True,
                      loss_weight=1.0),
        loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-B/reg', loss_weight=1.0)))
randomness = dict(seed=0)
