# CSE-Autoloss-A on the ToyDet proxy (CSE-Autoloss section 4, on CPU): Faster R-CNN R18-FPN
# from scratch, 128x128 images, batch 4, 300 iterations, COCO AP on the validation split
# (`coco/bbox_mAP`). The R-CNN head's classification loss gets the IoU w of each RoI's box
# (IoUShared2FCBBoxHead) and regresses decoded boxes with CSE-A's regression loss, weight 10
# as the paper's two-stage detectors; the RPN keeps cross-entropy + L1.
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
            loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-A/cls',
                          loss_weight=1.0),
            loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-A/reg',
                           loss_weight=10.0))))
randomness = dict(seed=0)
