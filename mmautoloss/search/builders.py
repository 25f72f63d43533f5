"""Building a search's parts from its validated settings (:class:`~.settings.SearchSettings`):
the searcher with the filters and stages it declares, the executor, the early-stopping
rule, the hooks that watch it. Every failure is a :class:`~.errors.SearchConfigError`
naming the field."""
import importlib.util

from ..registry import EXECUTORS, FILTERS, SEARCHERS
from .early_stopping import ASHAStopping
from .errors import SearchConfigError
from .executors import BaseExecutor
from .hooks import SearchHook
from .optuna_study import DEFAULT_STORAGE, OptunaHook
from .searchers import BaseSearcher
from .settings import SearchSettings
from .visualizer_hook import VisualizerHook


def check_known_type(registry, cfg: dict, key: str, what: str) -> None:
    """``SearchConfigError`` naming ``key`` unless ``registry`` knows ``cfg['type']``
    (asking imports the registry's locations first)."""
    if registry.get(cfg['type']) is None:
        raise SearchConfigError(f'{key}.type={cfg["type"]!r} is not a known {what}; known: '
                                f'{sorted(registry.module_dict)}')


def build_from_registry(registry, cfg: dict, key: str, what: str,
                        default_args: dict | None = None):
    """``registry.build(cfg, default_args)``; ``SearchConfigError`` naming ``key`` for an
    unknown type or arguments the type refuses."""
    check_known_type(registry, cfg, key, what)
    try:
        return registry.build(dict(cfg), default_args=default_args)
    except (TypeError, ValueError) as error:
        raise SearchConfigError(f'{key}: {error}') from error


def build_early_stopping(settings: SearchSettings) -> ASHAStopping | None:
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


def search_input(settings: SearchSettings, name: str, field: str) -> object:
    """What the search gives a searcher's filter or stage: ``proxy_cfg``, ``seed`` or
    ``branches`` (config key -> (primitive set, kind) of a formula space)."""
    if name == 'branches':
        branches = getattr(settings.space, 'branches', None)
        if not isinstance(branches, dict):
            raise SearchConfigError(f'searcher.{field} needs a FormulaSpace search_space')
        return branches
    return dict(proxy_cfg=settings.proxy_cfg, seed=settings.seed)[name]


def build_field(settings: SearchSettings, field: str, built, options: object):
    """The filter (a ``FILTERS`` type name) or stage (a class) ``built`` of searcher
    argument ``field`` from its settings dict and the ``search_inputs`` it names (the
    field's own ``seed`` wins over the search's)."""
    if not isinstance(options, dict) or 'type' in options:
        raise SearchConfigError(f'searcher.{field} must be a dict of settings (without '
                                f'"type"), got {options!r}')
    cls = FILTERS.get(built) if isinstance(built, str) else built
    inputs = {name: search_input(settings, name, field) for name in cls.search_inputs}
    if isinstance(built, str):
        return build_from_registry(FILTERS, dict(options, type=built), f'searcher.{field}',
                                   'filter', inputs)
    try:
        return cls(**dict(inputs, **options))
    except (TypeError, ValueError) as error:
        raise SearchConfigError(f'searcher.{field}: {error}') from error


def build_searcher(settings: SearchSettings) -> BaseSearcher:
    """The searcher of the config, with what the space gives it (a vector space: ``dim``
    and the identity ``initial_mean``; a formula space: its ``branches``) and the filters
    and stages it declares (``built_fields``), built from their settings dicts."""
    cfg = dict(settings.searcher_cfg)
    check_known_type(SEARCHERS, cfg, 'searcher', 'searcher')  # before building its filters
    space_args = settings.space.searcher_args()
    for key in ('num_rounds', 'samples_per_round', 'seed', *space_args):
        if key in cfg:
            raise SearchConfigError(f'searcher.{key} is set by the search config itself '
                                    '(space, budget, seed); remove it')
    searcher_cls = SEARCHERS.get(cfg['type'])
    for name in searcher_cls.default_fields:
        cfg.setdefault(name, {})
    for name, built in searcher_cls.built_fields.items():
        if cfg.get(name) is not None:
            cfg[name] = build_field(settings, name, built, cfg[name])
    return build_from_registry(
        SEARCHERS, cfg, 'searcher', 'searcher',
        dict(num_rounds=settings.rounds, samples_per_round=settings.samples_per_round,
             seed=settings.seed, **space_args))


def build_watch_hooks(settings: SearchSettings) -> list[SearchHook]:
    """The hooks that let people watch the search: mmengine's visualizer backends (local
    by default) and the Optuna study (``optuna_storage``; ``'auto'``: a SQLite file in the
    work dir when Optuna is installed)."""
    hooks: list[SearchHook] = [VisualizerHook(settings.vis_backends)]
    storage = settings.optuna_storage
    if storage == 'auto':
        storage = DEFAULT_STORAGE if importlib.util.find_spec('optuna') else None
    if storage is not None:
        hooks.append(OptunaHook(storage, settings.space.describe))
    return hooks


def build_executor(settings: SearchSettings, gpus: int = 0,
                   gpus_per_trial: float | None = None) -> BaseExecutor:
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
