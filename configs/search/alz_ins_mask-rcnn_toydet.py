# AutoLoss-Zero search for mask AP of Mask R-CNN on ToyDet (ALZ section 4.3): the five loss
# branches (RPN / R-CNN classification and box regression, the mask branch) searched
# together from random formulas. Sized for a CPU: 4 initial losses, 2 generations of 2.
# Data first: `python tools/generate_toydet.py --out data/toydet`.
_base_ = './alz_det_faster-rcnn_toydet.py'
proxy_config = 'configs/proxies/alz_toydet_mask-rcnn.py'
search_space = dict(branches={'model.roi_head.mask_head.loss_mask': 'mask'})
reward_key = 'coco/segm_mAP'
