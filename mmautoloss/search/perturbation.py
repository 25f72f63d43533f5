"""Perturbed re-training: does the searched loss still win when the schedule changes?

A searched loss is fitted to one optimiser setting; Auto Seg-Loss's readers asked whether
its parameters still hold when the learning rate or the batch size change. A search
config asks for the check with::

    retrain = dict(..., perturb=dict(lr=[0.5, 2], batch_size=[0.5]))

For each setting and factor, the winner of the search (``rank1``) and every baseline
(its tuned version where it has one) re-train on the first target with that setting
multiplied by the factor (``optim_wrapper.optimizer.lr``; ``train_dataloader.batch_size``,
rounded, at least 1), as entries named ``<entry>.<setting>x<factor>`` (kind ``'perturbed'``). The
report (:func:`~.report.perturbed_ranking`) says for each perturbation whether the
entries keep their order and how the searched loss fares against each baseline, paired
by seed.
"""
from __future__ import annotations

import copy

from mmengine.config import Config

from .baseline_tuning import LR_KEY, config_lr, is_factor_list
from .structures import get_config_key

BATCH_SIZE_KEY = 'train_dataloader.batch_size'
PERTURB_SETTINGS = ('lr', 'batch_size')


def check_perturb(options: object, configs: list[Config], error: type = ValueError) -> dict:
    """``retrain.perturb`` checked: a dict from ``'lr'`` / ``'batch_size'`` to a non-empty
    list of distinct positive factors other than 1, each setting present in every target
    config."""
    if not isinstance(options, dict) or not options or not set(options) <= set(
            PERTURB_SETTINGS):
        raise error(f'retrain.perturb must map some of {list(PERTURB_SETTINGS)} to lists of '
                    f'factors, got {options!r}')
    checked = {}
    for setting, factors in options.items():
        if not is_factor_list(factors, allow_one=False):
            raise error(f'retrain.perturb.{setting} must be a non-empty list of distinct '
                        f'positive factors other than 1, got {factors!r}')
        for cfg in configs:
            if setting == 'lr':
                config_lr(cfg, 'retrain.perturb.lr', error)
            else:
                size = _batch_size(cfg, error)
                if size < 1:
                    raise error(f'retrain.perturb.batch_size scales {BATCH_SIZE_KEY}, which '
                                f'is {size!r}')
        checked[setting] = [float(f) for f in factors]
    return checked


def _batch_size(cfg: Config, error: type) -> int:
    try:
        size = get_config_key(cfg, BATCH_SIZE_KEY)
    except ValueError as err:
        raise error(f'retrain.perturb.batch_size scales {BATCH_SIZE_KEY}: {err}') from err
    if not isinstance(size, int) or isinstance(size, bool):
        raise error(f'retrain.perturb.batch_size scales {BATCH_SIZE_KEY}, which is {size!r}')
    return size


def perturbed_entries(entries: list[dict], perturb: dict) -> list[dict]:
    """The plan's perturbed entries: ``rank1`` and each baseline of ``entries`` (its
    tuned version where there is one) under each (setting, factor) of ``perturb``."""
    tuned = {e['tuned_of'] for e in entries if e['kind'] == 'tuned'}
    chosen = [e for e in entries if e['name'] == 'rank1' or e['kind'] == 'tuned'
              or (e['kind'] == 'baseline' and e['name'] not in tuned)]
    return [dict(copy.deepcopy(entry), name=f'{entry["name"]}.{setting}x{factor:g}',
                 kind='perturbed', of=entry['name'], of_kind=entry['kind'],
                 perturb={setting: factor})
            for setting, factors in perturb.items() for factor in factors
            for entry in chosen]


def trains_on(entry: dict, target_index: int) -> bool:
    """Whether the plan trains ``entry`` on target ``target_index`` (a perturbed entry on the
    first target only)."""
    return target_index == 0 or entry['kind'] != 'perturbed'


def scaled_settings(cfg: Config, lr_factor: float, batch_factor: float) -> dict:
    """Config overrides for the learning rate and batch size scaled by these factors
    (none for a factor of 1)."""
    overrides: dict = {}
    if lr_factor != 1:
        overrides[LR_KEY] = config_lr(cfg, 'lr factor') * lr_factor
    if batch_factor != 1:
        overrides[BATCH_SIZE_KEY] = max(1, round(_batch_size(cfg, ValueError) * batch_factor))
    return overrides
