# Auto Seg-Loss proxy task on ToySeg (ASL section 4.3, Algorithm 1): DeepLabV3+ with a
# quarter-width ResNet-18 trained for 300 iterations at 64x64 on CPU (run it with
# OMP_NUM_THREADS=1 on a shared machine), evaluated with the six metrics of ASL Table 1
# (boundary metrics with a 1 px tolerance; search BIoU / BF1 with boundary_tolerance=1).
# The search engine overrides `model.decode_head.loss_decode` with each candidate loss.
# Data: `python tools/generate_toyseg.py --out data/toyseg`.
_base_ = [
    '../_base_/models/deeplabv3plus_r18_toyseg.py',
    '../_base_/datasets/toyseg.py',
    '../_base_/seg_default_runtime.py',
    '../_base_/schedules/seg_proxy_300it.py',
]
randomness = dict(seed=0)
