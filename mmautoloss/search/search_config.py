"""Search config: fields, validation before any trial starts, and building its parts.

A search config is an mmengine config (``_base_`` allowed) with these fields::

    proxy_config = 'configs/proxies/asl_toyseg.py'   # the proxy training job (a file)
    search_space = dict(type='ASLSpace', metric='mIoU')   # PAPSpace, FormulaSpace
    reward_key = 'mIoU'            # a key the proxy's val_evaluator reports
    searcher = dict(type='PPO2Searcher', sigma=0.2, ...)   # or RandomSearcher
    executor = dict(type='LocalExecutor', max_concurrent=1)
    budget = dict(rounds=12, samples_per_round=8)
    seed = 0
    failure_reward = 0.0           # reward of a crashed / timed-out / NaN trial
    trial_timeout = 3600           # seconds per trial
    work_dir = 'work_dirs/...'     # optional; the CLI's --work-dir wins
    early_stopping = dict(reduction_factor=3, grace_validations=1)   # optional: ASHA
    seeds_per_candidate = 1        # k > 1: k trials per candidate, rewarded with their mean

Names starting with ``_`` are helper variables and ignored; any other key is an error.

Every problem is reported as :class:`SearchConfigError` naming the key and its value.
"""
import json
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Set

from mmengine.config import Config
from mmengine.registry import MODELS

from ..registry import EXECUTORS, FILTERS, SEARCHERS, SPACES
from ..utils.checks import check_int, check_number
from .early_stopping import ASHAStopping
from .retraining import RetrainTarget, check_retrain
from .executors import BaseExecutor
from .searchers import BaseSearcher
from .spaces import BaseSpace
from .spaces.base import get_config_key

REQUIRED_KEYS = ('proxy_config', 'search_space', 'reward_key', 'searcher', 'budget')
OPTIONAL_KEYS = {'executor': dict(type='LocalExecutor'), 'seed': 0, 'failure_reward': 0.0,
                 'trial_timeout': 3600.0, 'work_dir': None, 'early_stopping': None,
                 'seeds_per_candidate': 1, 'retrain': None}
#: executor arguments that the search config sets through its own top-level fields or the CLI
EXECUTOR_RESERVED = ('proxy_config', 'reward_key', 'failure_reward', 'timeout_s', 'gpus',
                     'early_stopping')
#: executor settings that schedule trials without changing any outcome; they may change
#: between a run and its --resume
EXECUTOR_SCHEDULING_KEYS = ('max_concurrent', 'poll_interval_s', 'kill_grace_s',
                            'keep_checkpoints', 'address', 'num_cpus', 'num_gpus',
                            'cpus_per_trial', 'memory_per_trial_gb', 'fork_jobs')
#: keys of the metrics written by mmautoloss's own segmentation evaluators
MMAUTOLOSS_METRIC_KEYS = {'FWIoUMetric': ('FWIoU', ), 'BoundaryIoUMetric': ('BIoU', ),
                          'BoundaryF1Metric': ('BF1', )}


class SearchConfigError(ValueError):
    """A search config that cannot run; the message names the key and the value."""


