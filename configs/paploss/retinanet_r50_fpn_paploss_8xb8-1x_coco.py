# RetinaNet R50-FPN trained with the searched Parameterized AP Loss (PAP, NeurIPS 2021,
# Table 1: 40.5 AP vs 37.5 for Focal Loss + L1). Released functions and gradient scale
# (github.com/fundamentalvision/Parameterized-AP-Loss, in its arithmetic:
# formulation='release', num_topk=100000): five piecewise-linear functions of eq. (6), 5 segments each, written as
# 12 numbers including (0,0) and (1,1), in the order theta2, theta3, theta5, theta1, theta4.
# Training: the paper's lr 0.016 at batch 64 (8 GPUs x 8 images, section 4.1) on mmdet's
# 1x schedule; the paper's remaining settings "strictly follow" AP-Loss / aLRP Loss and are
# not restated in it (see README.md).
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    bbox_head=dict(
        type='ParamAPRetinaHead',
        loss_cls=None,
        loss_bbox=None,
        loss_ap=dict(
            type='ParamAPLoss',
            functions=[
                [0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1],
                [0, 0, 0.1279, 0.3696, 0.3056, 0.4708, 0.5198, 0.529, 0.6983, 0.6709, 1, 1],
                [0, 0, 0.0931, 0.0289, 0.3607, 0.5585, 0.4823, 0.7131, 0.6291, 0.8162, 1, 1],
                [0, 0, 0.4914, 0.1499, 0.5492, 0.1664, 0.6259, 0.3051, 0.7945, 0.6195, 1, 1],
                [0, 0, 0.413, 0.0798, 0.4356, 0.3571, 0.5361, 0.7063, 0.8097, 0.9083, 1, 1],
            ],
            num_segments=5,
            grad_scale=4.1231,
            loc_measure='giou',
            loss_weight=1.0,
            formulation='release',
            num_topk=100000)))

train_dataloader = dict(batch_size=8, num_workers=4)
optim_wrapper = dict(optimizer=dict(lr=0.016))
auto_scale_lr = dict(base_batch_size=64)
