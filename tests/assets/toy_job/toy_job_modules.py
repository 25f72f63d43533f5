"""A toy regression task (y = 2x + 1) for real mmengine Runner jobs in the tests.

Imported by the job process through ``custom_imports`` (the tests put this directory on
``PYTHONPATH``). ``ToyRegressor(nan_from_iter=k)`` multiplies its loss by NaN from its k-th
training forward on, to exercise the non-finite loss check. At its first training forward
``ToyRegressor(probe_dir=D)`` writes ``D/job_probe.json`` (what the job process sees: its
ids, environment, working directory, argv, torch threads, draws of the global generators),
and ``fault`` misbehaves: ``'hang'`` starts a grandchild, writes both pids and their start
times to ``D/pids.json`` (:func:`~mmautoloss.testing.processes.write_pids`) and sleeps
forever (``'hang_ignoring_term'``: both ignore SIGTERM),
``'raise'`` raises RuntimeError, ``'exit'`` calls ``sys.exit(3)``.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from torch import nn
from torch.utils.data import Dataset

from mmautoloss.testing.processes import write_pids


@DATASETS.register_module(force=True)
class ToyRegressionDataset(Dataset):
    """``num_samples`` points x ~ U[0, 1) (seeded), target y = 2x + 1."""

    def __init__(self, num_samples: int = 16, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.rand(num_samples, 1, generator=generator)
        self.y = 2 * self.x + 1

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.x[index], data_samples=self.y[index])


@MODELS.register_module(force=True)
class ToyRegressor(BaseModel):
    """One linear unit trained with MSE."""

    def __init__(self, nan_from_iter: int = -1, probe_dir: str = '',
                 fault: str = 'none') -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.nan_from_iter = nan_from_iter
        self.probe_dir = probe_dir
        self.fault = fault
        self.train_forwards = 0

    def _probe(self) -> None:
        with open(os.path.join(self.probe_dir, 'job_probe.json'), 'w') as f:
            json.dump(dict(pid=os.getpid(), pgid=os.getpgid(0), sid=os.getsid(0),
                           ppid=os.getppid(), env=dict(os.environ), cwd=os.getcwd(),
                           argv=sys.argv, torch_threads=torch.get_num_threads(),
                           python_random=random.random(), numpy_random=np.random.rand(),
                           stdin=os.readlink('/proc/self/fd/0')), f)

    def _misbehave(self) -> None:
        if self.fault == 'raise':
            raise RuntimeError('toy job fault')
        if self.fault == 'exit':
            sys.exit(3)
        if self.fault.startswith('hang'):
            if self.fault == 'hang_ignoring_term':
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the grandchild
            child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
            write_pids(os.path.join(self.probe_dir, 'pids.json'),
                       dict(job=os.getpid(), grandchild=child.pid))
            while True:
                time.sleep(1)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        pred = self.linear(inputs)
        if mode != 'loss':
            return pred
        if self.train_forwards == 0:
            if self.probe_dir:
                self._probe()
            self._misbehave()
        loss = F.mse_loss(pred, data_samples)
        if 0 <= self.nan_from_iter <= self.train_forwards:
            loss = loss * float('nan')
        self.train_forwards += 1
        return dict(loss_mse=loss)


@METRICS.register_module(force=True)
class ToyMSEMetric(BaseMetric):
    """Validation MSE and its negation (a reward to maximise): keys toy/mse, toy/score."""

    default_prefix = 'toy'

    def process(self, data_batch: dict, data_samples) -> None:
        for pred, target in zip(data_samples, data_batch['data_samples']):
            self.results.append(float(((pred - target) ** 2).sum()))

    def compute_metrics(self, results: list) -> dict:
        mse = sum(results) / len(results)
        return dict(mse=mse, score=-mse)
