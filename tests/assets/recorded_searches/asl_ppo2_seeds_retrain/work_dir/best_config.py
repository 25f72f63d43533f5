model = dict(
    decode_head=dict(
        loss_decode=dict(
            loss_weight=1.0,
            metric='mIoU',
            num_classes=3,
            num_segments=2,
            parameterization='bezier',
            params=[
                0.25,
                0.25,
                0.3333333333333333,
                0.3333333333333333,
                0.5,
                0.5,
                0.25,
                0.25,
                0.3333333333333333,
                0.3333333333333333,
                0.5,
                0.5,
            ],
            type='AutoSegLoss')))
randomness = dict(seed=0)
val_evaluator = [
    dict(iou_metrics=[
        'mIoU',
    ], type='IoUMetric'),
    dict(type='FWIoUMetric'),
]
