"""The search config's schema: its fields, their defaults, and the validated settings a
search runs with (:class:`SearchSettings`) with the fingerprint that ``--resume`` checks.

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
    retrain = dict(...)            # optional: the re-training stage (see ``retraining``)
    visualizer = dict(vis_backends=[dict(type='TensorboardVisBackend')])  # default: local
    optuna_storage = 'auto'        # an Optuna storage URL, 'auto' or None (``optuna_study``)
    check_slots = True             # before the first round: is the candidate loss used?
    forecast = dict(trial_s=..., search_s=..., retrain_s=...)   # tools/plan_search.py's

``check_slots`` runs :func:`~.slot_check.check_slots` on an example candidate before the
first round of a new search. ``forecast`` (seconds) is shown beside the time spent in
``best.json`` and ``report.md``. ``visualizer`` and ``optuna_storage`` only watch a search.
These four are not fingerprinted and may change between a run and its ``--resume``;
``'auto'`` is ``sqlite:///WORK_DIR/optuna.db`` when Optuna is installed (``pip install
mmautoloss[dashboard]``), else no study.

Names starting with ``_`` are helper variables and ignored; any other key is an error
(:mod:`.validation`).
"""
import json
from dataclasses import dataclass, field

from mmengine.config import Config

from .retraining import RetrainTarget
from .spaces import BaseSpace

REQUIRED_KEYS = ('proxy_config', 'search_space', 'reward_key', 'searcher', 'budget')
OPTIONAL_KEYS = {'executor': dict(type='LocalExecutor'), 'seed': 0, 'failure_reward': 0.0,
                 'trial_timeout': 3600.0, 'work_dir': None, 'early_stopping': None,
                 'seeds_per_candidate': 1, 'retrain': None, 'visualizer': None,
                 'optuna_storage': 'auto', 'check_slots': True, 'forecast': None}
#: executor arguments that the search config sets through its own top-level fields or the CLI
EXECUTOR_RESERVED = ('proxy_config', 'reward_key', 'failure_reward', 'timeout_s', 'gpus',
                     'early_stopping')
#: executor settings that schedule trials without changing any outcome; they may change
#: between a run and its --resume
EXECUTOR_SCHEDULING_KEYS = ('max_concurrent', 'poll_interval_s', 'kill_grace_s',
                            'keep_checkpoints', 'address', 'num_cpus', 'num_gpus',
                            'cpus_per_trial', 'memory_per_trial_gb', 'fork_jobs')


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
    work_dir: str | None
    early_stopping: dict | None = None
    seeds_per_candidate: int = 1
    retrain: dict | None = None
    #: the re-training stage's target configs, built from ``retrain`` (not fingerprinted)
    retrain_targets: list[RetrainTarget] = field(default_factory=list)
    #: mmengine vis backend configs the search logs to (not fingerprinted)
    vis_backends: list[dict] | None = None
    #: an Optuna storage URL, ``'auto'`` or None (not fingerprinted)
    optuna_storage: str | None = 'auto'
    #: check the searched slots with an example candidate before a new search (not
    #: fingerprinted)
    check_slots: bool = True
    #: seconds forecast by tools/plan_search.py (``trial_s``, ``search_s``, ``retrain_s``);
    #: not fingerprinted
    forecast: dict | None = None

    def fingerprint(self) -> dict:
        """Settings that decide the search's results; a resumed search must match them.

        The proxy config counts by content (the resolved config, its bases included, as
        JSON would record it), so editing it between a run and its ``--resume`` is caught
        and named setting by setting; so do the trial timeout and the executor settings
        that decide a trial's outcome (all but :data:`EXECUTOR_SCHEDULING_KEYS`, which only
        decide how trials are scheduled).
        """
        resolved = json.loads(json.dumps(plain(self.proxy_cfg.to_dict()), sort_keys=True,
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


def plain(value: object) -> object:
    """Config values as plain dicts / lists (ConfigDict -> dict, tuple -> list)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
