# CSE-Autoloss-B on the ToyDet proxy (CSE-Autoloss section 4, on CPU): the search proxy
# (FCOS R18-FPN from scratch whose quality branch learns the IoU and hands it to the
# classification loss, IoUFCOSHead; 300 iterations, COCO AP on the validation split) with
# CSE-B's classification and regression losses, weights 1.
# Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = './cse_toydet_fcos_fl-giou.py'
model = dict(
    bbox_head=dict(
        loss_cls=dict(_delete_=True, type='ExprLoss', formula='CSE-B/cls', use_sigmoid=True,
                      loss_weight=1.0),
        loss_bbox=dict(_delete_=True, type='ExprLoss', formula='CSE-B/reg', loss_weight=1.0)))
