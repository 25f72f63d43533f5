"""The re-training stage: the search's best losses trained again, on the target schedule,
over several seeds, beside baseline losses.

Every paper here searches on a cheap proxy and then re-trains what it found on the real
schedule against the default loss (ASL section 5, PAP section 4, ALZ section 4, CSE section
4); ASL Table 3 and ALZ Table 3 re-train on other datasets and backbones to measure
transfer. A search config asks for it with::

    retrain = dict(
        config=None,        # the target(s): None is the proxy itself, run schedule_factor
                            # times longer; a config file or a list of them (another
                            # dataset, another backbone) holding the same loss keys
        schedule_factor=2,  # for config=None: max_iters / max_epochs times this (1: the
                            # proxy schedule itself)
        top_k=3,            # the best distinct candidates of the search, by mean reward
        seeds=5,            # each entry trains once per seed: the target's seed + 100 + j
        baseline=True,      # also the target's own loss, as its config has it (a string
                            # names it in the report, e.g. 'identity'; False: not)
        baselines=dict(CrossEntropyLoss={'model.decode_head.loss_decode': dict(...)}),
        calibration=0,      # k > 0: k more candidates (``cal1``, ...) spread over the
                            # proxy rewards below the top_k, re-trained so that Kendall's
                            # tau of proxy vs target (report.md) sees more than the winners
        tune_baselines=None,  # dict(lr_factors=[...]): each baseline's lr sweep, chosen on
                            # the search split, re-trained as ``<name>-tuned``
                            # (:mod:`~.baseline_tuning`)
        perturb=None)       # dict(lr=[...], batch_size=[...]): rank1 and the baselines
                            # re-trained under scaled settings (:mod:`~.perturbation`)

Every target reports on its test split: a target config with ``test_dataloader`` and
``test_evaluator`` (not ``format_only``) validates on them. The ToySeg / ToyDet / ToyPose
configs validate on the ``search`` split (held out from training; the proxy's reward) and
test on the untouched ``val`` split, so the stage reports on images the search never saw;
for a config whose test split is its validation split nothing changes, and a target that
validates on the proxy's own images gets a warning in the report.

Each (target, entry, seed) is one trial of the search's own executor, journaled (round
``'retrain'``, role ``'retrain'``) and resumable like any other; the plan (which candidates,
which baselines) is journaled first (``retrain_start``), so a resumed stage re-trains the
same losses. :mod:`~.report` turns the journal into the report.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from mmengine.config import Config

from ..utils.checks import check_int, check_number
from .baseline_tuning import check_tune_baselines, tuned_entries
from .events import TrialEvent
from .perturbation import check_perturb, perturbed_entries, scaled_settings
from .structures import PROXY_ROLES, TrialStatus, get_config_key
from .trial import proxy_config_copy

RETRAIN_KEYS = ('config', 'schedule_factor', 'top_k', 'seeds', 'baseline', 'baselines',
                'calibration', 'tune_baselines', 'perturb')
#: seeds per entry where the config does not say (paired statistics need more than 3)
DEFAULT_SEEDS = 5
#: retrain seeds start here above the target's seed, apart from a search's own seeds
SEED_OFFSET = 100
BASELINE_NAME = 'baseline'
#: the default target is the proxy trained this many times longer (the papers re-train on
#: a longer schedule than the search's proxy)
DEFAULT_SCHEDULE_FACTOR = 2


@dataclass
class RetrainTarget:
    """Where the entries re-train: a name for the report and the config they train with."""
    name: str
    config: Config


def check_retrain(options: object, loss_keys: list[str], proxy_cfg: Config,
                  error: type = ValueError) -> tuple[dict | None, list[RetrainTarget]]:
    """The ``retrain`` settings with defaults filled in, and their targets (built once,
    here); ``error`` naming the key and the value for anything that cannot run. ``(None,
    [])`` when there is no re-training stage."""
    if options is None:
        return None, []
    if not isinstance(options, dict):
        raise error(f'retrain must be None or a dict of {list(RETRAIN_KEYS)}, got {options!r}')
    unknown = sorted(set(options) - set(RETRAIN_KEYS))
    if unknown:
        raise error(f'retrain: unknown key(s) {unknown}; expected {list(RETRAIN_KEYS)}')
    config = options.get('config', None)
    configs = [config] if config is None or isinstance(config, str) else config
    if not isinstance(configs, (list, tuple)) or not configs or not all(
            c is None or (isinstance(c, str) and c) for c in configs):
        raise error(f'retrain.config must be None, a config file or a list of them, got '
                    f'{config!r}')
    baselines = options.get('baselines', {}) or {}
    if not isinstance(baselines, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) and v for k, v in baselines.items()):
        raise error(f'retrain.baselines must map a name to config overrides (a non-empty '
                    f'dict), got {baselines!r}')
    for name in baselines:
        if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.-]*', name) or name.startswith('rank'):
            raise error(f'retrain.baselines: {name!r} must be letters, digits, _ . - (it names '
                        "trial directories) and not start with 'rank'")
    baseline = options.get('baseline', True)
    if baseline is True:
        baseline = BASELINE_NAME
    if baseline is not False and (not isinstance(baseline, str) or not re.fullmatch(
            r'[A-Za-z0-9][A-Za-z0-9_.-]*', baseline) or baseline in baselines):
        raise error(f'retrain.baseline must be True, False or a name for the target\'s own '
                    f'loss (letters, digits, _ . -, not one of retrain.baselines), got '
                    f'{baseline!r}')
    checked = dict(
        config=list(configs),
        schedule_factor=check_number(options.get('schedule_factor', DEFAULT_SCHEDULE_FACTOR),
                                     'retrain.schedule_factor', 1, 100, error=error),
        top_k=check_int(options.get('top_k', 3), 'retrain.top_k', 1, error=error),
        seeds=check_int(options.get('seeds', DEFAULT_SEEDS), 'retrain.seeds', 1, error=error),
        baseline=baseline, baselines=copy.deepcopy(baselines))
    calibration = check_int(options.get('calibration', 0), 'retrain.calibration', 0,
                            error=error)
    if calibration:  # absent when 0 (and the two below when None): searches recorded
        checked['calibration'] = calibration  # before these settings keep their fingerprint
    targets = build_targets(checked, loss_keys, proxy_cfg, error)
    if options.get('tune_baselines', None) is not None:
        checked['tune_baselines'] = check_tune_baselines(
            options['tune_baselines'], ([baseline] if baseline else []) + list(baselines),
            [proxy_cfg] + [t.config for t in targets], error)
    if options.get('perturb', None) is not None:
        checked['perturb'] = check_perturb(options['perturb'], [t.config for t in targets],
                                           error)
    return checked, targets


def build_targets(retrain: dict, loss_keys: list[str], proxy_cfg: Config,
                  error: type = ValueError) -> list[RetrainTarget]:
    """The target configs of a checked ``retrain`` (each must hold every loss key)."""
    targets = []
    for index, path in enumerate(retrain['config']):
        if path is None:
            try:
                cfg = longer_schedule(proxy_config_copy(proxy_cfg), retrain['schedule_factor'])
            except ValueError as err:  # a proxy whose schedule cannot be made longer
                raise error(str(err)) from err
            name = 'proxy' if retrain['schedule_factor'] == 1 else \
                f'proxy-x{retrain["schedule_factor"]:g}'
        else:
            try:
                cfg = Config.fromfile(path, import_custom_modules=False)
            except Exception as err:  # mmengine raises many types for a broken file
                raise error(f'retrain.config {path!r} cannot be read: {err}') from err
            name = re.sub(r'[^A-Za-z0-9_.-]', '_', path.rsplit('/', 1)[-1].rsplit('.py', 1)[0])
        for key in loss_keys:
            try:
                get_config_key(cfg, key)
            except ValueError as err:
                raise error(f'retrain.config {path!r}: {err}') from err
        targets.append(RetrainTarget(name=f't{index}-{name}', config=report_split(cfg)))
    return targets


def report_split(cfg: Config) -> Config:
    """``cfg`` validating on its test split (``test_dataloader`` / ``test_evaluator``) when
    it has one that computes metrics: the split a re-training reports on."""
    loader, evaluator = cfg.get('test_dataloader', None), cfg.get('test_evaluator', None)
    if not loader or not evaluator or any(
            isinstance(e, dict) and e.get('format_only', False)
            for e in (evaluator if isinstance(evaluator, (list, tuple)) else [evaluator])):
        return cfg
    cfg.val_dataloader = copy.deepcopy(loader)
    cfg.val_evaluator = copy.deepcopy(evaluator)
    return cfg


def longer_schedule(cfg: Config, factor: float) -> Config:
    """``cfg`` with its training ``factor`` times longer: ``train_cfg.max_iters`` (or
    ``max_epochs``), and the validation interval, checkpoint interval and scheduler ends that
    sat at the old end moved to the new one."""
    if factor == 1:
        return cfg
    train_cfg = cfg.get('train_cfg', None) or {}
    key = 'max_iters' if 'max_iters' in train_cfg else 'max_epochs'
    if key not in train_cfg:
        raise ValueError(f'retrain.schedule_factor={factor} needs train_cfg.max_iters or '
                         'max_epochs in the proxy config')
    old = train_cfg[key]
    new = int(round(old * factor))
    train_cfg[key] = new
    if train_cfg.get('val_interval', None) == old:
        train_cfg['val_interval'] = new
    schedulers = cfg.get('param_scheduler', None) or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        if scheduler.get('end', None) == old:
            scheduler['end'] = new
    checkpoint = (cfg.get('default_hooks', None) or {}).get('checkpoint', None)
    if checkpoint is not None and checkpoint.get('interval', None) == old:
        checkpoint['interval'] = new
    return cfg


def validation_images(cfg: Config) -> str:
    """What a config validates on: its ``val_dataloader.dataset`` without the pipeline
    (files, roots, splits), as canonical JSON."""
    dataset = dict((cfg.get('val_dataloader', None) or {}).get('dataset', None) or {})
    dataset.pop('pipeline', None)
    return json.dumps(dataset, sort_keys=True, default=repr)


def same_split_targets(proxy_cfg: Config, targets: list[RetrainTarget]) -> list[str] | None:
    """The targets that validate on the proxy's own validation images (the split the
    search chose its losses on), or None when there are none."""
    proxy = validation_images(proxy_cfg)
    same = [t.name for t in targets if validation_images(t.config) == proxy]
    return same or None


def config_seed(cfg: Config) -> int:
    """A config's ``randomness.seed`` (0 when it sets none)."""
    seed = (cfg.get('randomness', None) or {}).get('seed', None)
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0


