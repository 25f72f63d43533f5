# Parameterized AP Loss proxy task on ToyDet for Deformable DETR (PAP section 3.3 /
# Algorithm 1, on CPU): Deformable DETR with an R18 backbone from scratch, one feature level
# (section 4.1: "we also set the number of feature levels to 1 to further accelerate the
# training"), 30 queries, 1 encoder and 2 decoder layers (the first decoder layer's loss is
# the auxiliary `d0.loss_ap`), 128x128 images, batch 4, 300 iterations, then COCO AP on the
# validation split (`coco/bbox_mAP` is the search reward).
# The search engine overrides `model.bbox_head.loss_ap` with each candidate ParamAPLoss.
# Data: `python tools/generate_toydet.py --out data/toydet`.
_base_ = [
    '../_base_/models/deformable-detr_r18_toydet.py',
    '../_base_/datasets/toydet_coco.py',
    '../_base_/det_default_runtime.py',
    '../_base_/schedules/det_proxy_300it.py',
]
# DETR-style optimisation (AdamW, tight gradient clipping) instead of the base SGD
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(
        custom_keys={
            'sampling_offsets': dict(lr_mult=0.1),
            'reference_points': dict(lr_mult=0.1)
        }))
randomness = dict(seed=0)
