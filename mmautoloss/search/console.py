"""What a search shows on the terminal: progress with an ETA, a table per round, the stage
counts of each generation (CSE-Autoloss Table 2), and :class:`ConsoleHook`, the loop's hook
that writes them."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from .events import RetrainStart, RoundEnd, RoundStart, TrialEvent
from .hooks import SearchHook
from .report import (
    baseline_tuning,
    format_retrain_table,
    paired_differences,
    perturbed_ranking,
    proxy_trust,
    split_warning,
)
from .trial import TrialResult


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


def format_round_table(round_index: int, trials: list[TrialEvent],
                       summary: dict[str, object]) -> str:
    """A text table of one round's trials and its summary (:meth:`RoundEnd.summary`)."""
    header = (f'{"trial":<10} {"role":<10} {"status":<9} {"reward":>10} {"time_s":>8}  '
              'reason / formula')
    lines = [f'== round {round_index} ==', header, '-' * len(header)]
    for event in sorted(trials, key=lambda e: e.index):
        result = event.result
        # a formula candidate shows its formulas (a vector says nothing at a glance)
        note = result.reason or (' | '.join(event.candidate.values())
                                 if isinstance(event.candidate, dict) else '')
        lines.append(f'{result.trial_id:<10} {event.role:<10} {result.status:<9} '
                     f'{result.reward:>10.4f} {result.duration_s:>8.1f}  {note[:60]}')
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
                 ('diverged', 'diverged'), ('below_threshold', 'below threshold'),
                 ('not_top_k', 'not top-K'),
                 ('trained', 'trained'))


def format_stage_row(row: dict) -> str:
    """One generation's stage counts on one line."""
    counts = ', '.join(f'{label} {row.get(key, 0)}' for key, label in STAGE_COLUMNS)
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
        cells = ' '.join(f'{row.get(key, 0):>{max(len(label), 5)}}'
                         for key, label in STAGE_COLUMNS)
        threshold = '-' if row.get('threshold') is None else f'{row["threshold"]:.4f}'
        best = '-' if row.get('best_reward') is None else f'{row["best_reward"]:.4f}'
        lines.append(f'{row["generation"]:<3} {cells} {threshold:>9} {best:>20}')
    total = {key: sum(row.get(key, 0) for row in rows) for key, _ in STAGE_COLUMNS}
    removed = [f'{label} {100 * total[key] / max(total["generated"], 1):.1f}%'
               for key, label in STAGE_COLUMNS[1:5]]
    lines.append(f'removed before simulation: {", ".join(removed)} of '
                 f'{total["generated"]} generated')
    return '\n'.join(lines)




class ConsoleHook(SearchHook):
    """Progress, round tables and stage counts on ``stream`` (default stderr).

    Args:
        stream (TextIO | None): where to write.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.progress: ProgressReporter | None = None

    def before_search(self, work_dir: str, total: int, recorded: int,
                      resumed_round: int | None) -> None:
        self.progress = ProgressReporter(total, done=recorded, stream=self.stream)
        if resumed_round is not None:
            self.progress.write(f'[search] resuming {work_dir}: round {resumed_round}, '
                                f'{recorded} trials recorded')

    def after_round_start(self, event: RoundStart) -> None:
        if event.filter_stats is not None:
            self.progress.write(f'[search] round {event.round} candidates: ' + ', '.join(
                f'{stage} {count}' for stage, count in event.filter_stats.items()))

    def after_trial(self, event: TrialEvent) -> None:
        self.progress.trial_done(event.result)

    def after_round(self, event: RoundEnd, trials: list[TrialEvent], total: int) -> None:
        self.progress.write(format_round_table(event.round, trials, event.summary()))
        for row in event.generations or ():
            self.progress.write(format_stage_row(row))
        self.progress.set_total(total)

    def before_retrain(self, event: RetrainStart, total: int) -> None:
        self.progress.set_total(total)
        tuned = [e for e in event.entries if e['kind'] == 'tuned']
        sweep = f'; first a learning-rate sweep of {", ".join(e["tuned_of"] for e in tuned)} ' \
            f'on the search split (x{", x".join(f"{f:g}" for f in tuned[0]["lr_factors"])})' \
            if tuned else ''
        self.progress.write(f'[search] re-training {len(event.entries)} losses '
                            f'({", ".join(e["name"] for e in event.entries)}) x '
                            f'{event.seeds} seeds on {", ".join(event.targets)}{sweep}')

    def after_search(self, retrain_table: dict | None, best: dict, reward_key: str) -> None:
        if retrain_table is not None:
            self.progress.write('\n'.join([format_retrain_table(retrain_table),
                                           *split_warning(retrain_table),
                                           *baseline_tuning(retrain_table),
                                           *paired_differences(retrain_table),
                                           *perturbed_ranking(retrain_table),
                                           *proxy_trust(retrain_table)]))
        if best.get('generations'):
            self.progress.write(format_stage_table(best['generations'], reward_key))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()
