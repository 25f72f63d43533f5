# CSE-Autoloss search of the regression loss of Faster R-CNN's R-CNN head on ToyDet, CE
# fixed as the classification loss: generation 1 mutates GIoU 1 - i/u + (e - u)/e over the
# intersection, union and enclosing area of the decoded boxes, with the smaller operator
# set of the regression branch ("regression branch contains fewer primitive operators");
# the distance-loss consistency check drops losses that do not grow as a prediction moves
# away from its ground truth. Otherwise as cse_faster-rcnn_cls_toydet.py (paper: N about
# 10^3 for regression).
_base_ = './cse_faster-rcnn_cls_toydet.py'
_regression_set = dict(
    base='cse', operators=['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Log', 'Exp', 'Sqrt', 'Abs'])
search_space = dict(
    branches={
        'model.roi_head.bbox_head.loss_bbox': dict(branch='box',
                                                   primitive_set=_regression_set)
    },
    _delete_=True,
    type='FormulaSpace',
    primitive_set='cse')
searcher = dict(initial_loss='GIoU')
