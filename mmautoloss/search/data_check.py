"""Before the first round: does every split a search trains, rewards and reports on exist?

A proxy trains on its training split, is rewarded on its validation split (the search
split) and a re-training target reports on its test split; a missing one would otherwise
surface as every trial crashing on a missing file. The ToySeg / ToyDet / ToyPose sets
written before their ``search`` split existed are the common case (their generators add
it when run again). Only local paths a config names under a ``data_root`` are checked (a
dataset without one, or on a storage backend such as ``s3://``, is left to the slot
check's training step).
"""
from __future__ import annotations

import os.path as osp

from mmengine.config import Config

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')


def _inner_dataset(dataset: object) -> object:
    """The dataset a wrapper (``HeldOutSplit``, ``RepeatDataset``, ...) holds, innermost."""
    while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset


def _dataset_paths(dataset: object) -> list[str]:
    """The files and folders a dataset config names under its ``data_root``."""
    dataset = _inner_dataset(dataset)
    if not isinstance(dataset, dict) or not isinstance(dataset.get('data_root'), str) or \
            not dataset['data_root']:
        return []
    root = dataset['data_root']
    if '://' in root:
        return []
    names = [dataset.get('ann_file')] + list((dataset.get('data_prefix') or {}).values())
    return [osp.join(root, name) for name in names if isinstance(name, str) and name]


def missing_data(cfg: Config) -> list[str]:
    """``'<setting>: <path>'`` for every dataset file or folder and evaluator annotation
    file the config names that does not exist."""
    missing = []
    for key in LOADERS:
        loader = cfg.get(key, None)
        if isinstance(loader, dict):
            missing += [f'{key}: {p}' for p in _dataset_paths(loader.get('dataset'))
                        if not osp.exists(p)]
    for key in EVALUATORS:
        evaluator = cfg.get(key, None)
        for metric in evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]:
            ann_file = metric.get('ann_file') if isinstance(metric, dict) else None
            if isinstance(ann_file, str) and ann_file and '://' not in ann_file and \
                    not osp.exists(ann_file):
                missing.append(f'{key}: {ann_file}')
    return list(dict.fromkeys(missing))
