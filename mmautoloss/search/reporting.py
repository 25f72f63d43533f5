"""What a search shows and leaves behind: progress with ETA, a table per round,
``best.json``, the best loss exported as a ready-to-train config, and plots."""
from __future__ import annotations

import copy
import math
import sys
import time
from typing import TextIO

import torch
from mmengine.config import Config

from ..functional.monotone_function import MonotoneFunction
from ..utils.atomic_json import write_json_atomic
from .trial import TrialResult, proxy_config_copy


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{hours}h{minutes:02d}m{secs:02d}s' if hours else f'{minutes}m{secs:02d}s'


class ProgressReporter:
    """Progress over all trials of the search with an ETA: a tqdm bar when tqdm is
    installed and ``stream`` is a terminal, else one line per finished trial.

    Args:
        total (int): trials in the whole search.
        done (int):
            trials already finished (a resumed search); the ETA uses only this run's pace.
        stream (Optional[TextIO]): where progress and round tables go.
    """

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = done
        self.stream = stream or sys.stderr
        self._start = time.monotonic()
        self._done_here = 0
        self._bar = None
        if hasattr(self.stream, 'isatty') and self.stream.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, initial=done, file=self.stream, unit='trial',
                                 dynamic_ncols=True)

    def eta_seconds(self) -> float | None:
        """Remaining time at this run's average pace; None before the first trial."""
        if not self._done_here:
            return None
        pace = (time.monotonic() - self._start) / self._done_here
        return pace * (self.total - self.done)

    def trial_done(self, result: TrialResult) -> None:
        self.done += 1
        self._done_here += 1
        note = f'{result.trial_id} {result.status} reward={result.reward:.4g}'
        if self._bar is not None:
            self._bar.set_postfix_str(note)
            self._bar.update(1)
            return
        eta = self.eta_seconds()
        self.stream.write(f'[search] {self.done}/{self.total} trials | elapsed '
                          f'{_format_seconds(time.monotonic() - self._start)} | ETA '
                          f'{_format_seconds(eta) if eta is not None else "?"} | {note}\n')
        self.stream.flush()

    def set_total(self, total: int) -> None:
        """A new estimate of the search's trials (a search whose filters decide how many)."""
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            self.stream.write(text + '\n')
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_round_table(round_index: int, trials: list[dict], summary: dict[str, object]) -> str:
    """A text table of one round's trials (``trial`` journal events) and its summary."""
    header = (f'{"trial":<10} {"role":<10} {"status":<9} {"reward":>10} {"time_s":>8}  '
              'reason / formula')
    lines = [f'== round {round_index} ==', header, '-' * len(header)]
    for event in sorted(trials, key=lambda e: e['index']):
        result = event['result']
        # a formula candidate shows its formulas (a vector says nothing at a glance)
        candidate = event.get('candidate')
        note = result['reason'] or (' | '.join(candidate.values())
                                    if isinstance(candidate, dict) else '')
        lines.append(f'{result["trial_id"]:<10} {event["role"]:<10} {result["status"]:<9} '
                     f'{result["reward"]:>10.4f} {result["duration_s"]:>8.1f}  {note[:60]}')
    for row in summary.get('seeds', ()):  # seeds_per_candidate > 1: the spread
        lines.append(f'{row["candidate_id"]:<10} mean {row["mean"]:.4f} +- {row["std"]:.4f} '
                     f'over {len(row["rewards"])} seeds ('
                     + ', '.join(f'{r:.4f}' for r in row['rewards']) + ')')
    lines.append('  '.join(f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}'
                           for k, v in summary.items() if k != 'seeds'))
    return '\n'.join(lines)


#: the stage columns of CSE-Autoloss's Table 2, as the searcher's rows name them
STAGE_COLUMNS = (('generated', 'generated'), ('duplicate', 'duplicate'),
                 ('invalid', 'invalid'), ('non_convergent', 'non-convergent'),
                 ('over_max_simulated', 'over max_simulated'), ('simulated', 'simulated'),
                 ('below_threshold', 'below threshold'), ('not_top_k', 'not top-K'),
                 ('trained', 'trained'))


def format_stage_row(row: dict) -> str:
    """One generation's stage counts on one line."""
    counts = ', '.join(f'{label} {row[key]}' for key, label in STAGE_COLUMNS)
    threshold = row.get('threshold')
    extra = '' if threshold is None else f' (threshold {threshold:.4f})'
    best = row.get('best_reward')
    extra += '' if best is None else f'; best {best:.4f}'
    return f'[search] generation {row["generation"]}: {counts}{extra}'


