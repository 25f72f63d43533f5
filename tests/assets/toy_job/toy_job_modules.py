"""A toy regression task (y = 2x + 1) for real mmengine Runner jobs in the tests.

Imported by the job process through ``custom_imports`` (the tests put this directory on
``PYTHONPATH``). ``ToyRegressor(nan_from_iter=k)`` multiplies its loss by NaN from its k-th
training forward on, to exercise the non-finite loss check.
"""
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from torch import nn
from torch.utils.data import Dataset


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

    def __init__(self, nan_from_iter: int = -1) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.nan_from_iter = nan_from_iter
        self.train_forwards = 0

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        pred = self.linear(inputs)
        if mode != 'loss':
            return pred
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
