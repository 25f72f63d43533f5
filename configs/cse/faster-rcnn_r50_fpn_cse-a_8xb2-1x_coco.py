# Faster R-CNN R50-FPN trained with CSE-Autoloss-A (CSE-Autoloss, ICLR 2021, Table 1:
# 38.5 AP vs 37.4 for CE + L1 and 37.6 for CE + GIoU). The R-CNN head's classification
# loss -dot((1 + sin(w)) y, log(softmax(x))) takes the IoU w of each RoI's decoded box with
# its GT (IoUShared2FCBBoxHead; w = 1 on background); the box loss (1 - i/u) + (1 - (i + 2)/e)
# is on decoded boxes with weight 10 (section 4). The RPN keeps mmdet's CE + L1. mmdet's
# 1x schedule and batch (8 GPUs x 2 images), as the paper trains with mmdet's defaults.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='IoUShared2FCBBoxHead',
            reg_decoded_bbox=True,
            loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-A/cls',
                          loss_weight=1.0),
            loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-A/reg',
                           loss_weight=10.0))))