def target_seed(cfg: Config, seed_index: int) -> int:
    """Seed ``j`` of a re-training: the target's ``randomness.seed`` + 100 + j."""
    return config_seed(cfg) + SEED_OFFSET + seed_index


def ranked_candidates(trial_events: list[TrialEvent]) -> list[dict]:
    """Every distinct candidate of the search whose proxy trainings finished, by mean
    reward over its trials (seeds), best first (ties: the earlier candidate); each
    ``candidate_id``, ``genotype``, ``reward``."""
    groups: dict[str, dict] = {}
    for event in trial_events:
        if event.role not in PROXY_ROLES or event.is_retraining:
            continue
        group = groups.setdefault(event.owner_id, dict(candidate_id=event.owner_id,
                                                       genotype=event.candidate, rewards=[],
                                                       ok=True, order=len(groups)))
        group['rewards'].append(event.result.reward)
        group['ok'] &= event.result.status == TrialStatus.OK
    ranked = sorted((g for g in groups.values() if g['ok']),
                    key=lambda g: (-sum(g['rewards']) / len(g['rewards']), g['order']))
    chosen, seen = [], set()
    for group in ranked:
        key = json.dumps(group['genotype'], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        chosen.append(dict(candidate_id=group['candidate_id'], genotype=group['genotype'],
                           reward=sum(group['rewards']) / len(group['rewards'])))
    return chosen


def top_candidates(trial_events: list[TrialEvent], top_k: int) -> list[dict]:
    """The ``top_k`` best of :func:`ranked_candidates`, in rank order."""
    return ranked_candidates(trial_events)[:top_k]


def calibration_candidates(trial_events: list[TrialEvent], top_k: int, k: int) -> list[dict]:
    """``k`` candidates below the ``top_k``, evenly spaced by rank from the next best to
    the worst, so their proxy rewards span the range (fewer when fewer are left)."""
    rest = ranked_candidates(trial_events)[top_k:]
    if k <= 0 or not rest:
        return []
    if k >= len(rest):
        return rest
    if k == 1:
        return [rest[len(rest) // 2]]
    return [rest[round(i * (len(rest) - 1) / (k - 1))] for i in range(k)]


def retrain_entries(retrain: dict, candidates: list[dict],
                    calibration: list[dict] | None = None) -> list[dict]:
    """The plan: each chosen candidate (``rank1``, ``rank2``, ...), the calibration
    candidates (``cal1``, ...), the baselines, their tuned versions (``<name>-tuned``, with
    ``tune_baselines``) and the perturbed entries (with ``perturb``); each ``name``,
    ``kind`` ('searched' / 'calibration' / 'baseline' / 'tuned' / 'perturbed'), and its
    ``candidate_id``, ``genotype`` and proxy ``search_reward`` or its ``overrides`` (None:
    the target config's own loss)."""
    entries = [dict(name=f'rank{i + 1}', kind='searched', candidate_id=c['candidate_id'],
                    genotype=c['genotype'], search_reward=c['reward'])
               for i, c in enumerate(candidates)]
    entries += [dict(name=f'cal{i + 1}', kind='calibration', candidate_id=c['candidate_id'],
                     genotype=c['genotype'], search_reward=c['reward'])
                for i, c in enumerate(calibration or [])]
    if retrain['baseline']:
        entries.append(dict(name=retrain['baseline'], kind='baseline', overrides=None))
    entries += [dict(name=name, kind='baseline', overrides=overrides)
                for name, overrides in retrain['baselines'].items()]
    if 'tune_baselines' in retrain:
        entries += tuned_entries([e for e in entries if e['kind'] == 'baseline'],
                                 retrain['tune_baselines'])
    if 'perturb' in retrain:
        entries += perturbed_entries(entries, retrain['perturb'])
    return entries


def entry_overrides(entry: dict, to_overrides: Callable[[object], dict], cfg: Config,
                    lr_choices: dict[str, float]) -> dict:
    """The config overrides that train ``entry`` on ``cfg``: its candidate's loss or its
    baseline's overrides, then the learning rate times the tuned factor of its baseline
    (``lr_choices``) and the perturbation's factors."""
    kind = entry.get('of_kind', entry['kind'])
    if kind in ('searched', 'calibration'):
        overrides = to_overrides(entry['genotype'])
    else:
        overrides = copy.deepcopy(entry['overrides'] or {})
    perturb = entry.get('perturb', {})
    lr_factor = perturb.get('lr', 1.0)
    if 'tuned_of' in entry:
        lr_factor *= lr_choices[entry['tuned_of']]
    overrides.update(scaled_settings(cfg, lr_factor, perturb.get('batch_size', 1.0)))
    return overrides


def retrain_trial_id(target_index: int, entry: str, seed_index: int) -> str:
    return f'rt{target_index}-{entry}-s{seed_index}'
