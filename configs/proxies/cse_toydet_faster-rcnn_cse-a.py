# CSE-Autoloss-A on the ToyDet proxy (CSE-Autoloss section 4, on CPU): the search proxy
# (Faster R-CNN R18-FPN from scratch with the IoU head, 300 iterations, COCO AP on the
# validation split) with CSE-A's classification loss (it gets the IoU w of each RoI) and
# its regression loss on decoded boxes, weight 10 as the paper's two-stage detectors; the
# RPN keeps cross-entropy + L1. Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = './cse_toydet_faster-rcnn_ce-giou.py'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-A/cls',
                          loss_weight=1.0),
            loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-A/reg',
                           loss_weight=10.0))))