def format_stage_table(rows: list[dict], reward_key: str) -> str:
    """Every generation's stage counts (what each filter removed, CSE-Autoloss Table 2),
    the simulation threshold and the best proxy reward of the generation."""
    labels = [label for _, label in STAGE_COLUMNS]
    header = 'gen ' + ' '.join(f'{label:>{max(len(label), 5)}}' for label in labels) + \
        f' {"threshold":>9} {"best " + reward_key:>20}'
    lines = ['== stages per generation ==', header, '-' * len(header)]
    for row in rows:
        cells = ' '.join(f'{row[key]:>{max(len(label), 5)}}' for key, label in STAGE_COLUMNS)
        threshold = '-' if row.get('threshold') is None else f'{row["threshold"]:.4f}'
        best = '-' if row.get('best_reward') is None else f'{row["best_reward"]:.4f}'
        lines.append(f'{row["generation"]:<3} {cells} {threshold:>9} {best:>20}')
    total = {key: sum(row[key] for row in rows) for key, _ in STAGE_COLUMNS}
    removed = [f'{label} {100 * total[key] / max(total["generated"], 1):.1f}%'
               for key, label in STAGE_COLUMNS[1:5]]
    lines.append(f'removed before simulation: {", ".join(removed)} of '
                 f'{total["generated"]} generated')
    return '\n'.join(lines)


def export_best_config(proxy_config: str | Config, overrides: dict, path: str) -> str:
    """Write the proxy config (a file, or the parsed Config, left unchanged) with the best
    candidate's loss overrides merged in (``Config.dump``): a config ready to train with
    the searched loss."""
    cfg = proxy_config_copy(proxy_config)
    cfg.merge_from_dict(copy.deepcopy(overrides))
    cfg.dump(path)
    return path


def write_best(path: str, payload: dict) -> None:
    """``best.json``: atomically replaced, so a reader never sees half of it."""
    write_json_atomic(path, payload)


def plot_rewards(trial_events: list[dict], path: str, reward_key: str) -> None:
    """Rewards of every trial per round (failed ones marked), the mean's own reward and the
    best reward so far."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ok = [e for e in trial_events if e['result']['status'] == 'ok']
    failed = [e for e in trial_events if e['result']['status'] != 'ok']
    ax.scatter([e['round'] for e in ok], [e['result']['reward'] for e in ok], s=14,
               color='tab:blue', alpha=0.6, label='sample')
    if failed:
        ax.scatter([e['round'] for e in failed], [e['result']['reward'] for e in failed],
                   s=22, marker='x', color='tab:red', label='failed trial')
    means = sorted((e['round'], e['result']['reward']) for e in trial_events
                   if e['role'] == 'mean')
    if means:
        ax.plot(*zip(*means), color='tab:green', marker='o', label='mean (baseline sample)')
    rounds = sorted({e['round'] for e in trial_events})
    best, best_so_far = -math.inf, []
    for r in rounds:
        best = max([best] + [e['result']['reward'] for e in trial_events if e['round'] == r])
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


def plot_curves(curves: dict[str, MonotoneFunction], path: str, title: str) -> None:
    """The searched curves g / f of a candidate on [0, 1], with the identity for reference."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    x = torch.linspace(0, 1, 201, dtype=torch.float64)
    cols = min(len(curves), 5)
    rows = math.ceil(len(curves) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.axis('off')
    for ax, (name, curve) in zip(axes.flat, curves.items()):
        ax.plot(x.numpy(), x.numpy(), color='grey', linestyle=':', linewidth=1)
        ax.plot(x.numpy(), curve(x).numpy(), color='tab:blue')
        ax.scatter(curve.points[:, 0].numpy(), curve.points[:, 1].numpy(), s=10,
                   color='tab:red', zorder=3)
        ax.set_title(name, fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_formulas(formulas: dict[str, str], path: str, title: str) -> None:
    """The searched formulas of a candidate as text, one line of maths per loss branch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    lines = list(formulas.items())
    width = max([len(title)] + [len(k) + len(f) + 3 for k, f in lines])
    fig = plt.figure(figsize=(min(max(4.0, 0.09 * width), 24.0), 0.6 + 0.45 * len(lines)))
    fig.text(0.01, 1 - 0.25 / (0.6 + 0.45 * len(lines)), title, fontsize=9, weight='bold',
             va='top', family='monospace')
    for row, (key, formula) in enumerate(lines):
        fig.text(0.01, 1 - (0.55 + 0.45 * row) / (0.6 + 0.45 * len(lines)),
                 f'{key}: {formula}', fontsize=8, va='top', family='monospace')
    fig.savefig(path, dpi=100)
    plt.close(fig)
