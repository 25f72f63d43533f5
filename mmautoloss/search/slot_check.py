"""Before any trial is spent: is the candidate loss at each searched slot the loss the model
trains with?

The proxy is built with the candidate's losses, one training step runs on one batch of the
training data, and for each slot the check confirms that the module the model holds there
is the candidate's type, that the model calls it, and that its output reaches the total
loss with a non-zero gradient. A key that mmengine merged as a new setting, a disabled head,
a loss weighted by zero: each is named before the search starts.
"""
import copy
import importlib

import torch
from mmengine.config import Config
from torch import nn

from ..functional.formulas import FormulaError, parse_formula
from ..functional.formulas.released import RELEASED_FORMULAS
from .spaces import BaseSpace, FormulaSpace

#: config names of loss slots whose module attribute differs (mmpose heads build ``loss``
#: into ``loss_module``)
ATTRIBUTE_ALIASES = {'loss': 'loss_module'}


#: training steps the check may take before it judges a slot that has not moved the model
MAX_BATCHES = 3
#: formulas the check tries first at a formula slot, so that it trains with a loss whose
#: gradient moves the model: the cross-entropy of ALZ's sets, CSE's CEI, FLI and GIoU
CHECK_FORMULAS = ('Neg(Mul(Y,Log(P)))', *(RELEASED_FORMULAS[name].formula
                                          for name in ('CEI', 'FLI', 'GIoU')))


class SlotCheckError(ValueError):
    """A searched slot the model does not train with; the message names the slot."""


def slot_module(model: nn.Module, key: str) -> nn.Module:
    """The module of ``model`` at config key ``key`` (``'model.roi_head.bbox_head.loss_cls'``
    -> ``model.roi_head.bbox_head.loss_cls``); :class:`SlotCheckError` when the built model
    has none there."""
    node: object = model
    parts = key.split('.')[1:]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part.isdigit() and isinstance(node, (nn.ModuleList, list, tuple)):
            node = node[int(part)] if int(part) < len(node) else None
        else:
            found = getattr(node, part, None)
            if not isinstance(found, nn.Module) and last:
                found = getattr(node, ATTRIBUTE_ALIASES.get(part, part), None)
            node = found
        if node is None:
            raise SlotCheckError(f'slot {key}: the built model has no module at '
                                 f'{".".join(["model"] + parts[:index + 1])} (a key the config '
                                 f'merged as a new setting, or a head the model does not '
                                 f'build?)')
    if not isinstance(node, nn.Module):
        raise SlotCheckError(f'slot {key}: the model holds a {type(node).__name__} there, not '
                             f'a loss module')
    return node


def check_candidate(space: BaseSpace) -> dict[str, dict]:
    """The loss dicts the check trains with: at formula slots the first of
    :data:`CHECK_FORMULAS` the branch's set can write (else the space's example), else the
    space's example candidate (ASL / PAP: identity curves)."""
    candidate = space.example()
    if isinstance(space, FormulaSpace):
        for key, (pset, kind) in space.branches.items():
            for text in CHECK_FORMULAS:
                try:
                    candidate[key] = str(parse_formula(text, pset, kind))
                    break
                except FormulaError:
                    continue
    return space.to_overrides(space.check(candidate))


def _tensors(output: object) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in _tensors(item)]
    return []


def _moves_the_model(output: torch.Tensor, params: list[torch.Tensor]) -> bool:
    """Whether ``output`` has a non-zero gradient on some weight of the model."""
    grads = torch.autograd.grad(output.sum(), params, retain_graph=True, allow_unused=True)
    return any(g is not None and bool(g.abs().sum() > 0) for g in grads)


def check_slots(proxy_cfg: Config, overrides: dict[str, dict]) -> None:
    """Build ``proxy_cfg`` with ``overrides`` (slot key -> candidate loss dict), run one
    training step and check every slot (see the module doc); :class:`SlotCheckError` naming
    the first slot that fails."""
    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings

    cfg = copy.deepcopy(proxy_cfg)
    cfg.merge_from_dict(copy.deepcopy(overrides))
    scope = cfg.get('default_scope', 'mmengine')
    import_modules_from_strings(**dict(cfg.get('custom_imports', None) or
                                       dict(imports=['mmautoloss'])))
    with DefaultScope.overwrite_default_scope(scope):
        _check(cfg, scope, overrides)


def _check(cfg: Config, scope: str, overrides: dict[str, dict]) -> None:
    """:func:`check_slots` inside the config's default scope: training steps on up to
    :data:`MAX_BATCHES` batches, until every slot has been called and has moved the model
    (a sparse branch, e.g. box regression, may have no positive sample in one batch)."""
    from mmengine.runner import Runner
    registry = importlib.import_module(f'{scope}.registry').MODELS
    torch.manual_seed(0)
    model = registry.build(cfg.model)
    model.train()
    modules = {}
    for key, loss in overrides.items():
        modules[key] = slot_module(model, key)
        expected = str(loss.get('type', '')).split('.')[-1]
        if type(modules[key]).__name__ != expected:
            raise SlotCheckError(f'slot {key}: the model trains with a '
                                 f'{type(modules[key]).__name__} there, not the candidate\'s '
                                 f'{expected}')
    loader_cfg = copy.deepcopy(dict(cfg.train_dataloader))
    loader_cfg.update(num_workers=0, persistent_workers=False)
    batches = iter(Runner.build_dataloader(loader_cfg, seed=0))
    params = [p for p in model.parameters() if p.requires_grad]
    called: set[str] = set()
    moved: set[str] = set()
    reached: set[str] = set()
    for _ in range(MAX_BATCHES):
        outputs = _training_step_outputs(model, modules, next(batches))
        called |= set(outputs)
        moved |= {key for key, tensors in outputs.items()
                  if any(_moves_the_model(t, params) for t in tensors)}
        reached |= {key for key, tensors in outputs.items()
                    if any(t.grad is not None and bool(t.grad.abs().sum() > 0)
                           for t in tensors)}
        model.zero_grad(set_to_none=True)
        if called == moved == reached == set(overrides):
            return
    for key in overrides:
        if key not in called:
            raise SlotCheckError(f'slot {key}: the model never calls this loss in a training '
                                 f'step (a disabled head, or a loss its head does not use)')
        if key not in moved:
            raise SlotCheckError(f'slot {key}: its loss has a zero gradient on every weight '
                                 f'of the model in {MAX_BATCHES} batches (loss_weight 0, or '
                                 f'detached inputs?)')
        if key not in reached:
            raise SlotCheckError(f'slot {key}: its loss does not reach the total loss the '
                                 f'model trains on')


def _training_step_outputs(model: nn.Module, modules: dict[str, nn.Module],
                           batch: object) -> dict[str, list[torch.Tensor]]:
    """One forward of ``model`` in loss mode on ``batch`` and the backward of its total
    loss; the output tensors of each slot's module that the step called (their gradients
    retained)."""
    outputs: dict[str, list[torch.Tensor]] = {}

    def keeper(key: str):
        def keep(_module: nn.Module, _inputs: tuple, output: object) -> None:
            kept = outputs.setdefault(key, [])
            for tensor in _tensors(output):
                if tensor.requires_grad:
                    tensor.retain_grad()
                    kept.append(tensor)
        return keep

    handles = [module.register_forward_hook(keeper(key)) for key, module in modules.items()]
    try:
        data = model.data_preprocessor(batch, True)
        total, _ = model.parse_losses(model(**data, mode='loss'))
    finally:
        for handle in handles:
            handle.remove()
    total.backward(retain_graph=True)
    return outputs
