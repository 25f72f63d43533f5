"""Resuming an mmengine Runner on torch >= 2.6 (weights_only=True by default) works after
``import mmautoloss``, while the safe loader still rejects what it should."""
import os
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmautoloss  # noqa: F401  (registers the safe globals)


class LineModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='tensor'):
        out = self.linear(inputs).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - targets)**2).mean())
        return out


class LineData(Dataset):

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index):
        return dict(inputs=torch.tensor([index / 8, 1.0]), targets=torch.tensor(index / 4))


def make_runner(work_dir: str, max_iters: int, resume: bool) -> Runner:
    return Runner(
        model=LineModel(), work_dir=work_dir,
        train_dataloader=dict(dataset=LineData(), batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[3], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        resume=resume, randomness=dict(seed=0), default_scope='mmengine')


def test_runner_resumes_with_weights_only_default(tmp_path):
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, 2, resume=False).train()
    checkpoint = os.path.join(work_dir, 'iter_2.pth')
    saved = torch.load(checkpoint)  # the torch >= 2.6 default: weights_only=True
    assert saved['meta']['iter'] == 2
    assert 'loss' in saved['message_hub']['log_scalars'] or \
        'train/loss' in saved['message_hub']['log_scalars']

    runner = make_runner(work_dir, 4, resume=True)
    runner.train()
    assert runner.iter == 4
    # the optimizer's momentum buffers came back from the checkpoint, not from scratch
    assert runner.optim_wrapper.optimizer.state


class Payload:
    """Unpickles as ``getattr(HistoryBuffer, 'update')``: an allowed class, a disallowed
    attribute (a hostile checkpoint reaches code the same way)."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'update'))


class NotAllowed:
    """A class nobody allowlisted."""


def test_arbitrary_getattr_and_classes_stay_rejected(tmp_path):
    hostile = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {}, 'x': Payload()}, hostile)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics'):
        torch.load(hostile)
    unknown = tmp_path / 'unknown.pth'
    torch.save({'x': NotAllowed()}, unknown)
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        torch.load(unknown)
