# CSE-Autoloss search of FCOS's classification loss on ToyDet, GIoU fixed: generation 1
# mutates FLI -w [y (1 - sigmoid(x)) log sigmoid(x) + (1 - y) sigmoid(x) log(1 - sigmoid(x))]
# (w: the IoU the quality branch predicts, IoUFCOSHead), weighted by alpha_t = 0.25 y +
# 0.75 (1 - y) as the authors' released classification wrapper does. Otherwise as
# cse_faster-rcnn_cls_toydet.py.
_base_ = './cse_faster-rcnn_cls_toydet.py'
proxy_config = 'configs/proxies/cse_toydet_fcos_fl-giou.py'
search_space = dict(
    _delete_=True,
    type='FormulaSpace',
    primitive_set='cse',
    branches={'model.bbox_head.loss_cls': 'sigmoid_cls'},
    loss_options=dict(alpha=0.25))
searcher = dict(initial_loss='FLI')
