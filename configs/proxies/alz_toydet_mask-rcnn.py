# AutoLoss-Zero instance-segmentation proxy on ToyDet (ALZ section 4.3, on CPU): Mask R-CNN
# R18-FPN from scratch, 128x128 images with COCO RLE masks, batch 4, 300 iterations, COCO
# box and mask AP (`coco/segm_mAP` is the search reward). Its five loss branches are the
# detection proxy's four plus the mask branch (per-pixel sigmoid cross-entropy).
# Data: `python tools/generate_toydet.py --out data/toydet` (writes the masks too).
_base_ = [
    '../_base_/models/mask-rcnn_r18_toydet_mmdet-losses.py',
    '../_base_/datasets/toydet_coco_instance.py',
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
