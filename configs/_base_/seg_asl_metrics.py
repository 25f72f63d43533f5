# The six metrics of ASL Table 1 for an mmseg val/test evaluator: IoUMetric reports aAcc
# (= gAcc, eq. 1), mIoU (eq. 3) and mAcc (eq. 2); mmautoloss adds FWIoU (eq. 4), BIoU
# (eq. 5; 5 px band, background edges left out) and BF1 (eq. 6; 5 px, background included).
asl_seg_metrics = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='FWIoUMetric'),
    dict(type='BoundaryIoUMetric', tolerance=5, ignore_background=True),
    dict(type='BoundaryF1Metric', tolerance=5, ignore_background=False),
]
