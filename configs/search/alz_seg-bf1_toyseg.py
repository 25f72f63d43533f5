# AutoLoss-Zero search for the boundary F1 score on ToySeg: the mIoU search with BF1 as the
# reward and as the loss-rejection metric (1 px tolerance, as the proxy's evaluator), and the
# target of the formulas replaced by the boundaries of the ground truth (ALZ appendix A.1:
# "for the boundary metrics, we use the pre-computed boundaries of y as the training
# targets"; primitive set 'alz-boundary').
_base_ = './alz_seg-miou_toyseg.py'
search_space = dict(primitive_set='alz-boundary')
reward_key = 'BF1'
searcher = dict(loss_rejection=dict(metric='BF1'))
