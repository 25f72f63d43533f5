# AutoLoss-Zero proxy task on ToySeg (ALZ section 4.1, on CPU): the Auto Seg-Loss proxy
# (DeepLabV3+ with a quarter-width ResNet-18, 64x64, 300 iterations, the six metrics of ASL
# Table 1 with a 1 px boundary tolerance) trained with its default loss, mmseg's
# cross-entropy. The formula searches override `model.decode_head.loss_decode` with an
# ExprLoss per candidate. Data: `python tools/generate_toyseg.py --out data/toyseg`.
_base_ = '../proxies/asl_toyseg.py'
model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True, type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
