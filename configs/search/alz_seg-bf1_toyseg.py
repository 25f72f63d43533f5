# AutoLoss-Zero search for the boundary F1 score on ToySeg: the mIoU search with BF1 as the
# reward and as the loss-rejection metric (1 px tolerance, as the proxy's evaluator).
_base_ = './alz_seg-miou_toyseg.py'
reward_key = 'BF1'
searcher = dict(loss_rejection=dict(metric='BF1'))
