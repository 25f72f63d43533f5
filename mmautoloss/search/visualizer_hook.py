"""A search logged through mmengine's visualizer backends (``LocalVisBackend``,
``TensorboardVisBackend``, ``WandbVisBackend``, ``MLflowVisBackend``), the tools an
OpenMMLab user already watches training in.

From the search config's ``visualizer = dict(vis_backends=[...])`` (default: local only),
written under ``WORK_DIR/vis_data``:

- per trial (step = the trial's number in the journal, from 1): ``trial/reward`` and
  ``trial/<metric>`` for every number the evaluator reported; re-training trials as
  ``retrain/<entry>/reward``; the candidate (its curve parameters or formulas) and the
  trial's log dir as text ``trial/candidate`` where a backend takes text (TensorBoard,
  MLflow);
- per round (step = round): ``round/mean_reward``, ``round/max_reward``,
  ``round/best_so_far``;
- at the end: every plot of the work dir as an image and ``report.md`` as text.

Each trial's own training keeps logging through its proxy config's visualizer. A resumed
search goes on logging from the next trial (what was logged before the stop stays). A
failure turns the hook off with one warning (``critical = False``); the search goes on.
"""
from __future__ import annotations

import glob
import json
import os.path as osp

from .events import RoundEnd, TrialEvent
from .hooks import SearchHook
from .structures import REPORT_MD, TrialRole

#: the backends of a search config that names none
DEFAULT_VIS_BACKENDS = [dict(type='LocalVisBackend')]


class VisualizerHook(SearchHook):
    """Logs the search to mmengine vis backends (module docstring); the backends are used
    directly, as mmengine's ``Visualizer`` does, without its drawing figure.

    Args:
        vis_backends (list[dict]): mmengine vis backend configs (``save_dir`` defaults to
            ``WORK_DIR/vis_data``).
    """

    critical = False

    def __init__(self, vis_backends: list[dict] | None = None) -> None:
        self.vis_backends = [dict(b) for b in (vis_backends or DEFAULT_VIS_BACKENDS)]
        self.backends: list = []
        self.step = 0

    def before_search(self, work_dir: str, total: int, recorded: int,
                      resumed_round: int | None) -> None:
        from mmengine.registry import VISBACKENDS
        self.work_dir = work_dir
        self.step = recorded
        save_dir = osp.join(work_dir, 'vis_data')
        self.backends = [VISBACKENDS.build(dict(cfg, save_dir=cfg.get('save_dir', save_dir)))
                         for cfg in self.vis_backends]

    def after_trial(self, event: TrialEvent) -> None:
        self.step += 1
        result = event.result
        numbers = {k: v for k, v in result.metrics.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if event.role == TrialRole.TUNE:
            scalars = {f'tune/{event.entry}/lr_x{event.candidate["lr_factor"]:g}':
                       result.reward}
        elif event.is_retraining:
            scalars = {f'retrain/{event.entry}/reward': result.reward}
        else:
            scalars = {'trial/reward': result.reward,
                       **{f'trial/{k}': v for k, v in numbers.items()}}
        for backend in self.backends:
            backend.add_scalars(scalars, step=self.step)
        self._text('trial/candidate', json.dumps(dict(
            trial_id=event.trial_id, status=result.status, candidate=event.candidate,
            log_dir=result.log_dir),
            sort_keys=True), self.step)

    def after_round(self, event: RoundEnd, trials: list[TrialEvent], total: int) -> None:
        scalars = {'round/mean_reward': event.mean_reward, 'round/max_reward': event.max_reward}
        if event.best_so_far is not None:
            scalars['round/best_so_far'] = event.best_so_far
        for backend in self.backends:
            backend.add_scalars(scalars, step=event.round)

    def after_search(self, retrain_table: dict | None, best: dict, reward_key: str) -> None:
        import mmcv
        for path in sorted(glob.glob(osp.join(self.work_dir, '*.png'))):
            image = mmcv.imread(path, channel_order='rgb')
            if image is not None:
                for backend in self.backends:
                    backend.add_image(f'search/{osp.basename(path)}', image)
        report = osp.join(self.work_dir, REPORT_MD)
        if osp.isfile(report):
            with open(report, encoding='utf-8') as f:
                self._text('search/report', f.read(), self.step)
        self.close()

    def close(self) -> None:
        """Flush what was logged (the search may stop here; the end's images follow in
        :meth:`after_search` when it ended normally)."""
        for backend in self.backends:
            backend.close()

    def _text(self, tag: str, text: str, step: int) -> None:
        """``text`` to every backend that takes text: TensorBoard's ``add_text``, MLflow's
        ``log_text`` (the local backend keeps scalars and images only; the journal has the
        candidates)."""
        for backend in self.backends:
            experiment = backend.experiment
            if hasattr(experiment, 'add_text'):
                experiment.add_text(tag, text, step)
            elif hasattr(experiment, 'log_text'):
                experiment.log_text(text, f'{tag.replace("/", "_")}_{step:05d}.txt')
