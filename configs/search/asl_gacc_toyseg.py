# Auto Seg-Loss search for gAcc on ToySeg: the mIoU search with another target metric.
# gAcc is mmseg IoUMetric's aAcc (global pixel accuracy).
_base_ = './asl_miou_toyseg.py'
search_space = dict(metric='gAcc')
reward_key = 'aAcc'
