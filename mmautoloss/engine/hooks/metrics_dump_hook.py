"""Write the latest validation metrics of a job to ``<work_dir>/metrics.json``.

This file is the trial job contract of the loss search: the reward of a candidate loss
(mIoU, mAP, BF1, keypoint AP, ... as in Auto Seg-Loss eq. (5) / PAP eq. (9): the evaluation
metric of the proxy network trained with the candidate) is read back from it. It is written
after every validation epoch, atomically (temporary file + ``os.replace``), so a reader never
sees a half-written file and a killed job leaves the last complete evaluation. Each
validation is also appended as one line ``{"iter": ..., "epoch": ..., "metrics": {...}}`` to
``metrics_history.jsonl``, which the search's early stopping (ASHA) reads while the job runs.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmautoloss.registry import HOOKS

from ...utils.atomic_json import write_json_atomic

METRICS_NAME = 'metrics.json'
HISTORY_NAME = 'metrics_history.jsonl'


def _to_json_value(value: Any) -> Any:
    """Tensors / numpy values as python numbers or lists; anything else as ``str``."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        value = value.tolist()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v) for v in value]
    return str(value)


@HOOKS.register_module()
class MetricsDumpHook(Hook):
    """After each validation epoch, write its metrics (flat dict) to ``metrics.json``.

    Only the main process writes. Non-finite floats are written as JSON ``NaN`` /
    ``Infinity`` so that the reader can see and reject them.

    Args:
        filename (str): name of the file inside ``runner.work_dir``.
    """

    priority = 'LOW'

    def __init__(self, filename: str = METRICS_NAME) -> None:
        if not isinstance(filename, str) or not filename or osp.basename(filename) != filename:
            raise ValueError(f'filename must be a plain file name, got filename={filename!r}')
        self.filename = filename

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        if not is_main_process() or metrics is None:
            return
        flat = {str(k): _to_json_value(v) for k, v in metrics.items()}
        write_json_atomic(osp.join(runner.work_dir, self.filename), flat)
        line = json.dumps(dict(iter=runner.iter, epoch=runner.epoch, metrics=flat))
        with open(osp.join(runner.work_dir, HISTORY_NAME), 'a', encoding='utf-8') as f:
            f.write(line + '\n')  # one write: a reader sees whole lines or a torn last one
