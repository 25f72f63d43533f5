"""How long a planned search takes: a timing probe of the proxy on this machine, the
forecast of one trial and of the whole search, and a budget sized to a number of hours."""
import math
import time
import uuid
from dataclasses import dataclass

from mmengine.config import Config
from mmengine.hooks import Hook

#: training iterations the probe skips before timing (data loading and allocator warm-up)
WARMUP_ITERS = 2


class _TimingHook(Hook):
    """Wall-clock marks of a probe run: each training iteration, and the validation."""
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.iter_ends: list[float] = []
        self.train_start = self.val_start = self.val_end = 0.0

    def before_train(self, runner) -> None:
        self.train_start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.iter_ends.append(time.perf_counter())

    def before_val(self, runner) -> None:
        self.val_start = time.perf_counter()

    def after_val(self, runner) -> None:
        self.val_end = time.perf_counter()


@dataclass(frozen=True)
class TrialTiming:
    """A probe's measurements (seconds on this machine)."""
    startup_s: float
    iter_s: float
    val_s: float

    def trial_s(self, iters: int, validations: float = 1.0) -> float:
        """One training of ``iters`` iterations with ``validations`` held-out validations."""
        return self.startup_s + iters * self.iter_s + validations * self.val_s


def probe_trial(proxy_path: str, work_dir: str, probe_iters: int = 12) -> TrialTiming:
    """Train the proxy for ``probe_iters`` iterations and validate it once, here."""
    from mmengine.runner import Runner
    if probe_iters <= WARMUP_ITERS + 1:
        raise ValueError(f'probe_iters must exceed {WARMUP_ITERS + 1}, got {probe_iters}')
    cfg = Config.fromfile(proxy_path)
    cfg.train_cfg.update(max_iters=probe_iters, val_interval=probe_iters)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    if cfg.get('visualizer', None):  # mmengine keeps one visualizer per name per process
        cfg.visualizer['name'] = f'plan_probe_{uuid.uuid4().hex}'
    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    hook = _TimingHook()
    runner.register_hook(hook)
    runner.train()
    ends = hook.iter_ends
    timed = [b - a for a, b in zip(ends[WARMUP_ITERS:], ends[WARMUP_ITERS + 1:])]
    iter_s = sorted(timed)[len(timed) // 2]
    first_iters = ends[WARMUP_ITERS] - hook.train_start
    startup = hook.train_start - start + first_iters - WARMUP_ITERS * iter_s
    return TrialTiming(startup_s=max(0.0, startup), iter_s=iter_s,
                       val_s=hook.val_end - hook.val_start)


def proxy_trainings(method: str, rounds: int, samples: int, population: int | None) -> int:
    """Proxy trainings of a search: ALZ trains its K initial losses in round 0, then
    ``samples`` per round; the others ``samples`` per round."""
    if method == 'alz':
        return (population or samples) + (rounds - 1) * samples
    return rounds * samples


@dataclass(frozen=True)
class Forecast:
    """The forecast of a search: its proxy trainings and its re-training stage."""
    trial_s: float
    trainings: int
    retrain_trial_s: float
    retrain_trainings: int
    concurrency: int

    @property
    def search_s(self) -> float:
        return math.ceil(self.trainings / self.concurrency) * self.trial_s

    @property
    def retrain_s(self) -> float:
        return math.ceil(self.retrain_trainings / self.concurrency) * self.retrain_trial_s

    @property
    def total_s(self) -> float:
        return self.search_s + self.retrain_s


def size_budget(method: str, hours: float, trial_s: float, retrain_s: float,
                concurrency: int, paper: tuple[int, int],
                paper_population: int | None) -> tuple[int, int, int | None]:
    """``(rounds, samples_per_round, population)`` that fit ``hours`` after the
    re-training stage (``retrain_s``), at most the paper's; ``ValueError`` naming both
    figures when not even one round of one trial fits."""
    if not hours > 0:
        raise ValueError(f'--budget-hours must be > 0, got {hours!r}')
    left = hours * 3600 - retrain_s
    trainings = int(left // trial_s) * concurrency if left > 0 else 0
    if trainings < 1:
        raise ValueError(f'--budget-hours {hours:g} is too small: one proxy trial takes '
                         f'{trial_s:.0f} s and the re-training stage {retrain_s:.0f} s on '
                         f'this machine (forecast)')
    rounds, samples = paper
    samples = min(samples, trainings)
    if method == 'alz':
        population = min(paper_population, trainings)
        rounds = max(1, min(rounds, 1 + (trainings - population) // samples))
        return rounds, samples, population
    rounds = max(1, min(rounds, trainings // samples))
    return rounds, samples, paper_population