@dataclass
class SearchSettings:
    """A validated search config."""
    proxy_config: str
    proxy_cfg: Config
    space: BaseSpace
    space_cfg: dict
    reward_key: str
    searcher_cfg: dict
    executor_cfg: dict
    rounds: int
    samples_per_round: int
    seed: int
    failure_reward: float
    trial_timeout: float
    work_dir: Optional[str]
    early_stopping: Optional[dict] = None
    seeds_per_candidate: int = 1
    retrain: Optional[dict] = None
    #: the re-training stage's target configs, built from ``retrain`` (not fingerprinted)
    retrain_targets: List[RetrainTarget] = field(default_factory=list)

    def fingerprint(self) -> dict:
        """Settings that decide the search's results; a resumed search must match them.

        The proxy config counts by content (the resolved config, its bases included, as
        JSON would record it), so editing it between a run and its ``--resume`` is caught
        and named setting by setting; so do the trial timeout and the executor settings
        that decide a trial's outcome (all but :data:`EXECUTOR_SCHEDULING_KEYS`, which only
        decide how trials are scheduled).
        """
        resolved = json.loads(json.dumps(_plain(self.proxy_cfg.to_dict()), sort_keys=True,
                                         default=repr))
        executor = {k: v for k, v in self.executor_cfg.items()
                    if k not in EXECUTOR_SCHEDULING_KEYS}
        return dict(proxy_config=self.proxy_config, trial_timeout=self.trial_timeout,
                    executor=executor, proxy=resolved, search_space=self.space_cfg,
                    reward_key=self.reward_key, searcher=self.searcher_cfg,
                    rounds=self.rounds, samples_per_round=self.samples_per_round,
                    seed=self.seed, failure_reward=self.failure_reward,
                    early_stopping=self.early_stopping,
                    seeds_per_candidate=self.seeds_per_candidate, retrain=self.retrain)


