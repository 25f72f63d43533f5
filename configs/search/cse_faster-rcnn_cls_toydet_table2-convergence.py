# CSE-Autoloss Table 2, second row, on ToyDet: the validity check and the
# convergence-property verification (section 3.2.2), no model-optimisation simulation;
# every survivor trained on the proxy. The other settings are those of
# `cse_faster-rcnn_cls_toydet.py` (the third row: + simulation, top K trained).
_base_ = './cse_faster-rcnn_cls_toydet.py'
searcher = dict(simulation=None, max_simulated=None)
