model = dict(decode_head=dict(loss_decode=dict(
    type='AutoSegLoss', metric='mIoU', num_classes=3, loss_weight=1.0, theta=None)))
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU']), dict(type='FWIoUMetric')]
randomness = dict(seed=0)
