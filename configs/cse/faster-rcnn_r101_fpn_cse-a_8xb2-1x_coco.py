# Faster R-CNN R101-FPN with CSE-Autoloss-A (CSE-Autoloss Table 1: 40.2 AP vs 39.4 for
# CE + L1); the losses of faster-rcnn_r50_fpn_cse-a_8xb2-1x_coco.py on a ResNet-101.
_base_ = './faster-rcnn_r50_fpn_cse-a_8xb2-1x_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
