# Deformable DETR R50 trained with the Parameterized AP Loss (PAP, NeurIPS 2021, Table 1:
# 45.3 AP vs 43.8 for Focal + L1 + GIoU). Training follows mmdet's Deformable DETR (the
# paper: "strictly follow [42]", lr 2e-4, batch 32 = 8 GPUs x 4 images, 50 epochs).
# The searched functions and gradient scale for Deformable DETR were not released, so the
# five functions of eq. (6) start at the identity f(x) = x and lambda = 1; put searched values
# (5 lists of 12 numbers incl. (0,0) and (1,1)) in `functions` and `grad_scale`.
_base_ = 'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py'

custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)

model = dict(
    bbox_head=dict(
        _delete_=True,
        type='ParamAPDeformableDETRHead',
        num_classes=80,
        loss_ap=dict(
            type='ParamAPLoss',
            functions=None,
            num_segments=5,
            grad_scale=1.0,
            loc_measure='giou',
            loss_weight=1.0)))

train_dataloader = dict(batch_size=4, num_workers=4)
