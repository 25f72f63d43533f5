# Auto Seg-Loss search for FWIoU on ToySeg: the mIoU search with another target metric.
_base_ = './asl_miou_toyseg.py'
search_space = dict(metric='FWIoU')
reward_key = 'FWIoU'
