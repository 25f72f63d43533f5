# The AutoLoss-Zero mIoU search on ToySeg at a length that can show what it finds on this
# machine (issue 24): the paper's K = 20 random initial losses, then 14 generations of 3
# offspring, 62 proxy trainings in all (the paper: 500), the loss-rejection protocol's CPU
# preset (see configs/alz/README.md), and a re-training stage: the best searched loss beside
# mmseg's CrossEntropyLoss (the proxy's own loss, `baseline`) and the Auto Seg-Loss mIoU
# surrogate with identity curves, 3 seeds each on the proxy's schedule. About an hour on 2
# CPU cores. Data first: `python tools/generate_toyseg.py --out data/toyseg`.
_base_ = './alz_seg-miou_toyseg.py'
searcher = dict(population_size=20)
budget = dict(rounds=15, samples_per_round=3)
retrain = dict(
    schedule_factor=1,
    top_k=1,
    seeds=3,
    baseline='CrossEntropyLoss',
    baselines={
        'ASL-mIoU-identity': {
            'model.decode_head.loss_decode':
            dict(_delete_=True, type='AutoSegLoss', metric='mIoU', num_classes=5)
        }
    })