def _plain(value: object) -> object:
    """Config values as plain dicts / lists (ConfigDict -> dict, tuple -> list)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _typed_dict(cfg: Config, key: str) -> dict:
    value = cfg.get(key, OPTIONAL_KEYS.get(key))
    if not isinstance(value, dict) or not isinstance(value.get('type'), str):
        raise SearchConfigError(f'{key} must be a dict with a string "type", got {value!r}')
    return _plain(value)


def _number(value: object, key: str, positive: bool = False) -> float:
    if positive:
        return check_number(value, key, 0, exclusive_low=True, error=SearchConfigError,
                            expected='a finite positive number')
    return check_number(value, key, error=SearchConfigError)


def _int(value: object, key: str, low: int) -> int:
    return check_int(value, key, low, error=SearchConfigError)


def _work_dir(value: object) -> Optional[str]:
    if value is not None and (not isinstance(value, str) or not value):
        raise SearchConfigError(f'work_dir must be a non-empty path string or None, got '
                                f'{value!r}')
    return value


def _evaluator_cfgs(proxy_cfg: Config) -> List[dict]:
    evaluator = proxy_cfg.get('val_evaluator', None)
    if evaluator is None:
        raise SearchConfigError('proxy_config has no val_evaluator, so no reward can be read')
    if isinstance(evaluator, dict) and 'metrics' in evaluator:  # mmengine Evaluator form
        evaluator = evaluator['metrics']
    return [evaluator] if isinstance(evaluator, dict) else list(evaluator)


def _as_list(value: object) -> List[str]:
    return [value] if isinstance(value, str) else list(value)


def metric_keys(metric_cfg: dict, scope: Optional[str]) -> Optional[Set[str]]:
    """Keys an evaluator metric reports, with its prefix; ``None`` for unknown types.

    IoUMetric (mmseg): ``aAcc`` plus mIoU -> mIoU, mAcc; mDice -> mDice, mAcc; mFscore ->
    mFscore, mPrecision, mRecall (no prefix). CocoMetric (mmdet, prefix ``coco``): per metric
    ``{bbox,segm}_mAP{,_50,_75,_s,_m,_l}``, proposal ``AR@{100,300,1000}``,
    ``AR_{s,m,l}@1000``. CocoMetric (mmpose): AP / AR at .5, .75, (M), (L). VOCMetric
    (mmdet, prefix ``pascal_voc``): mAP with ``AP{thr*100}`` per IoU threshold, or
    ``recall@{n}@{thr}``. mmautoloss metrics: see ``MMAUTOLOSS_METRIC_KEYS``.
    """
    mtype = str(metric_cfg.get('type', '')).split('.')[-1]
    if mtype == 'IoUMetric':
        keys = {'aAcc'}
        for metric in _as_list(metric_cfg.get('iou_metrics', ['mIoU'])):
            keys |= {'mIoU': {'mIoU', 'mAcc'}, 'mDice': {'mDice', 'mAcc'},
                     'mFscore': {'mFscore', 'mPrecision', 'mRecall'}}.get(metric, set())
        default_prefix = None
    elif mtype == 'CocoMetric' and scope == 'mmpose':
        keys = {f'{stat}{suffix}' for stat in ('AP', 'AR')
                for suffix in ('', ' .5', ' .75', ' (M)', ' (L)')}
        default_prefix = 'coco'
    elif mtype == 'CocoMetric':
        keys = set()
        for metric in _as_list(metric_cfg.get('metric', 'bbox')):
            if metric in ('bbox', 'segm'):
                keys |= {f'{metric}_mAP{s}' for s in ('', '_50', '_75', '_s', '_m', '_l')}
            elif metric in ('proposal', 'proposal_fast'):
                keys |= {'AR@100', 'AR@300', 'AR@1000', 'AR_s@1000', 'AR_m@1000',
                         'AR_l@1000'}
        default_prefix = 'coco'
    elif mtype == 'VOCMetric':
        thrs = metric_cfg.get('iou_thrs', 0.5)
        thrs = [thrs] if isinstance(thrs, (int, float)) else list(thrs)
        if metric_cfg.get('metric', 'mAP') == 'mAP':
            keys = {'mAP'} | {f'AP{int(thr * 100)}' for thr in thrs}
        else:
            keys = {f'recall@{n}@{thr}' for n in _as_list(metric_cfg.get(
                'proposal_nums', (100, 300, 1000))) for thr in thrs} | {'mAR'}
        default_prefix = 'pascal_voc'
    elif mtype in MMAUTOLOSS_METRIC_KEYS:
        keys = set(MMAUTOLOSS_METRIC_KEYS[mtype])
        default_prefix = None
    else:
        return None
    prefix = metric_cfg.get('prefix', default_prefix)
    return {f'{prefix}/{k}' for k in keys} if prefix else keys


def check_reward_key(reward_key: str, proxy_cfg: Config) -> None:
    """Raise unless some val_evaluator metric of the proxy reports ``reward_key``; warn
    (and accept) when an evaluator type is unknown."""
    scope = proxy_cfg.get('default_scope', None)
    known: Set[str] = set()
    unknown: List[str] = []
    for metric_cfg in _evaluator_cfgs(proxy_cfg):
        keys = metric_keys(metric_cfg, scope) if isinstance(metric_cfg, dict) else None
        if keys is None:
            unknown.append(str(metric_cfg.get('type') if isinstance(metric_cfg, dict)
                               else metric_cfg))
        else:
            known |= keys
    if reward_key in known:
        return
    if unknown:
        warnings.warn(f'reward_key={reward_key!r} is not reported by the known evaluators '
                      f'(keys {sorted(known)}); accepting it because the proxy also uses '
                      f'evaluator types {unknown} whose keys are not known')
        return
    raise SearchConfigError(f'reward_key={reward_key!r} is not reported by the proxy '
                            f"config's val_evaluator; it reports {sorted(known)}")


#: settings a loss and the head that calls it both hold; they must agree (a loss built for
#: 5 classes under a 3-class head crashes every trial at its first forward)
HEAD_SHARED_FIELDS = ('num_classes', )


def check_loss_against_head(proxy_cfg: Config, key: str, loss: dict) -> None:
    """``SearchConfigError`` when the loss written to ``key`` contradicts the proxy module
    that holds it (the dict one level up, e.g. ``model.decode_head`` for
    ``model.decode_head.loss_decode``) in one of :data:`HEAD_SHARED_FIELDS`."""
    parent_key = key.rpartition('.')[0]
    if not parent_key:
        return
    try:
        head = get_config_key(proxy_cfg, parent_key)
    except ValueError:  # the space's bind() has already checked the key exists
        return
    if not isinstance(head, dict):
        return
    for name in HEAD_SHARED_FIELDS:
        if name in loss and name in head and loss[name] != head[name]:
            raise SearchConfigError(
                f'search_space: the loss written to {key!r} has {name}={loss[name]!r} but '
                f"the proxy's {parent_key} has {name}={head[name]!r}; they must agree (set "
                f'loss_options.{name} to {head[name]!r} or leave it out)')


def check_candidate_loss(space: BaseSpace, proxy_cfg: Config) -> None:
    """Build the loss of an example candidate at every key, so that a loss the
    proxy jobs cannot build (a misspelled ``loss_options`` key, a bad value, a setting that
    contradicts the proxy's head) is reported here instead of crashing every trial of the
    search."""
    for key, loss in space.to_overrides(space.example()).items():
        loss = {k: v for k, v in loss.items() if k != '_delete_'}
        check_loss_against_head(proxy_cfg, key, loss)
        try:
            MODELS.build(loss)
        except Exception as error:  # the loss's own check, whatever its type
            raise SearchConfigError(f'search_space: the loss written to {key!r} cannot be '
                                    f'built: {type(error).__name__}: {error}') from error


def parse_cfg_options(items: Optional[List[str]]) -> dict:
    """``--cfg-options KEY=VALUE ...`` as a dict, values parsed as mmengine's ``DictAction``
    parses them (numbers, bools, None, lists, tuples); ``SearchConfigError`` naming the
    item when one is not ``KEY=VALUE`` or its value cannot be parsed."""
    from mmengine.config import DictAction
    options = {}
    for item in items or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise SearchConfigError(f'--cfg-options item {item!r} must be KEY=VALUE, e.g. '
                                    'budget.rounds=3')
        try:
            options[key] = DictAction._parse_iterable(value)
        except (ValueError, AssertionError, RecursionError) as error:
            raise SearchConfigError(f'--cfg-options {key}: cannot parse the value {value!r} '
                                    f'({type(error).__name__})') from error
    return options


def load_search_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a search config file (``SearchConfigError`` if it cannot be read)."""
    if not osp.isfile(path):
        raise SearchConfigError(f'search config {path!r} is not a file')
    try:
        cfg = Config.fromfile(path, import_custom_modules=False)
    except Exception as error:  # mmengine raises many types for a broken file
        raise SearchConfigError(f'search config {path!r} cannot be read: {error}') from error
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def validate_search_config(cfg: Config) -> SearchSettings:
    """Check every field of a search config and the proxy config it names, without
    starting anything; returns the normalised settings."""
    unknown = sorted(k for k in cfg.keys() if not k.startswith('_')  # _private helpers
                     and k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS)
    if unknown:
        raise SearchConfigError(f'unknown search config key(s) {unknown}; expected '
                                f'{sorted(REQUIRED_KEYS + tuple(OPTIONAL_KEYS))}')
    missing = [k for k in REQUIRED_KEYS if k not in cfg]
    if missing:
        raise SearchConfigError(f'search config is missing required key(s) {missing}')
    proxy_config = cfg.proxy_config
    if not isinstance(proxy_config, str) or not osp.isfile(proxy_config):
        raise SearchConfigError(f'proxy_config={proxy_config!r} is not a file')
    try:
        proxy_cfg = Config.fromfile(proxy_config, import_custom_modules=False)
    except Exception as error:
        raise SearchConfigError(f'proxy_config={proxy_config!r} cannot be read: {error}') \
            from error

    space_cfg = _typed_dict(cfg, 'search_space')
    space = build_from_registry(SPACES, space_cfg, 'search_space', 'space')
    try:
        space.bind(proxy_cfg)
    except (TypeError, ValueError) as error:
        raise SearchConfigError(f'search_space: {error}') from error

    check_candidate_loss(space, proxy_cfg)

    reward_key = cfg.reward_key
    if not isinstance(reward_key, str) or not reward_key:
        raise SearchConfigError(f'reward_key must be a non-empty string, got {reward_key!r}')
    check_reward_key(reward_key, proxy_cfg)

    budget = cfg.budget
    if not isinstance(budget, dict) or set(budget) != {'rounds', 'samples_per_round'}:
        raise SearchConfigError(f'budget must be dict(rounds=..., samples_per_round=...), '
                                f'got {budget!r}')
    settings = SearchSettings(
        proxy_config=proxy_config, proxy_cfg=proxy_cfg, space=space, space_cfg=space_cfg,
        reward_key=reward_key, searcher_cfg=_typed_dict(cfg, 'searcher'),
        executor_cfg=_typed_dict(cfg, 'executor'),
        rounds=_int(budget['rounds'], 'budget.rounds', 1),
        samples_per_round=_int(budget['samples_per_round'], 'budget.samples_per_round', 1),
        seed=_int(cfg.get('seed', OPTIONAL_KEYS['seed']), 'seed', 0),
        failure_reward=_number(cfg.get('failure_reward', OPTIONAL_KEYS['failure_reward']),
                               'failure_reward'),
        trial_timeout=_number(cfg.get('trial_timeout', OPTIONAL_KEYS['trial_timeout']),
                              'trial_timeout', positive=True),
        work_dir=_work_dir(cfg.get('work_dir', None)),
        early_stopping=_plain(cfg.get('early_stopping', None)),
        seeds_per_candidate=_int(cfg.get('seeds_per_candidate', 1), 'seeds_per_candidate', 1),
        retrain=None)
    settings.retrain, settings.retrain_targets = check_retrain(
        _plain(cfg.get('retrain', None)), list(space.keys), proxy_cfg, SearchConfigError)
    searcher = build_searcher(settings)
    _check_executor_cfg(settings.executor_cfg)
    if settings.early_stopping is not None:
        build_early_stopping(settings)
        if not searcher.allows_early_stopping:
            raise SearchConfigError(
                f'early_stopping: {settings.searcher_cfg["type"]} needs the final reward of '
                'every trial (its update uses them all); remove early_stopping or use a '
                'searcher that ranks by reward (RandomSearcher, RandomFormulaSearcher, '
                'RegularizedEvolutionSearcher)')
    return settings


def build_early_stopping(settings: SearchSettings) -> Optional[ASHAStopping]:
    """The ASHA rule of ``early_stopping=dict(reduction_factor=..., grace_validations=...,
    poll_interval_s=...)``, ranking by the reward key; ``None`` when it is off."""
    options = settings.early_stopping
    if options is None:
        return None
    if not isinstance(options, dict) or 'reward_key' in options:
        raise SearchConfigError(f'early_stopping must be None or a dict of ASHA settings '
                                f'(reduction_factor, grace_validations, poll_interval_s), got '
                                f'{options!r}')
    try:
        return ASHAStopping(settings.reward_key, **options)
    except (TypeError, ValueError) as error:
        raise SearchConfigError(f'early_stopping: {error}') from error


def check_known_type(registry, cfg: dict, key: str, what: str) -> None:
    """``SearchConfigError`` naming ``key`` unless ``registry`` knows ``cfg['type']``
    (asking imports the registry's locations first)."""
    if registry.get(cfg['type']) is None:
        raise SearchConfigError(f'{key}.type={cfg["type"]!r} is not a known {what}; known: '
                                f'{sorted(registry.module_dict)}')


def build_from_registry(registry, cfg: dict, key: str, what: str,
                        default_args: Optional[dict] = None):
    """``registry.build(cfg, default_args)``; ``SearchConfigError`` naming ``key`` for an
    unknown type or arguments the type refuses."""
    check_known_type(registry, cfg, key, what)
    try:
        return registry.build(dict(cfg), default_args=default_args)
    except (TypeError, ValueError) as error:
        raise SearchConfigError(f'{key}: {error}') from error


def build_searcher(settings: SearchSettings) -> BaseSearcher:
    """The searcher of the config, with what the space gives it (a vector space: ``dim``
    and the identity ``initial_mean``; a formula space: its ``branches``)."""
    cfg = dict(settings.searcher_cfg)
    check_known_type(SEARCHERS, cfg, 'searcher', 'searcher')  # before building its filters
    space_args = settings.space.searcher_args()
    for key in ('num_rounds', 'samples_per_round', 'seed', *space_args):
        if key in cfg:
            raise SearchConfigError(f'searcher.{key} is set by the search config itself '
                                    '(space, budget, seed); remove it')
    for name in DEFAULT_FILTERS.get(cfg['type'], ()):
        cfg.setdefault(name, {})
    for name in FILTER_FIELDS:
        if cfg.get(name) is not None:
            cfg[name] = build_filter(settings, name, cfg[name])
    return build_from_registry(
        SEARCHERS, cfg, 'searcher', 'searcher',
        dict(num_rounds=settings.rounds, samples_per_round=settings.samples_per_round,
             seed=settings.seed, **space_args))


def _formula_branches(settings: SearchSettings, name: str) -> dict:
    branches = getattr(settings.space, 'branches', None)
    if not isinstance(branches, dict):
        raise SearchConfigError(f'searcher.{name} needs a FormulaSpace search_space')
    return branches


#: searcher fields the search config builds into filters (FILTERS registry): the filter
#: type and what it gets from the search besides the field's own settings. AutoLoss-Zero's
#: loss-rejection protocol (inputs captured from the proxy); CSE-Autoloss's validity and
#: convergence-property check and its model-optimisation simulation (seeded by the
#: search's seed unless the field sets its own).
FILTER_FIELDS = dict(
    loss_rejection=('LossRejection', lambda s, name: dict(
        proxy_cfg=s.proxy_cfg, branches=_formula_branches(s, name))),
    convergence=('ConvergenceCheck', lambda s, name: dict(
        branches=_formula_branches(s, name), seed=s.seed)),
    simulation=('OptimisationSimulation', lambda s, name: dict(
        proxy_cfg=s.proxy_cfg, seed=s.seed)))
#: filters a searcher gets with their default settings when its config does not name them
#: (``None`` turns one off)
DEFAULT_FILTERS = dict(ConvergenceSimulationSearcher=('convergence', 'simulation'))


def build_filter(settings: SearchSettings, name: str, options: object):
    """The filter of searcher field ``name`` from its settings dict."""
    if not isinstance(options, dict) or 'type' in options:
        raise SearchConfigError(f'searcher.{name} must be a dict of settings (without '
                                f'"type"), got {options!r}')
    ftype, extra = FILTER_FIELDS[name]
    return build_from_registry(FILTERS, dict(options, type=ftype), f'searcher.{name}',
                               'filter', extra(settings, name))


def _check_executor_cfg(executor_cfg: dict) -> None:
    check_known_type(EXECUTORS, executor_cfg, 'executor', 'executor')
    for key in EXECUTOR_RESERVED:
        if key in executor_cfg:
            raise SearchConfigError(f'executor.{key} is set by the search config or the '
                                    'command line (proxy_config, reward_key, failure_reward, '
                                    'trial_timeout, early_stopping, --gpus); remove it')


def build_executor(settings: SearchSettings, gpus: int = 0,
                   gpus_per_trial: Optional[float] = None) -> BaseExecutor:
    """The executor of the config, running ``settings.proxy_config`` jobs (the config
    parsed by validation is handed over, not read again). ``gpus_per_trial`` (the CLI's
    ``--gpus-per-trial``) replaces the executor config's when given."""
    cfg = dict(settings.executor_cfg)
    if gpus_per_trial is not None:
        cfg['gpus_per_trial'] = int(gpus_per_trial) if gpus_per_trial >= 1 else gpus_per_trial
    defaults = dict(proxy_config=settings.proxy_cfg, reward_key=settings.reward_key,
                    failure_reward=settings.failure_reward, timeout_s=settings.trial_timeout,
                    gpus=gpus)
    early_stopping = build_early_stopping(settings)
    if early_stopping is not None:
        defaults['early_stopping'] = early_stopping
    return build_from_registry(EXECUTORS, cfg, 'executor', 'executor', defaults)

