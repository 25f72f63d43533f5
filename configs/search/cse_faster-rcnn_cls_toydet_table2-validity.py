# CSE-Autoloss Table 2, first row, on ToyDet: the vanilla evolution with the
# computational-validity check only (NaN / Inf losses or gradients are dropped; no
# convergence-property verification, no simulation), every survivor trained on the proxy
# as the paper's row evaluates them all. The other settings are those of
# `cse_faster-rcnn_cls_toydet.py` (the third row), so the three rows differ in their
# filters only (and no cap on the survivors: `max_simulated=None`); compare their stage
# counts (`best.json`: `generations`) and best AP.
_base_ = './cse_faster-rcnn_cls_toydet.py'
searcher = dict(convergence=dict(properties=False), simulation=None, max_simulated=None)
