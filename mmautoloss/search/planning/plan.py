"""A search planned on a user's own training config: its slots and method, a proxy derived
from it, a search config for the method, and a forecast measured on this machine
(``tools/plan_search.py``)."""
import copy
import math
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, field

from mmengine.config import Config

from ...datasets.held_out_split import split_indices
from ..retraining import DEFAULT_SEEDS
from .forecast import Forecast, TrialTiming, probe_trial, proxy_trainings, size_budget
from .loss_slots import LossSlot, config_value, find_loss_slots, load_config
from .method_plan import (
    PAPER_BUDGET,
    PAPER_POPULATION,
    MethodPlan,
    merge_override,
    nested_override,
    plan_method,
)
from .proxy_config import (
    HELD_OUT_STEP,
    count_training_images,
    dataset_length,
    held_out_evaluator,
    proxy_overrides,
    user_total_iters,
)

#: the order in which a method is picked when ``--method`` is not given
DEFAULT_METHOD_ORDER = ('asl', 'pap', 'alz')
#: re-training seeds of the planned search: the stage's default (5; ASL section 5 and ALZ
#: section 4 report 3 runs, too few for a paired test to say "better")
RETRAIN_SEEDS = DEFAULT_SEEDS


@dataclass
class PlanRequest:
    """What ``tools/plan_search.py`` was asked (see its ``--help``)."""
    config: str
    method: str | None = None
    slots: list[str] | None = None
    metric: str | None = None
    budget_hours: float | None = None
    gpus: int = 0
    gpus_per_trial: float = 1
    proxy_iters: int = 300
    train_fraction: float = 1.0
    out: str | None = None
    probe_iters: int = 12
    seed: int = 0
    rounds: int | None = None
    samples: int | None = None


@dataclass
class Plan:
    """A written plan: its files, choices and forecast."""
    method_plan: MethodPlan
    proxy_path: str
    search_path: str
    target_path: str
    budget: dict
    population: int | None
    timing: TrialTiming
    forecast: Forecast
    split: dict = field(default_factory=dict)


def choose(slots: list[LossSlot], method: str | None,
           keys: list[str] | None) -> tuple[str, list[LossSlot]]:
    """The method and the slots to search; ``ValueError`` naming an unknown key or a
    method that applies to none of the slots."""
    by_key = {slot.key: slot for slot in slots}
    if keys:
        unknown = [key for key in keys if key not in by_key]
        if unknown:
            raise ValueError(f'--slots {unknown[0]!r} is not a loss slot of this config; its '
                             f'slots: {list(by_key)}')
        chosen = [by_key[key] for key in keys]
        if method is None:
            common = [m for m in DEFAULT_METHOD_ORDER + ('cse', )
                      if all(m in slot.methods for slot in chosen)]
            if not common:
                raise ValueError(f'no method of this package searches all of --slots '
                                 f'{keys}: {[(s.key, s.note or list(s.methods)) for s in chosen]}')
            method = common[0]
        return method, chosen
    order = DEFAULT_METHOD_ORDER if method is None else (method, )
    for candidate in order:
        chosen = [slot for slot in slots if candidate in slot.methods]
        if chosen:
            return candidate, chosen[:1] if candidate in ('asl', 'cse') else chosen
    supported = sorted({m for slot in slots for m in slot.methods})
    raise ValueError(f'--method {method or "(any)"} applies to no slot of this config; '
                     f'methods that apply: {supported or "none"} '
                     f'({[(s.key, s.note) for s in slots if s.note]})')


def _custom_imports(cfg: Config) -> dict:
    imports = dict(cfg.get('custom_imports', None) or {})
    modules = list(imports.get('imports', []))
    imports['imports'] = modules + ['mmautoloss'] * ('mmautoloss' not in modules)
    imports.setdefault('allow_failed_imports', False)
    return imports


def _write(path: str, header: list[str], base: str | None, body: dict) -> str:
    lines = [f'# {line}' if line else '#' for line in header]
    if base is not None:
        lines.append(f'_base_ = {base!r}')
    text = '\n'.join(lines) + '\n' + Config(copy.deepcopy(body)).pretty_text
    with open(path, 'w') as f:
        f.write(text)
    Config.fromfile(path)  # what was written must read back
    return path


def _base_path(config: str) -> str:
    return config if '::' in config else osp.abspath(config)


def _iters_per_epoch(cfg: Config, images: int) -> int:
    batch = int(cfg.train_dataloader.get('batch_size', 1))
    return max(1, math.ceil(images / batch))


