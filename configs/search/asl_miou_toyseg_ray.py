# The Auto Seg-Loss mIoU search of asl_miou_toyseg.py with its trials on a Ray cluster
# (README "Searching on a Ray cluster"): one Ray task per proxy training, on the resources
# below; the driver alone writes the journal. For several nodes, run it from a directory
# every node sees at the same path (the data and the work dir below must be on it).
#   ray start --head --port=6379          # then on each other node:
#   ray start --address=<head-ip>:6379
#   python tools/search.py configs/search/asl_miou_toyseg_ray.py
_base_ = './asl_miou_toyseg.py'
executor = dict(
    _delete_=True,
    type='RayExecutor',
    address='auto',  # the cluster this node belongs to
    gpus_per_trial=0,  # e.g. 0.25: four ASL proxies share a GPU, as the paper trained them
    cpus_per_trial=1,
    max_retries=2,  # retries of a trial whose worker or node died
    nonfinite_check_iters=20)
work_dir = 'work_dirs/search/asl_miou_toyseg_ray'
