# AutoLoss-Zero detection proxy on ToyDet (ALZ section 4.2, on CPU): Faster R-CNN R18-FPN
# from scratch, 128x128 images, batch 4, 300 iterations, COCO AP on the validation split.
# Its four loss branches are the ones the search replaces: RPN and R-CNN classification
# (cross-entropy, weight 1) and box regression on decoded boxes (GIoU, weight 10: the
# regression losses of the search take the intersection, union and enclosing areas of the
# decoded boxes, "loss weights 1.0 for classification branches and 10.0 for regression
# branches", appendix A.2). Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/faster-rcnn_r18_toydet_mmdet-losses.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
model = dict(
    rpn_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=10.0)),
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(_delete_=True, type='GIoULoss', loss_weight=10.0))))
randomness = dict(seed=0)
