# CSE-Autoloss search of FCOS's regression loss on ToyDet, focal loss fixed: generation 1
# mutates GIoU with the regression branch's operator set. Otherwise as
# cse_faster-rcnn_reg_toydet.py.
_base_ = './cse_faster-rcnn_reg_toydet.py'
proxy_config = 'configs/proxies/cse_toydet_fcos_fl-giou.py'
search_space = dict(
    branches={'model.bbox_head.loss_bbox': dict(branch='box',
                                                primitive_set={{_base_._regression_set}})},
    _delete_=True,
    type='FormulaSpace',
    primitive_set='cse')
