"""What a search leaves behind besides its journal: ``best.json`` (the best candidates with
their loss overrides), the best loss exported as a ready-to-train config, the reward plot
and the best candidate drawn."""
from __future__ import annotations

import copy
import math
import os.path as osp

from mmengine.config import Config

from ..utils.atomic_json import write_json_atomic
from .events import TrialEvent
from .report import retrain_winner, time_spent
from .searchers import BaseSearcher
from .settings import SearchSettings
from .structures import (
    BEST_CONFIG_NAME,
    BEST_NAME,
    BEST_PLOT_NAME,
    PROXY_ROLES,
    REWARDS_PLOT_NAME,
    TrialRole,
    TrialStatus,
    entry_plot_name,
)
from .trial import proxy_config_copy


def export_best_config(proxy_config: str | Config, overrides: dict, path: str) -> str:
    """Write the proxy config (a file, or the parsed Config, left unchanged) with the best
    candidate's loss overrides merged in (``Config.dump``): a config ready to train with
    the searched loss."""
    cfg = proxy_config_copy(proxy_config)
    cfg.merge_from_dict(copy.deepcopy(overrides))
    cfg.dump(path)
    return path


def best_payload(settings: SearchSettings, searcher: BaseSearcher,
                 trial_events: list[TrialEvent], table: dict | None) -> dict:
    """The ``best.json`` payload: the searcher's selected, best-sampled and best-mean
    candidates with their overrides (and formulas), the rounds, the trials and the failed
    ones, the generations of a staged search, and the re-training winner when ``table``
    (the re-training stage's) has one."""
    result = searcher.result()
    space = settings.space

    def entry(best: dict | None) -> dict | None:
        if best is None:
            return None
        described = space.describe(best['genotype'])
        extra = {} if described is None else dict(formulas_math=described)
        return dict(best, overrides=space.to_overrides(best['genotype']), **extra)

    payload = dict(reward_key=settings.reward_key,
                   searcher=settings.searcher_cfg['type'],
                   selected=entry(result['selected']),
                   best_sample=entry(result['best_sample']),
                   best_mean=entry(result.get('best_mean')),
                   rounds=searcher.history,
                   num_trials=len(trial_events),
                   failed_trials=sorted(e.trial_id for e in trial_events
                                        if e.result.status != TrialStatus.OK))
    if result.get('generations'):
        payload['generations'] = result['generations']
    if settings.forecast is not None:  # a planned search: time spent against the forecast
        spent = time_spent(trial_events)
        payload['forecast'] = dict(settings.forecast)
        payload['time_spent'] = {k: v for k, v in spent.items() if k != 'wall_s'}
    winner = None if table is None else retrain_winner(table)
    if winner is not None:
        targets = [dict(t, rows=[{k: v for k, v in row.items() if k != 'seed_rewards'}
                                 for row in t['rows']]) for t in table['targets']]
        payload['retrain'] = dict(winner=winner, targets=targets)
    return payload


def write_best(work_dir: str, settings: SearchSettings, payload: dict,
               trial_events: list[TrialEvent], table: dict | None) -> None:
    """Write ``best.json`` (atomically), the exported config (the re-training winner's on
    the first target when there is one, else the selected candidate's on the proxy) and
    the plots: rewards, the best candidate, every re-trained searched loss."""
    space = settings.space
    base_config, exported = settings.proxy_cfg, payload['selected']['overrides']
    if 'retrain' in payload:
        base_config = settings.retrain_targets[0].config
        exported = space.to_overrides(payload['retrain']['winner']['genotype'])
    for row in [] if table is None else table['targets'][0]['rows']:
        retrained = row['entry']  # the searched curves / formulas, beside the report
        if retrained['kind'] == 'searched':
            space.plot(retrained['genotype'],
                       osp.join(work_dir, entry_plot_name(retrained['name'])),
                       f'{retrained["name"]} ({retrained["candidate_id"]})')
    write_json_atomic(osp.join(work_dir, BEST_NAME), payload)
    selected = payload['selected']
    export_best_config(base_config, exported, osp.join(work_dir, BEST_CONFIG_NAME))
    plot_rewards([e for e in trial_events if e.role in PROXY_ROLES],
                 osp.join(work_dir, REWARDS_PLOT_NAME), settings.reward_key)
    space.plot(selected['genotype'], osp.join(work_dir, BEST_PLOT_NAME),
               f'best {settings.reward_key} = {selected["reward"]:.4f} '
               f'({selected["candidate_id"]})')


def plot_rewards(trial_events: list[TrialEvent], path: str, reward_key: str) -> None:
    """Rewards of every trial per round (failed ones marked), the mean's own reward and the
    best reward so far."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ok = [e for e in trial_events if e.result.status == TrialStatus.OK]
    failed = [e for e in trial_events if e.result.status != TrialStatus.OK]
    ax.scatter([e.round for e in ok], [e.result.reward for e in ok], s=14,
               color='tab:blue', alpha=0.6, label='sample')
    if failed:
        ax.scatter([e.round for e in failed], [e.result.reward for e in failed],
                   s=22, marker='x', color='tab:red', label='failed trial')
    means = sorted((e.round, e.result.reward) for e in trial_events
                   if e.role == TrialRole.MEAN)
    if means:
        ax.plot(*zip(*means), color='tab:green', marker='o', label='mean (baseline sample)')
    rounds = sorted({e.round for e in trial_events})
    best, best_so_far = -math.inf, []
    for r in rounds:
        best = max([best] + [e.result.reward for e in trial_events if e.round == r])
        best_so_far.append(best)
    ax.plot(rounds, best_so_far, color='black', linestyle='--', label='best so far')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('round')
    ax.set_ylabel(reward_key)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
