# Auto Seg-Loss mIoU surrogate searched on PASCAL VOC (released parameters of
# github.com/fundamentalvision/Auto-Seg-Loss, release arithmetic): two 2-piece Bezier curves [g_AND (intersection), g_OR (union)], interior control points.
asl_miou = dict(
    type='AutoSegLoss',
    metric='mIoU',
    parameterization='bezier',
    num_segments=2,
    theta=[
        5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01, 6.25281252e-01,
        7.79551927e-01, 6.90375570e-01, 1.30628900e-02, 8.34170515e-01, 9.62431815e-01,
        9.42998269e-01, 9.80038125e-01
    ],
    formulation='release',
    loss_name='loss_asl_miou')
