"""The search report, from the journal alone: ``report.md`` and ``report.png``.

The re-training stage's table (see :mod:`~.retraining`): for every target, each re-trained
loss and baseline with the mean +- sample standard deviation over its seeds of the reward
metric and of every other number the evaluator reported, the seeds finished, and what the
loss is (the searched formulas, or the candidate vector of searched curve parameters).
``report.png`` shows every seed's reward. Written at the end of a search and by
``python tools/search_report.py WORK_DIR``, also while the search still runs (unfinished
entries show the seeds they have).
"""
from __future__ import annotations

import math
import os.path as osp
import statistics

from .baseline_tuning import chosen_factors
from .events import JournalEvent, RetrainStart, RoundStart, SearchEnd, SearchStart, TrialEvent
from .paired_statistics import ALPHA, TAU_WARNING, kendall_tau, paired_comparison
from .perturbation import trains_on
from .structures import PROXY_ROLES, REPORT_MD, REPORT_PNG, TrialStatus, entry_plot_name

#: the kinds of entry a searched loss is compared with
BASELINE_KINDS = ('baseline', 'tuned')


def mean_std(values: list[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value) of seeds' values."""
    return (sum(values) / len(values),
            statistics.stdev(values) if len(values) > 1 else 0.0)


def retrain_table(events: list[JournalEvent]) -> dict | None:
    """Per target, per entry of the journaled plan: the seeds' rewards and metrics; None
    when the search has no re-training stage (yet)."""
    start = next((e for e in events if isinstance(e, RetrainStart)), None)
    if start is None:
        return None
    done = [e for e in events if isinstance(e, TrialEvent) and e.is_retraining]
    targets = []
    for index, target in enumerate(start.targets):
        rows = []
        for entry in start.entries:
            if not trains_on(entry, index):
                continue
            trials = sorted((e for e in done if e.target_index == index
                             and e.entry == entry['name']), key=lambda e: e.seed_index)
            ok = [e.result for e in trials if e.result.status == TrialStatus.OK]
            metrics: dict[str, tuple] = {}
            for key in sorted({k for r in ok for k in r.metrics}):
                values = [r.metrics[key] for r in ok if _is_number(r.metrics.get(key))]
                if len(values) == len(ok) and values:
                    metrics[key] = mean_std(values)
            rewards = [e.result.reward for e in trials]
            rows.append(dict(entry=entry, rewards=rewards, failed=len(trials) - len(ok),
                             reward=mean_std(rewards) if rewards else None, metrics=metrics,
                             seed_rewards={e.seed_index: e.result.reward for e in trials
                                           if e.result.status == TrialStatus.OK}))
        targets.append(dict(name=target, rows=rows))
    tuned = [e for e in start.entries if e['kind'] == 'tuned']
    tuning = chosen_factors(done, [e['tuned_of'] for e in tuned],
                            tuned[0]['lr_factors']) if tuned else {}
    return dict(reward_key=start.reward_key, seeds=start.seeds, targets=targets,
                same_split=start.same_split or [], tuning=tuning,
                lr_factors=tuned[0]['lr_factors'] if tuned else [])


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def retrain_winner(table: dict) -> dict | None:
    """The searched entry with the best mean reward on the first target, once all its
    seeds are in (None before that, or with no searched entry)."""
    rows = [r for r in table['targets'][0]['rows'] if r['entry']['kind'] == 'searched'
            and len(r['rewards']) == table['seeds']]
    return max(rows, key=lambda r: r['reward'][0])['entry'] if rows else None


def describe_entry(entry: dict, tuning: dict | None = None) -> str:
    """What an entry trains: its formulas, its curve parameters, or the baseline's loss;
    with the learning-rate factor of a tuned entry (``tuning``: the sweep's choices) and a
    perturbed entry's factors."""
    kind = entry.get('of_kind', entry['kind'])
    if kind in BASELINE_KINDS:
        text = "the target config's own loss" if entry['overrides'] is None else '; '.join(
            f'{k}: {v.get("type", v) if isinstance(v, dict) else v}'
            for k, v in entry['overrides'].items())
        if 'tuned_of' in entry:
            choice = (tuning or {}).get(entry['tuned_of'])
            text += ', lr x' + (f'{choice["chosen"]:g}' if choice else '? (sweep running)') + \
                ' chosen on the search split'
    else:
        text = _describe_candidate(entry)
    return text + ''.join(f', {k} x{v:g}' for k, v in entry.get('perturb', {}).items())


def _describe_candidate(entry: dict) -> str:
    """A searched or calibration entry's formulas, or its curve parameters."""
    genotype = entry['genotype']
    if isinstance(genotype, dict):
        return ' | '.join(f'{k}: {v}' for k, v in genotype.items())
    return f'{entry["candidate_id"]} (search reward {entry["search_reward"]:.4f}): [' + \
        ', '.join(f'{v:.3f}' for v in genotype) + ']'


def format_retrain_table(table: dict) -> str:
    """Markdown tables (one per target) of the re-training stage (perturbed entries are in
    :func:`perturbed_ranking`)."""
    key = table['reward_key']
    lines = []
    for target in table['targets']:
        rows = [r for r in target['rows'] if r['entry']['kind'] != 'perturbed']
        others = sorted({k for r in rows for k in r['metrics'] if k != key})
        lines += [f'### {target["name"]}', '',
                  '| loss | seeds | ' + ' | '.join([key] + others) + ' | what it is |',
                  '|---|---|' + '---|' * (len(others) + 1) + '---|']
        for row in rows:
            cells = [_cell(row['reward'])] + [_cell(row['metrics'].get(k)) for k in others]
            seeds = f'{len(row["rewards"])}/{table["seeds"]}' + \
                (f' ({row["failed"]} failed)' if row['failed'] else '')
            lines.append(f'| {row["entry"]["name"]} | {seeds} | ' + ' | '.join(cells) +
                         f' | {describe_entry(row["entry"], table.get("tuning"))} |')
        lines.append('')
    return '\n'.join(lines)


def paired_differences(table: dict) -> list[str]:
    """Per target, each searched entry against each baseline, paired by seed: mean
    difference, 95 % CI, the paired t-test's p-value, seeds won / lost and a verdict
    (:mod:`.paired_statistics`); no lines without both kinds of entry."""
    lines = []
    for target in table['targets']:
        searched = [r for r in target['rows'] if r['entry']['kind'] == 'searched']
        baselines = [r for r in target['rows'] if r['entry']['kind'] in BASELINE_KINDS]
        rows = _paired_rows(searched, baselines)
        if len(rows) == 2:  # the header alone: no pair of entries shares a finished seed
            continue
        if not lines:
            lines = [f'## Paired differences of {table["reward_key"]} (by seed; paired '
                     f't-test, 95 % CI, verdict at p < {ALPHA})', '']
        lines += [f'### {target["name"]}', '', *rows, '']
    return lines


def _paired_rows(searched: list[dict], baselines: list[dict]) -> list[str]:
    """A markdown table of each searched row minus each baseline row, paired by seed."""
    lines = ['| searched - baseline | pairs | mean diff | 95 % CI | p | won / lost | verdict |',
             '|---|---:|---:|---|---:|---|---|']
    for row in searched:
        for base in baselines:
            result = paired_comparison(row['seed_rewards'], base['seed_rewards'])
            if result is None:
                continue
            ci = '-' if math.isnan(result.ci_low) else \
                f'[{result.ci_low:.4f}, {result.ci_high:.4f}]'
            p = '-' if math.isnan(result.p_value) else f'{result.p_value:.4f}'
            lines.append(f'| {row["entry"]["name"]} - {base["entry"]["name"]} | '
                         f'{result.n} | {result.mean_diff:+.4f} | {ci} | {p} | '
                         f'{result.won} / {result.lost} | {result.verdict} |')
    return lines


def baseline_tuning(table: dict) -> list[str]:
    """The baselines' learning-rate sweeps on the search split (proxy reward per factor,
    the chosen one in bold); no lines without ``tune_baselines``."""
    factors = table.get('lr_factors') or []
    if not factors:
        return []
    lines = [f'## Baseline tuning: learning-rate sweep on the search split (proxy '
             f'{table["reward_key"]}; the chosen factor in bold)', '',
             '| baseline | ' + ' | '.join(f'lr x{f:g}' for f in factors) + ' |',
             '|---|' + '---:|' * len(factors)]
    for name, choice in table['tuning'].items():
        cells = ['failed' if choice['rewards'][f] is None else
                 (f'**{choice["rewards"][f]:.4f}**' if f == choice['chosen']
                  else f'{choice["rewards"][f]:.4f}') for f in factors]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return lines + ['']


def perturbed_ranking(table: dict) -> list[str]:
    """Per target and perturbation: each perturbed entry's mean beside its unperturbed
    one, whether the order of their means is the unperturbed order, and rank1 against each
    baseline under the perturbation, paired by seed; no lines without ``perturb``."""
    lines = []
    for target in table['targets']:
        rows = {r['entry']['name']: r for r in target['rows']}
        groups: dict[str, list[dict]] = {}
        for row in target['rows']:
            if row['entry']['kind'] == 'perturbed' and row['reward'] is not None:
                (setting, factor), = row['entry']['perturb'].items()
                groups.setdefault(f'{setting} x{factor:g}', []).append(row)
        if not groups:
            continue
        if not lines:
            lines = [f'## Perturbed settings: does the ranking survive? ({table["reward_key"]},'
                     ' mean +- std)', '']
        lines.append(f'### {target["name"]}')
        for label, perturbed in groups.items():
            base = [rows[r['entry']['of']] for r in perturbed]
            same = _order(base) == _order(perturbed)
            lines += ['', f'#### {label}: ranking of the entries ' +
                      ('unchanged' if same else '**changed**'), '',
                      '| entry | unperturbed | perturbed |', '|---|---|---|']
            lines += [f'| {r["entry"]["of"]} | {_cell(b["reward"])} | {_cell(r["reward"])} |'
                      for r, b in zip(perturbed, base)]
            searched = [r for r in perturbed if r['entry']['of_kind'] == 'searched']
            others = [r for r in perturbed if r['entry']['of_kind'] in BASELINE_KINDS]
            paired = _paired_rows(searched, others)
            if len(paired) > 2:
                lines += ['', *paired]
        lines.append('')
    return lines


def _order(rows: list[dict]) -> list[int]:
    """The positions of ``rows`` sorted by mean reward, best first."""
    return sorted(range(len(rows)), key=lambda i: -rows[i]['reward'][0])


def split_warning(table: dict) -> list[str]:
    """A warning when a target validates on the images the proxy rewarded candidates on:
    its numbers are not a held-out report of the searched loss."""
    if not table.get('same_split'):
        return []
    return [f'**Warning: {", ".join(table["same_split"])} validate(s) on the same images as '
            f'the proxy, which chose the searched losses: those numbers are not held out.**',
            '']


def proxy_trust(table: dict) -> list[str]:
    """Kendall's tau between the searched and calibration entries' proxy rewards and their
    mean rewards on each target (at least 3 entries), with a warning below
    :data:`TAU_WARNING`."""
    lines = []
    for target in table['targets']:
        rows = [r for r in target['rows'] if r['entry']['kind'] in ('searched', 'calibration')
                and r['reward'] is not None]
        tau = kendall_tau([r['entry']['search_reward'] for r in rows],
                          [r['reward'][0] for r in rows])
        if tau is None:
            continue
        if not lines:
            lines = ['## Proxy trust (Kendall tau, proxy reward vs re-trained mean)', '']
        warning = f' **Warning: tau < {TAU_WARNING}: the proxy does not rank losses as ' \
            f'{target["name"]} does.**' if tau[0] < TAU_WARNING else ''
        lines.append(f'- {target["name"]}: tau = {tau[0]:.3f} (p = {tau[1]:.4f}, '
                     f'{len(rows)} entries).{warning}')
    return lines + [''] if lines else []


def _cell(value: tuple | None) -> str:
    return '-' if value is None else f'{value[0]:.4f} +- {value[1]:.4f}'


def search_summary(events: list[JournalEvent]) -> list[str]:
    """Lines on the search itself: searcher, trials, the best proxy reward."""
    fingerprint = events[0].fingerprint if events and isinstance(events[0], SearchStart) \
        else {}
    trials = [e for e in events if isinstance(e, TrialEvent) and not e.is_retraining
              and e.role in PROXY_ROLES]
    lines = [f'- searcher: {fingerprint.get("searcher", {}).get("type", "?")}, reward '
             f'`{fingerprint.get("reward_key", "?")}`, '
             f'proxy `{fingerprint.get("proxy_config", "?")}`',
             f'- proxy trainings journaled: {len(trials)} '
             f'({sum(e.result.status != TrialStatus.OK for e in trials)} failed)']
    if trials:
        best = max(trials, key=lambda e: e.result.reward)
        lines.append(f'- best proxy trial: {best.trial_id} ({best.result.reward:.4f})')
    if any(isinstance(e, SearchEnd) for e in events):
        lines.append('- the search has ended')
    return lines


#: the candidate counts of AutoLoss-Zero's Table 7, as RegularizedEvolutionSearcher's rounds
#: journal them (``explored`` is the sum of the others)
FUNNEL = ('explored', 'invalid', 'rejected', 'equivalent', 'copies', 'trained')


def candidate_funnel(events: list[JournalEvent]) -> list[str]:
    """A table of each round's candidate counts and their total (AutoLoss-Zero Table 7);
    no lines when the searcher journals none."""
    rows = [e for e in events if isinstance(e, RoundStart) and e.filter_stats
            and set(FUNNEL) <= set(e.filter_stats)]
    if not rows:
        return []
    lines = ['## Candidates per round (explored = invalid + rejected + equivalent + copies '
             '+ trained)', '', '| round | ' + ' | '.join(FUNNEL) + ' |',
             '|---|' + '---:|' * len(FUNNEL)]
    for event in rows:
        lines.append(f'| {event.round} | ' +
                     ' | '.join(str(event.filter_stats[k]) for k in FUNNEL) + ' |')
    lines.append('| total | ' + ' | '.join(
        str(sum(e.filter_stats[k] for e in rows)) for k in FUNNEL) + ' |')
    return lines + ['']


def time_spent(events: list[JournalEvent]) -> dict:
    """Trainings and their summed durations (seconds) of the search and of the re-training
    stage, and the wall time from the journal's first line to its last."""
    trials = [e for e in events if isinstance(e, TrialEvent)]
    proxy = [e.result.duration_s for e in trials if not e.is_retraining]
    retrain = [e.result.duration_s for e in trials if e.is_retraining]
    return dict(proxy_trainings=len(proxy), search_s=round(sum(proxy), 1),
                retrain_trainings=len(retrain), retrain_s=round(sum(retrain), 1),
                wall_s=round(events[-1].time - events[0].time, 1) if events else 0.0)


def time_against_forecast(events: list[JournalEvent]) -> list[str]:
    """A table of the time spent beside the planned forecast; no lines for a search that
    was not planned by tools/plan_search.py."""
    forecast = events[0].forecast if events and isinstance(events[0], SearchStart) else None
    if not forecast:
        return []
    spent = time_spent(events)
    return ['## Time against the forecast (seconds; trainings one after another)', '',
            '| stage | trainings | spent | forecast |', '|---|---:|---:|---:|',
            f'| search (proxy trainings) | {spent["proxy_trainings"]} | {spent["search_s"]} '
            f'| {forecast["search_s"]} |',
            f'| re-training | {spent["retrain_trainings"]} | {spent["retrain_s"]} | '
            f'{forecast["retrain_s"]} |',
            f'| one proxy trial | 1 | '
            f'{spent["search_s"] / max(1, spent["proxy_trainings"]):.1f} | '
            f'{forecast["trial_s"]} |', '',
            f'Wall time from the first journal line to the last: {spent["wall_s"]} s '
            '(filters, idle time between a stop and its --resume included).', '']


def write_report(work_dir: str, events: list[JournalEvent]) -> str:
    """Write ``report.md`` (and ``report.png`` when there are re-trainings) into
    ``work_dir``; returns the markdown text."""
    table = retrain_table(events)
    parts = ['# Search report', '', *search_summary(events), '', *candidate_funnel(events),
             *time_against_forecast(events)]
    if table is None:
        parts.append('No re-training stage (set `retrain=dict(...)` in the search config).')
    else:
        winner = retrain_winner(table)
        plots = [f'[{r["entry"]["name"]}]({entry_plot_name(r["entry"]["name"])})'
                 for r in table['targets'][0]['rows'] if osp.isfile(
                     osp.join(work_dir, entry_plot_name(r['entry']['name'])))]
        parts += [f'## Re-training: {table["seeds"]} seeds, mean +- std', '',
                  format_retrain_table(table), *split_warning(table),
                  *baseline_tuning(table), *paired_differences(table),
                  *perturbed_ranking(table), *proxy_trust(table),
                  'Searched curves / formulas: ' + (', '.join(plots) or '-'), '',
                  f'Winner (best mean {table["reward_key"]} on {table["targets"][0]["name"]}):'
                  f' {winner["name"] if winner else "not yet (seeds still running)"}', '']
        plot_report(table, osp.join(work_dir, REPORT_PNG))
    text = '\n'.join(parts) + '\n'
    with open(osp.join(work_dir, REPORT_MD), 'w', encoding='utf-8') as f:
        f.write(text)
    return text


def plot_report(table: dict, path: str) -> None:
    """Every seed's reward per entry (one panel per target), with the mean marked."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    targets = table['targets']
    fig, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 4), squeeze=False)
    for ax, target in zip(axes[0], targets):
        names = [r['entry']['name'] for r in target['rows']]
        for x, row in enumerate(target['rows']):
            color = 'tab:blue' if row['entry']['kind'] == 'searched' else 'tab:gray'
            ax.scatter([x] * len(row['rewards']), row['rewards'], color=color, alpha=0.7)
            if row['reward'] is not None:
                ax.plot([x - 0.25, x + 0.25], [row['reward'][0]] * 2, color='black')
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=20)
        ax.set_title(target['name'])
        ax.set_ylabel(table['reward_key'])
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
