# Auto Seg-Loss (ICLR 2021): DeepLabV3+ R101 on Cityscapes trained with the searched
# mIoU surrogate in place of cross entropy (ASL section 5, Table 2).
# The released curves were searched on VOC; ASL Table 3 (VOC -> Cityscapes) reports this
# transfer for the mIoU, BF1 and mAcc surrogates.
# As in the paper's re-training (DeepLabV3+ of Chen et al. 2018), there is no auxiliary head.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/seg_asl_metrics.py',
    '../_base_/losses/asl_voc_miou.py',
]
custom_imports = dict(imports=['mmautoloss'], allow_failed_imports=False)
val_evaluator = {{_base_.asl_seg_metrics}}
test_evaluator = val_evaluator
model = dict(
    decode_head=dict(loss_decode=[{{_base_.asl_miou}}]),
    auxiliary_head=None)
