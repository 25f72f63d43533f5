# Auto Seg-Loss search for BIoU on ToySeg: the mIoU search with another target metric.
_base_ = './asl_miou_toyseg.py'
# ToySeg's evaluator measures boundaries with a 1 px tolerance (its images are 64 px), so the
# surrogate is trained with the same tolerance.
search_space = dict(metric='BIoU', loss_options=dict(boundary_tolerance=1))
reward_key = 'BIoU'
