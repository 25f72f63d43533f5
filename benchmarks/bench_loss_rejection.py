"""Throughput of AutoLoss-Zero's loss-rejection protocol (ALZ section 3.2, eq. 5-6).

Random initial formulas (depth 3, the ALZ primitive set) are judged against the loss inputs
captured from each task's proxy (B = 5 generated training samples, a randomly initialised
network built from the proxy config); prints candidates per minute and the fraction
accepted / rejected / invalid per searched branch. Settings are those of the search
configs (``configs/search/alz_*.py``: the ``cpu`` preset); ``--preset paper`` runs the paper's
500 steps at lr 0.001. The paper reports 500-1000 per minute on one GPU.

Usage: ``python benchmarks/bench_loss_rejection.py [--candidates 300] [--threads 2]
[--preset cpu|paper]``.
"""
import argparse
import collections
import os
import random
import tempfile
import time

import torch


def _tasks(root: str):
    from mmengine.config import Config

    from mmautoloss.datasets.toy_detection import generate_toydet
    from mmautoloss.datasets.toy_pose import generate_toypose
    from mmautoloss.datasets.toy_segmentation import generate_toyseg
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    generate_toyseg(os.path.join(root, 'toyseg'), seed=0, num_train=6, num_val=2)
    generate_toydet(os.path.join(root, 'toydet') + '/', seed=0, num_train=6, num_val=2)
    generate_toypose(os.path.join(root, 'toypose'), seed=0, num_train=6, num_val=2)
    seg = Config.fromfile(os.path.join(repo, 'configs/proxies/alz_toyseg.py'))
    seg.train_dataloader.dataset.data_root = os.path.join(root, 'toyseg')
    det = Config.fromfile(os.path.join(repo, 'configs/proxies/alz_toydet_faster-rcnn.py'))
    det.train_dataloader.dataset.data_root = os.path.join(root, 'toydet') + '/'
    ins = Config.fromfile(os.path.join(repo, 'configs/proxies/alz_toydet_mask-rcnn.py'))
    ins.train_dataloader.dataset.data_root = os.path.join(root, 'toydet') + '/'
    pose = Config.fromfile(os.path.join(repo, 'configs/proxies/alz_toypose_heatmap.py'))
    pose.train_dataloader.dataset.data_root = os.path.join(root, 'toypose') + '/'
    seg_branch = {'model.decode_head.loss_decode': 'seg'}
    det_branches = {'model.rpn_head.loss_cls': 'sigmoid_cls',
                    'model.rpn_head.loss_bbox': 'box',
                    'model.roi_head.bbox_head.loss_cls': 'softmax_cls',
                    'model.roi_head.bbox_head.loss_bbox': 'box'}
    return [('segmentation, mIoU', seg, seg_branch, dict(metric='mIoU')),
            ('segmentation, BF1', seg, seg_branch, dict(metric='BF1')),
            ('detection (Faster R-CNN)', det, det_branches,
             dict(threshold=0.1, early_check=0)),
            ('instance segmentation (Mask R-CNN)', ins,
             {'model.roi_head.mask_head.loss_mask': 'mask'}, dict(threshold=0.1,
                                                                  early_check=0)),
            ('pose (heatmaps)', pose, {'model.head.loss': 'heatmap'},
             dict(threshold=0.1, early_check=0))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--candidates', type=int, default=300)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--preset', choices=('cpu', 'paper'), default='cpu')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import mmautoloss  # noqa: F401
    from mmautoloss.functional.formulas import get_primitive_set
    from mmautoloss.search.filters import LossRejection
    from mmautoloss.search.variation import random_formula
    alz = get_primitive_set('alz')
    print(f'loss rejection of {args.candidates} random depth-3 formulas per branch, '
          f'{args.threads} thread(s), preset {args.preset!r}')
    print(f'{"task / branch":<58}{"per min":>9}{"accepted":>10}{"rejected":>10}'
          f'{"invalid":>9}')
    with tempfile.TemporaryDirectory() as root:
        for title, cfg, branches, options in _tasks(root):
            protocol = LossRejection(cfg, {k: (alz, v) for k, v in branches.items()},
                                     **dict(options, preset=args.preset))
            protocol.calls  # capture once, outside the timing
            for key, kind in branches.items():
                rng = random.Random(0)
                formulas = [str(random_formula(alz, kind, 3, rng))
                            for _ in range(args.candidates)]
                counts = collections.Counter()
                start = time.perf_counter()
                for formula in formulas:
                    counts[protocol.judge(key, formula).status] += 1
                rate = args.candidates / (time.perf_counter() - start) * 60
                name = f'{title}: {key.split(".", 1)[1]}'
                print(f'{name:<58}{rate:>9.0f}' + ''.join(
                    f'{counts[s] / args.candidates:>10.1%}'
                    for s in ('accepted', 'rejected')) +
                    f'{counts["invalid"] / args.candidates:>9.1%}')


if __name__ == '__main__':
    main()
