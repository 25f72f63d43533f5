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
tolerance 5; the baseline is ``CrossEntropyLoss(avg_non_ignore=True)``.

Usage: ``python benchmarks/bench_auto_seg_loss.py [--repeats 5] [--threads 1]``.
"""
import argparse
import os
import re
import subprocess
import sys
import time
from typing import Dict, List, Tuple

SHAPES: List[Tuple[int, int, int, int]] = [(2, 21, 256, 256), (4, 19, 128, 256)]
RELEASED: Dict[str, List[float]] = {
    'mIoU': [5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01, 6.25281252e-01,
             7.79551927e-01, 6.90375570e-01, 1.30628900e-02, 8.34170515e-01, 9.62431815e-01,
             9.42998269e-01, 9.80038125e-01],
    'FWIoU': [0.11907931, 0.669945, 0.19315827, 0.71179134, 0.46337387, 0.79494196,
              0.5266451, 0.29869753, 0.706645, 0.4485701, 0.86858255, 0.7261703],
    'BIoU': [3.65390355e-04, 9.84171689e-01, 9.69491959e-01, 9.92340326e-01, 9.88328516e-01,
             9.95552719e-01, 3.54609758e-01, 2.67221928e-01, 5.60551465e-01, 4.35290039e-01,
             5.65432191e-01, 6.01448298e-01],
    'BF1': [0.8113003373146057, 0.8526162505149841, 0.17164576053619385, 0.03164796531200409,
            0.20997394621372223, 0.44903290271759033, 0.07847517728805542, 0.8753038048744202],
    'mAcc': [2.1453928e-02, 7.3905742e-01, 4.1163361e-01, 7.9865617e-01, 9.1986191e-01,
             9.5041156e-01],
    'gAcc': [2.1453928e-02, 7.3905742e-01, 4.1163361e-01, 7.9865617e-01, 9.1986191e-01,
             9.5041156e-01],
}
CASES = ['CrossEntropy'] + list(RELEASED)


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
    for shape in SHAPES:
        tag = 'x'.join(map(str, shape))
        times = {case: _run_worker(tag, case, 'time', args) for case in CASES}
        peaks = {case: _run_worker(tag, case, 'memory', args) for case in CASES}
        print(f'\nshape {tag}')
        print(f'{"loss":<14}{"time ms":>10}{"x CE":>8}{"peak MiB":>11}{"x CE":>8}')
        for case in CASES:
            print(f'{case:<14}{times[case] * 1e3:>10.1f}'
                  f'{times[case] / times["CrossEntropy"]:>8.2f}{peaks[case]:>11.1f}'
                  f'{peaks[case] / peaks["CrossEntropy"]:>8.2f}')


if __name__ == '__main__':
    main()
