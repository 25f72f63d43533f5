default_scope = 'mmdet'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(
                branch='softmax_cls',
                formula='Relu(SoftPlus(Neg(Dot(Mul(W,Y),Log(Softmax(X))))))',
                loss_weight=1.0,
                primitive_set='cse-release',
                type='ExprLoss',
                use_sigmoid=False),
            num_classes=3)))
randomness = dict(seed=0)
train_cfg = dict(max_iters=300, type='IterBasedTrainLoop', val_interval=300)
train_dataloader = dict(
    dataset=dict(
        ann_file='instances_train.json', data_root='cse_generations/data/'))
val_dataloader = dict(
    dataset=dict(
        ann_file='instances_train.json', data_root='cse_generations/data/'))
val_evaluator = dict(
    ann_file='cse_generations/data/instances_train.json',
    metric='bbox',
    type='CocoMetric')
