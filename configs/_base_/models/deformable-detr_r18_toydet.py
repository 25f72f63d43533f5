# Deformable DETR R18 for 128x128 ToyDet images (3 classes), the PAP Deformable DETR proxy
# network: one feature level (PAP section 4.1: "we also set the number of feature levels to 1
# to further accelerate the training"), 30 queries, 1 encoder and 2 decoder layers (the first
# decoder layer's loss is the auxiliary `d0.loss_ap`), with the Parameterized AP Loss at
# identity f(x) = x, lambda = 1 (the search engine overrides `model.bbox_head.loss_ap`).
_base_ = './r18_toydet.py'
embed_dims = 128
model = dict(
    type='DeformableDETR',
    num_queries=30,
    num_feature_levels=1,
    with_box_refine=False,
    as_two_stage=False,
    data_preprocessor=dict(pad_size_divisor=1),
    # stride-16 C4 features only (8x8 tokens for a 128x128 image); stage 4 is not built
    backbone=dict(
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, )),
    neck=dict(
        type='ChannelMapper',
        in_channels=[256],
        kernel_size=1,
        out_channels=embed_dims,
        act_cfg=None,
        norm_cfg=dict(type='GN', num_groups=32),
        num_outs=1),
    encoder=dict(
        num_layers=1,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_levels=1, batch_first=True),
            ffn_cfg=dict(
                embed_dims=embed_dims, feedforward_channels=4 * embed_dims,
                ffn_drop=0.1))),
    decoder=dict(
        num_layers=2,
        return_intermediate=True,
        layer_cfg=dict(
            self_attn_cfg=dict(
                embed_dims=embed_dims, num_heads=8, dropout=0.1, batch_first=True),
            cross_attn_cfg=dict(embed_dims=embed_dims, num_levels=1, batch_first=True),
            ffn_cfg=dict(
                embed_dims=embed_dims, feedforward_channels=4 * embed_dims,
                ffn_drop=0.1)),
        post_norm_cfg=None),
    positional_encoding=dict(num_feats=embed_dims // 2, normalize=True, offset=-0.5),
    bbox_head=dict(
        type='ParamAPDeformableDETRHead',
        num_classes=3,
        embed_dims=embed_dims,
        # identity f(x) = x for the five functions of eq. (6), lambda = 1
        loss_ap=dict(
            type='ParamAPLoss',
            functions=None,
            num_segments=5,
            grad_scale=1.0,
            loc_measure='giou',
            loss_weight=1.0)),
    # mmdet's Hungarian matching costs for Deformable DETR, unchanged
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0)
            ])),
    test_cfg=dict(max_per_img=90))  # all 30 queries x 3 classes
