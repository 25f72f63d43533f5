# Auto Seg-Loss boundary-F1 surrogate searched on PASCAL VOC (released parameters of
# github.com/fundamentalvision/Auto-Seg-Loss): four 1-piece Bezier curves in the authors'
# order [g_AND(p), g_AND(erode p), g_OR(p), g_OR(erode p)] of the XOR that extracts the
# predicted edge, in the release's arithmetic (formulation='release'); tolerance 5 px,
# background included.
asl_bf1 = dict(
    type='AutoSegLoss',
    metric='BF1',
    parameterization='bezier',
    num_segments=1,
    theta=[
        0.8113003373146057, 0.8526162505149841, 0.17164576053619385, 0.03164796531200409,
        0.20997394621372223, 0.44903290271759033, 0.07847517728805542, 0.8753038048744202
    ],
    boundary_tolerance=5,
    formulation='release',
    loss_name='loss_asl_bf1')
