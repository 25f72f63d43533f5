# Auto Seg-Loss FWIoU surrogate searched on PASCAL VOC (released parameters of
# github.com/fundamentalvision/Auto-Seg-Loss, release arithmetic): two 2-piece Bezier curves [g_AND (intersection), g_OR (union)], interior control points.
asl_fwiou = dict(
    type='AutoSegLoss',
    metric='FWIoU',
    parameterization='bezier',
    num_segments=2,
    theta=[
        0.11907931, 0.669945, 0.19315827, 0.71179134, 0.46337387, 0.79494196, 0.5266451,
        0.29869753, 0.706645, 0.4485701, 0.86858255, 0.7261703
    ],
    formulation='release',
    loss_name='loss_asl_fwiou')
