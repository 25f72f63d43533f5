# Auto Seg-Loss search for mAcc on ToySeg: the mIoU search with another target metric.
_base_ = './asl_miou_toyseg.py'
search_space = dict(metric='mAcc')
reward_key = 'mAcc'
