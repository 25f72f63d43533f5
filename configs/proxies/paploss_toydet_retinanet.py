# Parameterized AP Loss proxy task on ToyDet (PAP section 3.3 / Algorithm 1, on CPU):
# RetinaNet R18-FPN from scratch, 128x128 images, batch 4, 300 iterations, then COCO AP
# on the validation split (`coco/bbox_mAP` is the search reward).
# The search engine overrides `model.bbox_head.loss_ap` with each candidate ParamAPLoss.
# Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/retinanet_r18_toydet.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
randomness = dict(seed=0)
