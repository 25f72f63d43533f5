# The ASL proxy trained and reported on ToySeg-B, the transfer set (the same five classes,
# other objects: ellipses, triangles, arcs, square outlines): a re-training target that
# says whether a loss searched on ToySeg holds on data whose objects the search never saw.
# Data: `python tools/generate_toyseg.py --out data/toyseg-b --shapes b`.
_base_ = './asl_toyseg.py'
data_root = 'data/toyseg-b'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
