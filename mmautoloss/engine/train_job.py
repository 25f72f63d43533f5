"""Run one training job (train + validation) from an mmengine config of any task library.

``python -m mmautoloss.engine.train_job CONFIG --work-dir D [--launcher none|pytorch]
[--cfg-options k=v ...] [--resume]``

It follows the ``tools/train.py`` of MMDetection / MMSegmentation / MMPose, generic over the
config's ``default_scope``: building the runner with that scope makes mmengine import the
matching library (mmdet, mmseg or mmpose), and mmautoloss is imported so that its losses,
heads, metrics and hooks resolve. It is the default job of a search trial
(:class:`mmautoloss.search.executors.LocalExecutor`) and the body of ``tools/train.py``.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
from collections.abc import Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmautoloss  # noqa: F401  (registers mmautoloss components, search hooks included)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train (and validate) a model from a config')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='directory for logs, checkpoints and metrics.json')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs in xxx=yyy format')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The config of the job: file + ``--cfg-options`` + launcher, work dir and resume."""
    if not osp.isfile(args.config):
        raise ValueError(f'config={args.config!r} is not a file')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.resume:
        cfg.resume = True
        cfg.load_from = None
    return cfg


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
