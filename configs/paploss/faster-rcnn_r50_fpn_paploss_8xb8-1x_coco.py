# Faster R-CNN R50-FPN trained with the searched Parameterized AP Loss (PAP, NeurIPS 2021,
# Table 1: 42.0 AP vs 39.0 for Cross Entropy + L1). One loss is searched for the RPN and
# one for the R-CNN head, at once. Released functions and gradient scales
# (github.com/fundamentalvision/Parameterized-AP-Loss, in its arithmetic:
# formulation='release', num_topk=100000):
# five piecewise-linear functions of eq. (6) per head, 5 segments each, written as 12
# numbers including (0,0) and (1,1), in the order theta2, theta3, theta5, theta1, theta4.
# Training: the paper's lr 0.024 at batch 64 (8 GPUs x 8 images, section 4.1) on mmdet's
# 1x schedule; the paper's remaining settings "strictly follow" AP-Loss / aLRP Loss and are
# not restated in it (see README.md).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    rpn_head=dict(
        type='ParamAPRPNHead',
        loss_cls=None,
        loss_bbox=None,
        loss_ap=dict(
            type='ParamAPLoss',
            functions=[
                [0, 0, 0.9058, 0.0484, 0.9068, 0.5120, 0.9232, 0.7286, 0.9766, 0.9677, 1, 1],
                [0, 0, 0.3200, 0.1084, 0.3493, 0.2482, 0.4924, 0.3869, 0.7231, 0.6510, 1, 1],
                [0, 0, 0.0935, 0.0419, 0.2177, 0.1168, 0.5857, 0.3748, 0.7962, 0.6683, 1, 1],
                [0, 0, 0.0045, 0.3599, 0.1295, 0.4603, 0.7662, 0.5140, 0.8483, 0.5259, 1, 1],
                [0, 0, 0.1764, 0.1081, 0.5245, 0.4907, 0.6956, 0.5668, 0.7642, 0.8645, 1, 1],
            ],
            num_segments=5,
            grad_scale=1.6950,
            loc_measure='giou',
            loss_weight=1.0,
            formulation='release',
            num_topk=100000)),
    roi_head=dict(
        bbox_head=dict(
            type='ParamAPBBoxHead',
            loss_cls=None,
            loss_bbox=None,
            loss_ap=dict(
                type='ParamAPLoss',
                functions=[
                    [0, 0, 0.3344, 0.0268, 0.5460, 0.2461, 0.8196, 0.6466, 0.9467, 0.8617, 1, 1],
                    [0, 0, 0.0978, 0.2019, 0.4073, 0.3367, 0.6337, 0.4689, 0.7708, 0.6633, 1, 1],
                    [0, 0, 0.2406, 0.0515, 0.3358, 0.5259, 0.6047, 0.6647, 0.8575, 0.7792, 1, 1],
                    [0, 0, 0.2574, 0.2363, 0.5442, 0.5999, 0.7165, 0.6548, 0.8728, 0.8331, 1, 1],
                    [0, 0, 0.1551, 0.2675, 0.4902, 0.3957, 0.7245, 0.5095, 0.8068, 0.8720, 1, 1],
                ],
                num_segments=5,
                grad_scale=7.1324,
                loc_measure='giou',
                loss_weight=1.0,
                formulation='release',
                num_topk=100000))))

train_dataloader = dict(batch_size=8, num_workers=4)
optim_wrapper = dict(optimizer=dict(lr=0.024))
auto_scale_lr = dict(base_batch_size=64)
