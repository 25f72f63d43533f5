# The CSE-Autoloss search proxy for two-stage detectors on ToyDet (CSE-Autoloss section 4,
# on CPU): Faster R-CNN R18-FPN from scratch, 128x128 images, batch 4, 300 iterations,
# COCO AP on the validation split. The R-CNN head is the IoU head (it hands the IoU w of
# each RoI to its classification loss) with cross-entropy and GIoU (weight 10 on decoded
# boxes): the search replaces one of the two and keeps the other ("for regression loss
# search ... CE ... serving as the fixed classification loss ... for classification branch
# search ... GIoU serving as the fixed regression loss"). The RPN keeps CE + L1.
# Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/faster-rcnn_r18_toydet_mmdet-losses.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='IoUShared2FCBBoxHead',
            reg_decoded_bbox=True,
            loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=10.0))))
randomness = dict(seed=0)
