"""Cost of AutoSegLoss (ASL) per metric, as ratios to mmseg's CrossEntropyLoss.

For each input shape and each loss, one forward + backward of the loss on the same logits
(N, C, H, W, float32, requires_grad) and labels (N, H, W, with 5% ignored pixels) is measured
on CPU with a fixed number of torch threads:

* time: ``--rounds`` rounds; a round runs every case once, in turn, each in a subprocess
  of its own that times the median of ``--repeats`` passes after one warm-up pass (one
  loss per process, as in a training: the allocator's state is that loss's own; cases
  sharing a process change each other's cost, a freed map makes the next loss's
  allocations fault in fresh pages, 2-3 us per 4 KiB here). Rounds interleave the cases so
  that the machine's drift (a shared host's memory bandwidth and clock change by 2x over
  minutes) reaches all alike. Reported: each case's median time over the rounds, and its
  median ratio to the CrossEntropyLoss time of the same round. With glibc's default malloc
  a pass also faults in the pages of the maps it allocates afresh (2-3 us per 4 KiB page on
  a virtual machine, where a pass of mIoU at 2x21x256x256 faults 9171 pages, CE 2688);
  ``--kept-memory`` runs the processes with malloc keeping freed blocks
  (:data:`KEPT_MEMORY_ENV`), which times the arithmetic alone;
* peak memory (another subprocess per case): after the inputs are allocated the
  process's peak resident set size is reset (``/proc/self/clear_refs`` = 5, Linux), one
  forward+backward runs, and the peak (``VmHWM``) minus the resident size before the pass is
  reported. It counts everything the pass touches (autograd buffers, the logits' gradient),
  the same way for every loss. Workers run with ``MALLOC_MMAP_THRESHOLD_=131072`` so that
  glibc returns every freed tensor buffer to the system at once (its default threshold
  adapts and keeps freed buffers resident, which inflates the peak at random).

The AutoSegLoss cases use the released searched parameters (the ASL public release), boundary
tolerance 5; the baseline is ``CrossEntropyLoss(avg_non_ignore=True)``. ``--previous`` adds a
row per metric for the implementation before the throughput change (frozen in
``tests/assets/previous_implementation``: the same values and gradients, bit for bit but
for BF1's rounding), in the same run, each in a worker process that swaps the frozen
functions in.

Usage: ``python benchmarks/bench_auto_seg_loss.py [--rounds 3] [--repeats 7] [--threads 1]
[--previous] [--kept-memory]``.
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from mmautoloss.testing import REPO
from mmautoloss.testing.released_references import released_asl_theta

SHAPES: list[tuple[int, int, int, int]] = [(2, 21, 256, 256), (4, 19, 128, 256)]
RELEASED: dict[str, list[float]] = {
    metric: released_asl_theta(metric)
    for metric in ('mIoU', 'FWIoU', 'BIoU', 'BF1', 'mAcc', 'gAcc')}
CASES = ['CrossEntropy'] + list(RELEASED)
PREVIOUS_SUFFIX = ' (previous)'
#: glibc malloc keeping freed blocks up to 32 MiB (its largest mmap threshold) and never
#: trimming its heap (setting the trim threshold alone turns off the adaptive mmap threshold)
KEPT_MEMORY_ENV = {'MALLOC_MMAP_THRESHOLD_': str(32 << 20),
                   'MALLOC_TRIM_THRESHOLD_': str(1 << 40)}
PREVIOUS = REPO / 'tests' / 'assets' / 'previous_implementation'


def _use_previous_implementation() -> None:
    """Make AutoSegLoss run the frozen previous surrogates and Bezier curves (a worker
    process times one case only)."""
    from mmautoloss.functional import monotone_function
    from mmautoloss.models.losses import auto_seg_loss
    modules = {}
    for name in ('piecewise_bezier_c051863', 'seg_surrogates_c051863'):
        spec = importlib.util.spec_from_file_location(name, PREVIOUS / f'{name}.py')
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    previous_bezier = modules['piecewise_bezier_c051863'].piecewise_bezier
    monotone_function.piecewise_bezier = lambda y, points, guard=None: previous_bezier(y, points)
    auto_seg_loss.SURROGATES = modules['seg_surrogates_c051863'].SURROGATES


def _status_kib(field: str) -> int:
    with open('/proc/self/status') as status:
        return int(re.search(rf'{field}:\s+(\d+) kB', status.read()).group(1))


def _inputs(shape: tuple[int, int, int, int]):
    """Logits (requires_grad) and labels with 5% ignored pixels, the same for every case."""
    import torch
    num, classes, height, width = shape
    generator = torch.Generator().manual_seed(0)
    coarse = torch.randint(0, classes, (num, 1, height // 16, width // 16), generator=generator)
    labels = torch.nn.functional.interpolate(coarse.float(), size=(height, width))[:, 0].long()
    labels[torch.rand(labels.shape, generator=generator) < 0.05] = 255
    logits = torch.randn(shape, generator=generator).requires_grad_(True)
    return logits, labels


def _step(case: str, logits, labels) -> Callable[[], None]:
    """One forward+backward of ``case`` on the inputs (for a ``(previous)`` case, with the
    previous implementation swapped in)."""
    from mmseg.models.losses import CrossEntropyLoss

    import mmautoloss  # noqa: F401
    from mmautoloss.registry import MODELS

    if case == 'CrossEntropy':
        loss = CrossEntropyLoss(avg_non_ignore=True)
    else:
        metric = case
        if case.endswith(PREVIOUS_SUFFIX):
            _use_previous_implementation()
            metric = case[:-len(PREVIOUS_SUFFIX)]
        loss = MODELS.build(dict(type='AutoSegLoss', metric=metric, theta=RELEASED[metric]))

    def step() -> None:
        logits.grad = None
        loss(logits, labels, ignore_index=255).backward()

    return step


def _time_worker(shape: tuple[int, int, int, int], case: str, repeats: int,
                 threads: int) -> float:
    """Median seconds of ``repeats`` passes of ``case``, after one warm-up pass."""
    import torch
    torch.set_num_threads(threads)
    logits, labels = _inputs(shape)
    step = _step(case, logits, labels)
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _memory_worker(shape: tuple[int, int, int, int], case: str, threads: int) -> float:
    """Peak MiB of one forward+backward of ``case`` above the resident size before it."""
    import torch
    torch.set_num_threads(threads)
    logits, labels = _inputs(shape)
    step = _step(case, logits, labels)
    with open('/proc/self/clear_refs', 'w') as clear:
        clear.write('5')
    before = _status_kib('VmRSS')
    step()
    return (_status_kib('VmHWM') - before) / 1024


def _run_worker(args: argparse.Namespace, *worker: str, memory: bool = False) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if memory:
        env['MALLOC_MMAP_THRESHOLD_'] = '131072'
    elif args.kept_memory:
        env.update(KEPT_MEMORY_ENV)
    output = subprocess.run(
        [sys.executable, __file__, '--repeats', str(args.repeats), '--threads',
         str(args.threads), *worker],
        check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1]
    return float(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--previous', action='store_true',
                        help='also time the implementation before the throughput change')
    parser.add_argument('--kept-memory', action='store_true',
                        help='time with malloc keeping freed blocks (no page faults per pass)')
    parser.add_argument('--time-worker', nargs=2, metavar=('SHAPE', 'CASE'),
                        help=argparse.SUPPRESS)
    parser.add_argument('--memory-worker', nargs=2, metavar=('SHAPE', 'CASE'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_worker:
        tag, case = args.time_worker
        print(_time_worker(tuple(int(v) for v in tag.split('x')), case, args.repeats,
                           args.threads))
        return
    if args.memory_worker:
        tag, case = args.memory_worker
        print(_memory_worker(tuple(int(v) for v in tag.split('x')), case, args.threads))
        return
    print(f'AutoSegLoss forward+backward vs mmseg CrossEntropyLoss, CPU, {args.threads} '
          f'thread(s); time = median over {args.rounds} interleaved rounds of a process\'s '
          f'median of {args.repeats} passes, x CE = median ratio within a round; memory = '
          f'peak RSS increase of one pass; malloc: '
          f'{"freed blocks kept" if args.kept_memory else "glibc defaults"}')
    cases = CASES + ([c + PREVIOUS_SUFFIX for c in RELEASED] if args.previous else [])
    for shape in SHAPES:
        tag = 'x'.join(map(str, shape))
        rounds = [{case: _run_worker(args, '--time-worker', tag, case) for case in cases}
                  for _ in range(args.rounds)]
        peaks = {case: _run_worker(args, '--memory-worker', tag, case, memory=True)
                 for case in cases}
        print(f'\nshape {tag}')
        print(f'{"loss":<17}{"time ms":>10}{"x CE":>8}{"peak MiB":>11}{"x CE":>8}')
        for case in cases:
            seconds = statistics.median(r[case] for r in rounds)
            ratio = statistics.median(r[case] / r['CrossEntropy'] for r in rounds)
            print(f'{case:<17}{seconds * 1e3:>10.1f}{ratio:>8.2f}{peaks[case]:>11.1f}'
                  f'{peaks[case] / peaks["CrossEntropy"]:>8.2f}')


if __name__ == '__main__':
    main()
