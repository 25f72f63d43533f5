# Auto Seg-Loss boundary-IoU surrogate searched on PASCAL VOC (released parameters of
# github.com/fundamentalvision/Auto-Seg-Loss, release arithmetic): two 2-piece Bezier curves [g_AND, g_OR]; band of 5 px around the
# ground-truth edges, background edges left out.
asl_biou = dict(
    type='AutoSegLoss',
    metric='BIoU',
    parameterization='bezier',
    num_segments=2,
    theta=[
        3.65390355e-04, 9.84171689e-01, 9.69491959e-01, 9.92340326e-01, 9.88328516e-01,
        9.95552719e-01, 3.54609758e-01, 2.67221928e-01, 5.60551465e-01, 4.35290039e-01,
        5.65432191e-01, 6.01448298e-01
    ],
    boundary_tolerance=5,
    ignore_background_boundary=True,
    formulation='release',
    loss_name='loss_asl_biou')
