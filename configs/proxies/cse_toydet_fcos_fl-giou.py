# The CSE-Autoloss search proxy for one-stage detectors on ToyDet (CSE-Autoloss section 4,
# on CPU): FCOS R18-FPN from scratch, 128x128 images, batch 4, 300 iterations, COCO AP on
# the validation split. The quality branch learns the IoU instead of the centerness and
# hands it to the classification loss (IoUFCOSHead); focal loss and GIoU (weights 1): the
# search replaces one and keeps the other (FL fixed for the regression search, GIoU for
# the classification search). Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/fcos_r18_toydet_mmdet-losses.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
model = dict(
    bbox_head=dict(
        type='IoUFCOSHead',
        loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=1.0)))
randomness = dict(seed=0)
