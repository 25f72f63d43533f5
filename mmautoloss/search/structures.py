"""The nouns of a search (as Optuna's ``FrozenTrial`` / mmengine's structures): what a
candidate is, the roles and statuses that the journal records, the journal's event names,
the files of a search's work dir, and dotted config keys.

This module is the ground floor of :mod:`mmautoloss.search`: it imports nothing of the
search, so every other module (searchers, spaces, filters, executors, the loop, the
reports) reads its vocabulary here. The enums are ``str`` enums: their members compare
equal to and serialise as the plain strings the journal has always held.
"""
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mmengine.config import Config

from ..engine.hooks.metrics_dump_hook import HISTORY_NAME, METRICS_NAME
from ..engine.hooks.nonfinite_loss_hook import NONFINITE_MARKER_NAME

#: what a candidate is: a vector in [0, 1]^dim (ASL, PAP) or one formula string per searched
#: config key (AutoLoss-Zero, CSE-Autoloss); JSON-serialisable either way, as journaled
Genotype = list[float] | dict[str, str]


class TrialRole(StrEnum):
    """What a trial's reward means.

    ``mean``: the distribution mean sampled as a baseline (ASL section 4.3); ``sample``: a
    candidate of the searcher; ``simulation``: CSE-Autoloss's short training on its
    verification set (section 3.2.3; not a proxy reward); ``retrain``: a trial of the
    re-training stage; ``tune``: a baseline's learning-rate sweep trial on the search split
    (:mod:`~.baseline_tuning`).
    """
    SAMPLE = 'sample'
    MEAN = 'mean'
    SIMULATION = 'simulation'
    RETRAIN = 'retrain'
    TUNE = 'tune'


#: roles whose reward is the proxy's reward metric (best candidate, history)
PROXY_ROLES = (TrialRole.SAMPLE, TrialRole.MEAN)


class TrialStatus(StrEnum):
    """Outcome of a trial (see :class:`~mmautoloss.search.trial.TrialResult`)."""
    OK = 'ok'
    CRASHED = 'crashed'
    TIMEOUT = 'timeout'
    NONFINITE = 'nonfinite'
    NO_METRIC = 'no_metric'
    STOPPED = 'stopped'


TRIAL_STATUSES = tuple(status.value for status in TrialStatus)


class VerdictStatus(StrEnum):
    """A formula filter's decision on one formula (AutoLoss-Zero section 3.3, CSE-Autoloss
    section 3.2.2): ``invalid`` (NaN / Inf loss or gradient, or no gradient at all),
    ``rejected`` (the loss-rejection score under its threshold), ``non_convergent`` (a
    convergence property fails)."""
    ACCEPTED = 'accepted'
    INVALID = 'invalid'
    REJECTED = 'rejected'
    NON_CONVERGENT = 'non_convergent'


class EventName(StrEnum):
    """The kinds of journal line, in the order a search writes them."""
    SEARCH_START = 'search_start'
    ROUND_START = 'round_start'
    TRIAL = 'trial'
    ROUND_END = 'round_end'
    RETRAIN_START = 'retrain_start'
    SEARCH_END = 'search_end'


#: the ``round`` of the re-training stage's trial events
RETRAIN_ROUND = 'retrain'


@dataclass(frozen=True)
class Candidate:
    """One point to evaluate, identified by ``candidate_id``; ``role`` a :class:`TrialRole`
    (``sample`` unless the searcher says otherwise)."""
    candidate_id: str
    round: int
    index: int
    genotype: Genotype
    role: str = TrialRole.SAMPLE


def candidate_id(round_index: int, index: int) -> str:
    """Stable trial id of candidate ``index`` of round ``round_index`` (e.g. ``r003-c05``)."""
    return f'r{round_index:03d}-c{index:02d}'


def check_unit_vector(vector: Sequence[float], dim: int, name: str) -> list[float]:
    """Return ``vector`` as floats after checking length ``dim``, finiteness and [0, 1]."""
    values = [float(v) for v in vector]
    if len(values) != dim:
        raise ValueError(f'{name} must have {dim} values, got {len(values)}')
    for i, value in enumerate(values):
        if not math.isfinite(value) or value < 0 or value > 1:
            raise ValueError(f'{name}[{i}] must be a finite number in [0, 1], got {value!r}')
    return values


def get_config_key(cfg: Config, key: str) -> object:
    """Value at dotted ``key`` (e.g. ``'model.decode_head.loss_decode'``) of a config."""
    if not isinstance(key, str) or not key:
        raise ValueError(f'config key must be a non-empty dotted string, got {key!r}')
    node = cfg
    walked = []
    for part in key.split('.'):
        walked.append(part)
        if not isinstance(node, (dict, Config)) or part not in node:
            raise ValueError(f'key {key!r}: the proxy config has no {".".join(walked)!r}')
        node = node[part]
    return node


# -- the files of a search's work dir ---------------------------------------------------
JOURNAL_NAME = 'journal.jsonl'
STATE_NAME = 'state.json'
BEST_NAME = 'best.json'
BEST_CONFIG_NAME = 'best_config.py'
REWARDS_PLOT_NAME = 'rewards.png'
#: the best candidate drawn: its curves (ASL / PAP) or its formulas (ALZ / CSE)
BEST_PLOT_NAME = 'best_curves.png'
REPORT_MD = 'report.md'
REPORT_PNG = 'report.png'
#: one directory per trial, named by its trial id
TRIALS_DIR = 'trials'


def entry_plot_name(name: str) -> str:
    """The file of a re-trained searched loss's curves / formulas beside the report."""
    return f'retrain_{name}.png'


# -- the files of a trial's work dir ----------------------------------------------------
CONFIG_NAME = 'config.py'
LOG_NAME = 'trial.log'
#: written by the trial job's hooks (which run inside the job and cannot import the
#: search): the final metrics, each validation's metrics, the NaN-loss marker
TRIAL_OUTCOME_FILES = (METRICS_NAME, NONFINITE_MARKER_NAME, HISTORY_NAME)
__all__ = ['BEST_CONFIG_NAME', 'BEST_NAME', 'BEST_PLOT_NAME', 'CONFIG_NAME', 'Candidate',
           'EventName', 'Genotype', 'HISTORY_NAME', 'JOURNAL_NAME', 'LOG_NAME',
           'METRICS_NAME', 'NONFINITE_MARKER_NAME', 'PROXY_ROLES', 'REPORT_MD', 'REPORT_PNG',
           'RETRAIN_ROUND', 'REWARDS_PLOT_NAME', 'STATE_NAME', 'TRIALS_DIR',
           'TRIAL_OUTCOME_FILES', 'TRIAL_STATUSES', 'TrialRole', 'TrialStatus',
           'VerdictStatus', 'candidate_id', 'check_unit_vector', 'entry_plot_name',
           'get_config_key']
