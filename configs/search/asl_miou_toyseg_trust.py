# The main job's Auto Seg-Loss search (asl_miou_toyseg.py: the same 2 rounds x 3 proxy
# trainings on ToySeg's search split) with the full re-training evidence of a searched
# loss: 5 seeds per entry (the default), two targets (ToySeg's val split and ToySeg-B, the
# transfer set with other objects), cross-entropy as it is and tuned (a learning-rate sweep
# of 5 factors chosen on the search split), 2 calibration candidates so that the proxy's
# Kendall tau sees more than the winner, and the winner and baselines re-trained at half and
# twice the learning rate. 101 trainings, about an hour on 2 CPU cores.
# Data: `python tools/generate_toyseg.py` and `python tools/generate_toyseg.py --out
# data/toyseg-b --shapes b` (tools/main_job.sh writes both).
_base_ = './asl_miou_toyseg.py'
retrain = dict(  # merged into the main job's retrain
    config=[None, 'configs/proxies/asl_toyseg-b.py'],
    seeds=5,
    calibration=2,
    tune_baselines=dict(lr_factors=[0.25, 0.5, 1, 2, 4]),
    perturb=dict(lr=[0.5, 2]))
