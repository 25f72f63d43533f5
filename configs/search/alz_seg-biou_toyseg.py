# AutoLoss-Zero search for the boundary IoU on ToySeg: the mIoU search with BIoU as the
# reward and as the loss-rejection metric (1 px band, as the proxy's evaluator), and the
# target of the formulas replaced by the boundaries of the ground truth (ALZ appendix A.1:
# "for the boundary metrics, we use the pre-computed boundaries of y as the training
# targets"; primitive set 'alz-boundary').
_base_ = './alz_seg-miou_toyseg.py'
search_space = dict(primitive_set='alz-boundary')
reward_key = 'BIoU'
searcher = dict(loss_rejection=dict(metric='BIoU'))