def _validations(cfg: Config, iters_per_epoch: int) -> int:
    train_cfg = cfg.get('train_cfg', None) or {}
    interval = int(train_cfg.get('val_interval', 1))
    if 'max_iters' in train_cfg:
        return max(1, int(train_cfg['max_iters']) // interval)
    return max(1, int(train_cfg.get('max_epochs', 1)) // interval)


def make_plan(request: PlanRequest, log=print) -> Plan:
    """Write the proxy, re-training target and search configs of
    ``request`` under its ``out`` directory, probe the proxy's timing and return the plan.
    ``ValueError`` naming the setting for anything that cannot be planned."""
    cfg = load_config(request.config)
    slots = find_loss_slots(cfg)
    method, chosen = choose(slots, request.method, request.slots)
    mplan = plan_method(cfg, chosen, method, request.metric)
    name = osp.splitext(osp.basename(request.config.split('::')[-1]))[0]
    out = request.out or osp.join('work_dirs', 'plan', name)
    os.makedirs(out, exist_ok=True)
    if request.proxy_iters < 10:
        raise ValueError(f'--proxy-iters must be >= 10, got {request.proxy_iters}')

    images = count_training_images(cfg)
    train = split_indices(images, HELD_OUT_STEP, 'train', request.train_fraction)
    held_out = split_indices(images, HELD_OUT_STEP, 'held_out')
    ipe = _iters_per_epoch(cfg, images)
    proxy = proxy_overrides(cfg, request.proxy_iters, ipe, request.train_fraction,
                            request.seed)
    if mplan.evaluator_metrics:
        evaluator = held_out_evaluator(cfg)
        proxy['val_evaluator'] = (evaluator if isinstance(evaluator, list) else
                                  [evaluator]) + copy.deepcopy(mplan.evaluator_metrics)
    merge_override(proxy, copy.deepcopy(mplan.model_changes))
    for key, loss in mplan.proxy_losses.items():
        merge_override(proxy, nested_override(key, copy.deepcopy(loss)))
    proxy['custom_imports'] = _custom_imports(cfg)
    base = _base_path(request.config)
    proxy_path = _write(osp.join(out, 'proxy.py'), [
        f'Proxy of {request.config}, written by tools/plan_search.py.',
        f'Derived: {request.proxy_iters} iterations (IterBasedTrainLoop) with the config\'s '
        f'parameter schedulers scaled to them;',
        f'one validation at the end on {len(held_out)} of the {images} training '
        f'images (every {HELD_OUT_STEP}th, HeldOutSplit),',
        f'held out from the {len(train)} it trains on (--train-fraction '
        f'{request.train_fraction:g}); the config\'s own val / test split is left for the '
        f're-training report;',
        'COCO-style evaluators read the held-out ground truth from the samples (ann_file '
        'None); no checkpoints; seed fixed.',
        *mplan.notes], base, proxy)

    target_path = _write(osp.join(out, 'target.py'), [
        f'Re-training target: {request.config} unchanged'
        + (' but for the heads the method needs:' if mplan.model_changes else '.'),
        *[note for note in mplan.notes if 'head' in note or 'reg_decoded_bbox' in note]],
        base, dict(copy.deepcopy(mplan.model_changes), custom_imports=_custom_imports(cfg)))

    log(f'[plan] probing {request.probe_iters} proxy iterations and one validation here')
    with tempfile.TemporaryDirectory() as probe_dir:
        timing = probe_trial(proxy_path, probe_dir, request.probe_iters)
    concurrency = max(1, int(request.gpus // request.gpus_per_trial)) if request.gpus \
        else 1
    trial_s = timing.trial_s(request.proxy_iters)
    val_images = dataset_length(cfg, cfg.val_dataloader.dataset)
    user_iters = user_total_iters(cfg, ipe)
    retrain_trial_s = timing.trial_s(user_iters, _validations(cfg, ipe) * val_images /
                                     len(held_out))
    retrain_trainings = (2 + (method in ('asl', 'pap'))) * RETRAIN_SEEDS
    paper = PAPER_BUDGET[method]
    population = PAPER_POPULATION.get(method)
    if request.rounds is not None or request.samples is not None:
        if request.budget_hours is not None:
            raise ValueError('give --budget-hours or --rounds / --samples, not both')
        rounds, samples = request.rounds or paper[0], request.samples or paper[1]
        if rounds < 1 or samples < 1:
            raise ValueError(f'--rounds and --samples must be >= 1, got {rounds}, {samples}')
    elif request.budget_hours is not None:
        retrain_s = math.ceil(retrain_trainings / concurrency) * retrain_trial_s
        rounds, samples, population = size_budget(
            method, request.budget_hours, trial_s, retrain_s, concurrency, paper, population)
    else:
        rounds, samples = paper
    forecast = Forecast(trial_s, proxy_trainings(method, rounds, samples, population),
                        retrain_trial_s, retrain_trainings, concurrency)
    budget = dict(rounds=rounds, samples_per_round=samples)
    search_path = _write_search(out, cfg, request, mplan, proxy_path, target_path, budget,
                                population, forecast)
    return Plan(mplan, proxy_path, search_path, target_path, budget, population, timing,
                forecast, dict(images=images, train=len(train), held_out=len(held_out)))


def _write_search(out: str, cfg: Config, request: PlanRequest, mplan: MethodPlan,
                  proxy_path: str, target_path: str, budget: dict, population: int | None,
                  forecast: Forecast) -> str:
    """The search config; its filters (ALZ rejection, CSE simulation) take the faster
    settings without GPUs or when the budget cut the paper's rounds."""
    sized = budget['rounds'] < PAPER_BUDGET[mplan.method][0]
    changed = bool(mplan.model_changes)
    retrain = dict(config=osp.abspath(target_path), top_k=1, seeds=RETRAIN_SEEDS,
                   baseline='identity' if mplan.method == 'pap' and changed else
                   (False if changed else 'user-loss'))
    if changed:  # the user's own heads and losses, as their config has them
        retrain['baselines'] = {'user-loss': {
            head_key: dict(copy.deepcopy(dict(config_value(cfg, head_key))), _delete_=True)
            for head_key in _head_keys(mplan.model_changes)}}
    if mplan.method == 'asl':
        retrain['baselines'] = {'identity': {
            key: dict(copy.deepcopy(loss)) for key, loss in mplan.proxy_losses.items()}}
    body = dict(
        proxy_config=osp.abspath(proxy_path),
        search_space=mplan.search_space,
        reward_key=mplan.reward_key,
        searcher=mplan.searcher(population, paper_filters=bool(request.gpus) and not sized),
        executor=dict(type='LocalExecutor', max_concurrent=forecast.concurrency,
                      nonfinite_check_iters=20,
                      **(dict(gpus_per_trial=request.gpus_per_trial) if request.gpus else {})),
        budget=budget,
        seed=request.seed,
        failure_reward=0.0,
        trial_timeout=float(max(600, round(5 * forecast.trial_s))),
        retrain=retrain,
        forecast=dict(trial_s=round(forecast.trial_s, 1), search_s=round(forecast.search_s),
                      retrain_s=round(forecast.retrain_s)))
    gpus = f' --gpus {request.gpus}' if request.gpus else ''
    return _write(osp.join(out, 'search.py'), [
        f'{mplan.method.upper()} search of {", ".join(s.key for s in mplan.slots)} in '
        f'{request.config}, written by tools/plan_search.py.',
        f'Run: python tools/search.py {osp.join(out, "search.py")}{gpus}',
        f'Searcher: the paper\'s settings'
        f'{" (filters: the faster settings, see searcher)" if sized or not request.gpus else ""}'
        f'; budget '
        f'{budget["rounds"]} rounds x {budget["samples_per_round"]} ({forecast.trainings} '
        f'proxy trainings'
        f'{", population " + str(population) if mplan.method in ("alz", "cse") else ""})'
        f'{_budget_origin(request)}.',
        f'Reward: {mplan.reward_key} of the proxy\'s held-out images.',
        f'Re-training: the best loss, {RETRAIN_SEEDS} seeds, on {target_path}.',
        f'Forecast on the planning machine: one trial {forecast.trial_s:.0f} s, search '
        f'{forecast.search_s / 3600:.2f} h, re-training {forecast.retrain_s / 3600:.2f} h.'],
        None, body)


def _budget_origin(request: PlanRequest) -> str:
    if request.rounds is not None or request.samples is not None:
        return ' as given'
    if request.budget_hours is not None:
        return f' sized to --budget-hours {request.budget_hours:g}'
    return ' (the paper\'s)'


def _head_keys(changes: dict, prefix: str = '') -> list[str]:
    """The dotted keys of the heads ``changes`` touches (dicts with a change at their top)."""
    keys = []
    for name, value in changes.items():
        key = f'{prefix}.{name}' if prefix else name
        if isinstance(value, dict) and not any(not isinstance(v, dict) or v.get('_delete_')
                                               for v in value.values()):
            keys += _head_keys(value, key)
        else:
            keys.append(key)
    return keys
