# The parts of a CSE-Autoloss detection proxy that a search reads before any trial (the
# loss slot and its head, the training annotations of D_verify, the evaluator, the
# schedule); the objective job stands in for the training.
default_scope = 'mmdet'
model = dict(roi_head=dict(bbox_head=dict(num_classes=3, loss_cls=dict(
    type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))))
train_dataloader = dict(dataset=dict(data_root='cse_generations/data/',
                                     ann_file='instances_train.json'))
val_dataloader = dict(dataset=dict(data_root='cse_generations/data/',
                                   ann_file='instances_train.json'))
val_evaluator = dict(type='CocoMetric', metric='bbox',
                     ann_file='cse_generations/data/instances_train.json')
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=300)
randomness = dict(seed=0)
