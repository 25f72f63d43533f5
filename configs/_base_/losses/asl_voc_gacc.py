# Auto Seg-Loss gAcc surrogate (github.com/fundamentalvision/Auto-Seg-Loss: the authors trained gAcc
# with the curve searched for mAcc; release arithmetic): one 2-piece Bezier curve g_AND.
asl_gacc = dict(
    type='AutoSegLoss',
    metric='gAcc',
    parameterization='bezier',
    num_segments=2,
    theta=[
        2.1453928e-02, 7.3905742e-01, 4.1163361e-01, 7.9865617e-01, 9.1986191e-01, 9.5041156e-01
    ],
    formulation='release',
    loss_name='loss_asl_gacc')
