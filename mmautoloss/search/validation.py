"""Reading and checking a search config (fields in :mod:`.settings`) before anything
starts: every field, the proxy config it names, the loss every candidate will build, the
reward key, the searcher and its filters, the executor.

Every problem is reported as :class:`~.errors.SearchConfigError` naming the key and its
value.
"""
import os.path as osp
import warnings

from mmengine.config import Config
from mmengine.registry import MODELS

from ..evaluation.metric_keys import reported_keys
from ..registry import EXECUTORS, SPACES
from ..utils.checks import check_int, check_number
from .builders import build_early_stopping, build_from_registry, build_searcher, check_known_type
from .errors import SearchConfigError
from .retraining import check_retrain
from .settings import EXECUTOR_RESERVED, OPTIONAL_KEYS, REQUIRED_KEYS, SearchSettings, plain
from .spaces import BaseSpace
from .structures import get_config_key

#: settings a loss and the head that calls it both hold; they must agree (a loss built for
#: 5 classes under a 3-class head crashes every trial at its first forward)
HEAD_SHARED_FIELDS = ('num_classes', )


def _typed_dict(cfg: Config, key: str) -> dict:
    value = cfg.get(key, OPTIONAL_KEYS.get(key))
    if not isinstance(value, dict) or not isinstance(value.get('type'), str):
        raise SearchConfigError(f'{key} must be a dict with a string "type", got {value!r}')
    return plain(value)


def _number(value: object, key: str, positive: bool = False) -> float:
    if positive:
        return check_number(value, key, 0, exclusive_low=True, error=SearchConfigError,
                            expected='a finite positive number')
    return check_number(value, key, error=SearchConfigError)


def _int(value: object, key: str, low: int) -> int:
    return check_int(value, key, low, error=SearchConfigError)


def _work_dir(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise SearchConfigError(f'work_dir must be a non-empty path string or None, got '
                                f'{value!r}')
    return value


def check_reward_key(reward_key: str, proxy_cfg: Config) -> None:
    """Raise unless some val_evaluator metric of the proxy reports ``reward_key``; warn
    (and accept) when an evaluator type is unknown."""
    if proxy_cfg.get('val_evaluator', None) is None:
        raise SearchConfigError('proxy_config has no val_evaluator, so no reward can be read')
    known, unknown = reported_keys(proxy_cfg)
    if reward_key in known:
        return
    if unknown:
        warnings.warn(f'reward_key={reward_key!r} is not reported by the known evaluators '
                      f'(keys {sorted(known)}); accepting it because the proxy also uses '
                      f'evaluator types {unknown} whose keys are not known')
        return
    raise SearchConfigError(f'reward_key={reward_key!r} is not reported by the proxy '
                            f"config's val_evaluator; it reports {sorted(known)}")


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


def load_search_config(path: str, cfg_options: dict | None = None) -> Config:
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
        early_stopping=plain(cfg.get('early_stopping', None)),
        seeds_per_candidate=_int(cfg.get('seeds_per_candidate', 1), 'seeds_per_candidate', 1),
        retrain=None)
    settings.vis_backends = _vis_backends(plain(cfg.get('visualizer', None)))
    settings.optuna_storage = _optuna_storage(cfg.get('optuna_storage', 'auto'))
    settings.check_slots = cfg.get('check_slots', True)
    if not isinstance(settings.check_slots, bool):
        raise SearchConfigError(f'check_slots must be True or False, got '
                                f'{settings.check_slots!r}')
    settings.forecast = _forecast(plain(cfg.get('forecast', None)))
    settings.retrain, settings.retrain_targets = check_retrain(
        plain(cfg.get('retrain', None)), list(space.keys), proxy_cfg, SearchConfigError)
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


def _vis_backends(visualizer: object) -> list[dict] | None:
    """The backends of ``visualizer=dict(vis_backends=[dict(type=...), ...])``, each a
    registered mmengine vis backend; None when the config names none."""
    if visualizer is None:
        return None
    from mmengine.registry import VISBACKENDS
    backends = visualizer.get('vis_backends') if isinstance(visualizer, dict) else None
    if not isinstance(backends, list) or set(visualizer) != {'vis_backends'} or \
            not backends or not all(isinstance(b, dict) and 'type' in b for b in backends):
        raise SearchConfigError(f'visualizer must be dict(vis_backends=[dict(type=...), ...]) '
                                f'with mmengine vis backends, got {visualizer!r}')
    for backend in backends:
        if VISBACKENDS.get(backend['type']) is None:
            raise SearchConfigError(f'visualizer.vis_backends: type={backend["type"]!r} is not '
                                    'an mmengine vis backend (LocalVisBackend, '
                                    'TensorboardVisBackend, WandbVisBackend, MLflowVisBackend)')
    return backends


#: the entries of ``forecast``, in seconds
FORECAST_KEYS = ('trial_s', 'search_s', 'retrain_s')


def _forecast(forecast: object) -> dict | None:
    if forecast is None:
        return None
    if not isinstance(forecast, dict) or set(forecast) != set(FORECAST_KEYS) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in forecast.values()):
        raise SearchConfigError(f'forecast must be dict({", ".join(FORECAST_KEYS)}) in '
                                f'seconds >= 0, got {forecast!r}')
    return forecast


def _optuna_storage(storage: object) -> str | None:
    if storage is None or storage == 'auto' or (isinstance(storage, str) and '://' in storage):
        return storage
    raise SearchConfigError(f"optuna_storage must be an Optuna storage URL "
                            f"('sqlite:///path.db', 'postgresql://...'), 'auto' or None, got "
                            f"{storage!r}")


def _check_executor_cfg(executor_cfg: dict) -> None:
    check_known_type(EXECUTORS, executor_cfg, 'executor', 'executor')
    for key in EXECUTOR_RESERVED:
        if key in executor_cfg:
            raise SearchConfigError(f'executor.{key} is set by the search config or the '
                                    'command line (proxy_config, reward_key, failure_reward, '
                                    'trial_timeout, early_stopping, --gpus); remove it')
