# Auto Seg-Loss search for BF1 on ToySeg: the mIoU search with another target metric.
# BF1 uses four one-piece Bezier curves (the authors' released BF1 loss).
_base_ = './asl_miou_toyseg.py'
# ToySeg's evaluator measures boundaries with a 1 px tolerance (its images are 64 px), so the
# surrogate is trained with the same tolerance.
search_space = dict(metric='BF1', num_segments=1, loss_options=dict(boundary_tolerance=1))
reward_key = 'BF1'
