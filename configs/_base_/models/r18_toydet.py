# Shared by the ToyDet detection proxies (PAP section 3.3, on CPU): the data preprocessor
# and a ResNet-18 (4 stages, C2-C5) trained from scratch on 128x128 ToyDet images. No
# pretrained weights (nothing is downloaded); BN instead of SyncBN. The detector bases
# (retinanet / faster-rcnn / deformable-detr_r18_toydet.py) inherit this and add the rest.
model = dict(
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None))
