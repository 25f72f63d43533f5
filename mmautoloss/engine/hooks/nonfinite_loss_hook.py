"""Stop a proxy training whose loss becomes NaN / Inf in its first iterations.

AutoLoss-Zero (Sec. 3.3, "Loss Rejection Protocol"; appendix A) stops a proxy
training whose loss is NaN or Inf within its first 20 iterations, so that a broken candidate
costs seconds instead of a full proxy run. The hook writes a marker file that the search's
trial judge reads to classify the trial as ``'nonfinite'``, then raises to end the job with a
non-zero exit code.
"""
from __future__ import annotations

import math
import os.path as osp
from typing import Any

import torch
from mmengine.hooks import Hook

from mmautoloss.registry import HOOKS

from ...utils.atomic_json import write_json_atomic

NONFINITE_MARKER_NAME = 'nonfinite.json'


class NonFiniteLossError(RuntimeError):
    """Raised by :class:`NonFiniteLossHook` to stop a job with a non-finite loss."""


def _as_float(value: Any) -> float | None:
    """Scalar loss value as a float (mean of a tensor), or None if it is not numeric."""
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean()) if value.numel() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training when a loss is NaN / Inf within the first ``check_iters`` iterations.

    After each training iteration (0-based ``runner.iter < check_iters``) every entry of the
    iteration's outputs whose name contains ``'loss'`` (``outputs['loss']`` is the total) is
    checked. On a non-finite value the hook writes ``<work_dir>/nonfinite.json`` with the
    iteration and the offending values, and raises :class:`NonFiniteLossError`.

    Args:
        check_iters (int): number of first iterations to check (AutoLoss-Zero uses 20).
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_iters: int = 20) -> None:
        if not isinstance(check_iters, int) or isinstance(check_iters, bool) or check_iters < 0:
            raise ValueError('check_iters must be an integer >= 0, got '
                             f'check_iters={check_iters!r}')
        self.check_iters = check_iters

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: dict | None = None) -> None:
        if runner.iter >= self.check_iters or not outputs:
            return
        bad = {}
        for name, value in outputs.items():
            if 'loss' not in name:
                continue
            number = _as_float(value)
            if number is not None and not math.isfinite(number):
                bad[name] = repr(number)
        if not bad:
            return
        marker = dict(iter=int(runner.iter), check_iters=self.check_iters, losses=bad)
        path = osp.join(runner.work_dir, NONFINITE_MARKER_NAME)
        write_json_atomic(path, marker)
        raise NonFiniteLossError(
            f'non-finite loss at iter {runner.iter} (checked the first {self.check_iters} '
            f'iterations): {bad}; wrote {path}')
