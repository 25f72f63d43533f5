"""Cost of AutoSegLoss (ASL) per metric, as ratios to mmseg's CrossEntropyLoss.

For each input shape and each loss, one forward + backward of the loss on the same logits
(N, C, H, W, float32, requires_grad) and labels (N, H, W, with 5% ignored pixels) is measured
on CPU with a fixed number of torch threads:

* time (one subprocess per case): fastest of ``--repeats`` forward+backward passes after one
  warm-up pass (the least disturbed by other processes on a shared machine);
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
``tests/assets/previous_implementation``, which gives the same values and gradients bit for
bit), so old and new are compared in the same run.

Usage: ``python benchmarks/bench_auto_seg_loss.py [--repeats 5] [--threads 1] [--previous]``.
"""
import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from typing import Dict, List, Tuple

from mmautoloss.testing import REPO
from mmautoloss.testing.released_references import released_asl_theta

SHAPES: List[Tuple[int, int, int, int]] = [(2, 21, 256, 256), (4, 19, 128, 256)]
RELEASED: Dict[str, List[float]] = {
    metric: released_asl_theta(metric) for metric in ('mIoU', 'FWIoU', 'BIoU', 'BF1', 'mAcc', 'gAcc')}
CASES = ['CrossEntropy'] + list(RELEASED)
PREVIOUS_SUFFIX = ' (previous)'
PREVIOUS = REPO / 'tests' / 'assets' / 'previous_implementation'


def _use_previous_implementation() -> None:
    """Make AutoSegLoss run the frozen previous surrogates and Bezier curves."""
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


def _worker(shape: Tuple[int, int, int, int], case: str, measure: str, repeats: int,
            threads: int) -> float:
    """Seconds of the fastest pass (``measure='time'``) or peak MiB of the first one."""
    import torch
    from mmseg.models.losses import CrossEntropyLoss

    import mmautoloss  # noqa: F401
    from mmautoloss.registry import MODELS

    torch.set_num_threads(threads)
    num, classes, height, width = shape
    generator = torch.Generator().manual_seed(0)
    coarse = torch.randint(0, classes, (num, 1, height // 16, width // 16), generator=generator)
    labels = torch.nn.functional.interpolate(coarse.float(), size=(height, width))[:, 0].long()
    labels[torch.rand(labels.shape, generator=generator) < 0.05] = 255
    logits = torch.randn(shape, generator=generator).requires_grad_(True)
    if case == 'CrossEntropy':
        loss = CrossEntropyLoss(avg_non_ignore=True)
    else:
        if case.endswith(PREVIOUS_SUFFIX):
            _use_previous_implementation()
            case = case[:-len(PREVIOUS_SUFFIX)]
        loss = MODELS.build(dict(type='AutoSegLoss', metric=case, theta=RELEASED[case]))

    def step() -> None:
        logits.grad = None
        loss(logits, labels, ignore_index=255).backward()

    if measure == 'memory':
        with open('/proc/self/clear_refs', 'w') as clear:
            clear.write('5')
        before = _status_kib('VmRSS')
        step()
        return (_status_kib('VmHWM') - before) / 1024
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def _run_worker(tag: str, case: str, measure: str, args: argparse.Namespace) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if measure == 'memory':
        env['MALLOC_MMAP_THRESHOLD_'] = '131072'
    output = subprocess.run(
        [sys.executable, __file__, '--worker', tag, case, measure, '--repeats',
         str(args.repeats), '--threads', str(args.threads)],
        check=True, capture_output=True, text=True, env=env).stdout
    return float(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--previous', action='store_true',
                        help='also time the implementation before the throughput change')
    parser.add_argument('--worker', nargs=3, metavar=('SHAPE', 'CASE', 'MEASURE'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        tag, case, measure = args.worker
        shape = tuple(int(v) for v in tag.split('x'))
        print(_worker(shape, case, measure, args.repeats, args.threads))
        return
    print(f'AutoSegLoss forward+backward vs mmseg CrossEntropyLoss, CPU, {args.threads} '
          f'thread(s); time = fastest of {args.repeats}; memory = peak RSS increase of one pass')
    cases = CASES + ([c + PREVIOUS_SUFFIX for c in RELEASED] if args.previous else [])
    for shape in SHAPES:
        tag = 'x'.join(map(str, shape))
        times = {case: _run_worker(tag, case, 'time', args) for case in cases}
        peaks = {case: _run_worker(tag, case, 'memory', args) for case in cases}
        print(f'\nshape {tag}')
        print(f'{"loss":<17}{"time ms":>10}{"x CE":>8}{"peak MiB":>11}{"x CE":>8}')
        for case in cases:
            print(f'{case:<17}{times[case] * 1e3:>10.1f}'
                  f'{times[case] / times["CrossEntropy"]:>8.2f}{peaks[case]:>11.1f}'
                  f'{peaks[case] / peaks["CrossEntropy"]:>8.2f}')


if __name__ == '__main__':
    main()
