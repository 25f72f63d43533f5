"""Released numbers of the papers' public code, copied from there and not from this
repository's configs, so that a typo in a config fails the tests that compare with them.

Auto Seg-Loss (github.com/fundamentalvision/Auto-Seg-Loss): the searched curves for PASCAL
VOC, interior control-point coordinates in the released order. Parameterized AP Loss
(github.com/fundamentalvision/Parameterized-AP-Loss): the five functions (full knots from
(0, 0) to (1, 1), the release's ``ctrl_points[0..4]`` order) and the gradient scale of
RetinaNet, the RPN and the R-CNN head on COCO.
"""
# Auto Seg-Loss, DeepLabV3+ on PASCAL VOC
ASL_MIOU = [5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01, 6.25281252e-01,
            7.79551927e-01, 6.90375570e-01, 1.30628900e-02, 8.34170515e-01, 9.62431815e-01,
            9.42998269e-01, 9.80038125e-01]
ASL_FWIOU = [0.11907931, 0.669945, 0.19315827, 0.71179134, 0.46337387, 0.79494196,
             0.5266451, 0.29869753, 0.706645, 0.4485701, 0.86858255, 0.7261703]
ASL_BIOU = [3.65390355e-04, 9.84171689e-01, 9.69491959e-01, 9.92340326e-01, 9.88328516e-01,
            9.95552719e-01, 3.54609758e-01, 2.67221928e-01, 5.60551465e-01, 4.35290039e-01,
            5.65432191e-01, 6.01448298e-01]
ASL_MACC = [2.1453928e-02, 7.3905742e-01, 4.1163361e-01, 7.9865617e-01, 9.1986191e-01,
            9.5041156e-01]
ASL_BF1 = [0.8113003373146057, 0.8526162505149841, 0.17164576053619385, 0.03164796531200409,
           0.20997394621372223, 0.44903290271759033, 0.07847517728805542, 0.8753038048744202]

# Parameterized AP Loss, COCO
PAP_RETINANET = [
    [0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1],
    [0, 0, 0.1279, 0.3696, 0.3056, 0.4708, 0.5198, 0.529, 0.6983, 0.6709, 1, 1],
    [0, 0, 0.0931, 0.0289, 0.3607, 0.5585, 0.4823, 0.7131, 0.6291, 0.8162, 1, 1],
    [0, 0, 0.4914, 0.1499, 0.5492, 0.1664, 0.6259, 0.3051, 0.7945, 0.6195, 1, 1],
    [0, 0, 0.413, 0.0798, 0.4356, 0.3571, 0.5361, 0.7063, 0.8097, 0.9083, 1, 1]]
PAP_RETINANET_LAMBDA = 4.1231
PAP_RPN = [
    [0, 0, 0.9058, 0.0484, 0.9068, 0.5120, 0.9232, 0.7286, 0.9766, 0.9677, 1, 1],
    [0, 0, 0.3200, 0.1084, 0.3493, 0.2482, 0.4924, 0.3869, 0.7231, 0.6510, 1, 1],
    [0, 0, 0.0935, 0.0419, 0.2177, 0.1168, 0.5857, 0.3748, 0.7962, 0.6683, 1, 1],
    [0, 0, 0.0045, 0.3599, 0.1295, 0.4603, 0.7662, 0.5140, 0.8483, 0.5259, 1, 1],
    [0, 0, 0.1764, 0.1081, 0.5245, 0.4907, 0.6956, 0.5668, 0.7642, 0.8645, 1, 1]]
PAP_RPN_LAMBDA = 1.6950
PAP_RCNN = [
    [0, 0, 0.3344, 0.0268, 0.5460, 0.2461, 0.8196, 0.6466, 0.9467, 0.8617, 1, 1],
    [0, 0, 0.0978, 0.2019, 0.4073, 0.3367, 0.6337, 0.4689, 0.7708, 0.6633, 1, 1],
    [0, 0, 0.2406, 0.0515, 0.3358, 0.5259, 0.6047, 0.6647, 0.8575, 0.7792, 1, 1],
    [0, 0, 0.2574, 0.2363, 0.5442, 0.5999, 0.7165, 0.6548, 0.8728, 0.8331, 1, 1],
    [0, 0, 0.1551, 0.2675, 0.4902, 0.3957, 0.7245, 0.5095, 0.8068, 0.8720, 1, 1]]
PAP_RCNN_LAMBDA = 7.1324


def released_asl_theta(metric: str) -> list:
    """The released curve coordinates of ``metric`` (the release trains gAcc with the mAcc
    curve)."""
    return dict(mIoU=ASL_MIOU, FWIoU=ASL_FWIOU, BIoU=ASL_BIOU, BF1=ASL_BF1, mAcc=ASL_MACC,
                gAcc=ASL_MACC)[metric]


def released_pap_functions(detector: str) -> list:
    """The released functions of ``'retinanet'``, ``'rpn'`` or ``'rcnn'``."""
    return dict(retinanet=PAP_RETINANET, rpn=PAP_RPN, rcnn=PAP_RCNN)[detector]
