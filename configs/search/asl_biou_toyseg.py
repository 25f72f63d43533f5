# Auto Seg-Loss search for BIoU on ToySeg: the mIoU search with another target metric.
_base_ = './asl_miou_toyseg.py'
search_space = dict(metric='BIoU')
reward_key = 'BIoU'
