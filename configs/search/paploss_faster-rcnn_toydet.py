# Parameterized AP Loss search for Faster R-CNN on ToyDet: the RPN and R-CNN head losses
# are searched together (82 dimensions, PAP section 4).
_base_ = './paploss_retinanet_toydet.py'
proxy_config = 'configs/proxies/paploss_toydet_faster-rcnn.py'
search_space = dict(keys=['model.rpn_head.loss_ap', 'model.roi_head.bbox_head.loss_ap'])
