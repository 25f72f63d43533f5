"""Record what reaches each searched loss of a proxy, for the cheap filters (ALZ eq. 5-6).

B training samples go one at a time through a randomly initialised network built from the
proxy config itself; the loss module at every searched config key is wrapped by a recorder
that keeps (detached copies of) the arguments of each call and then runs the loss. Nothing
is extracted by task-specific code: a segmentation head, a detector's RPN and R-CNN heads
or a pose head record what they pass to their losses, one or several calls per sample (an
anchor head calls its loss once per feature level).
"""
import copy
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from mmengine.config import Config
from torch import nn


@dataclass
class LossCall:
    """The arguments of one call of a loss: positional and keyword, tensors detached."""

    args: tuple
    kwargs: dict


def _detach(value):
    if torch.is_tensor(value):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_detach(v) for v in value)
    if isinstance(value, dict):
        return {k: _detach(v) for k, v in value.items()}
    return value


class _Recorder(nn.Module):
    """Wraps a loss: records each call's arguments, then returns the loss's own value."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.inner = loss
        self.calls: list[LossCall] = []

    def forward(self, *args, **kwargs):
        self.calls.append(LossCall(_detach(args), _detach(kwargs)))
        return self.inner(*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)


def _attribute(node: nn.Module, part: str, key: str) -> str:
    """The attribute of ``node`` that config field ``part`` builds: the field itself, or
    ``<part>_module`` (mmpose's heads build ``loss=...`` into ``loss_module``)."""
    for name in (part, f'{part}_module'):
        if isinstance(getattr(node, name, None), nn.Module):
            return name
    raise ValueError(f'searched key {key!r}: the proxy model has no module {part!r}')


def module_at(model: nn.Module, key: str) -> nn.Module:
    """The module of a config key (``'model.roi_head.bbox_head.loss_cls'``): the attribute
    path after ``model.``; ``ValueError`` naming the key when the model has none."""
    parts = key.split('.')
    if parts[0] != 'model' or len(parts) < 2:
        raise ValueError(f'searched key {key!r} must start with "model."')
    node = model
    for part in parts[1:]:
        node = getattr(node, _attribute(node, part, key))
    return node


def _set_module(model: nn.Module, key: str, module: nn.Module) -> None:
    parts = key.split('.')
    parent = module_at(model, '.'.join(parts[:-1])) if len(parts) > 2 else model
    setattr(parent, _attribute(parent, parts[-1], key), module)


def capture_loss_calls(proxy_cfg: Config, keys: Sequence[str], num_samples: int,
                       seed: int) -> dict[str, list[list[LossCall]]]:
    """Per searched key, per sample, the loss calls of one training forward of a randomly
    initialised proxy network on ``num_samples`` training samples drawn with ``seed``."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, MODELS, DefaultScope, init_default_scope
    from mmengine.runner import set_random_seed

    cfg = copy.deepcopy(proxy_cfg)
    scope = cfg.get('default_scope', None)
    with DefaultScope.overwrite_default_scope(scope):
        if scope:
            init_default_scope(scope)
        torch.manual_seed(seed)
        # PyTorch's default initialisation at construction; eval mode so that batch norm
        # runs on single samples (the loss path does not depend on the mode)
        model = MODELS.build(cfg.model).eval()
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        if len(dataset) < num_samples:
            raise ValueError(f'the proxy training set has {len(dataset)} samples, fewer than '
                             f'the {num_samples} the filter asks for')
        recorders = {}
        for key in keys:
            recorders[key] = _Recorder(module_at(model, key))
            _set_module(model, key, recorders[key])
        captured: dict[str, list[list[LossCall]]] = {key: [] for key in keys}
        for number, index in enumerate(random.Random(seed).sample(range(len(dataset)),
                                                                  num_samples)):
            for recorder in recorders.values():
                recorder.calls = []
            # each sample's augmentation and sampler draws depend on (seed, sample) only
            set_random_seed(seed + 1 + number)
            data = model.data_preprocessor(pseudo_collate([dataset[index]]), True)
            with torch.no_grad():
                model(**data, mode='loss')
            for key, recorder in recorders.items():
                if not recorder.calls:
                    raise ValueError(f'searched key {key!r}: the proxy never called its loss')
                captured[key].append(recorder.calls)
    return captured
