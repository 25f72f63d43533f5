"""Cost of ExprLoss (formula losses) as ratios to the library losses they reproduce.

One forward + backward on the same inputs, CPU, a fixed number of torch threads, fastest of
``--repeats`` passes after one warm-up pass:

* segmentation, logits (2, 21, 256, 256) with 5% ignored pixels: mmseg's
  ``CrossEntropyLoss(avg_non_ignore=True)`` vs ``ExprLoss`` with the cross-entropy formula
  of the AutoLoss-Zero set, and with ALZ's discovered mIoU loss (Table 8) for scale;
* box regression, 100k decoded box pairs: mmdet's ``GIoULoss`` vs ``ExprLoss('GIoU')``
  (CSE set) and the released CSE-Autoloss-A regression loss.

Usage: ``python benchmarks/bench_expr_loss.py [--repeats 5] [--threads 1]``.
"""
import argparse
import time
from collections.abc import Callable

import torch

ALZ_CE = 'Neg(Mul(Y,Log(P)))'
#: ALZ Table 8, segmentation mIoU: -1/2 log(tanh(y / (1 + y) sqrt(y-hat)) (y-hat^2 + y))
ALZ_MIOU = ('Neg(Mul(Inv(Add(1,1)),Log(Mul(Tanh(Mul(Mul(Y,Inv(Add(1,Y))),Sqrt(P))),'
            'Add(Square(P),Y)))))')


def _fastest(step: Callable[[], None], repeats: int) -> float:
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def _seg_cases() -> dict[str, Callable]:
    from mmseg.models.losses import CrossEntropyLoss

    from mmautoloss.models.losses import ExprLoss
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 21, 256, 256, generator=generator).requires_grad_(True)
    labels = torch.randint(0, 21, (2, 256, 256), generator=generator)
    labels[torch.rand(labels.shape, generator=generator) < 0.05] = 255
    losses = {'mmseg CrossEntropyLoss': CrossEntropyLoss(avg_non_ignore=True),
              'ExprLoss ALZ cross-entropy': ExprLoss(ALZ_CE, 'alz', 'seg',
                                                    avg_non_ignore=True),
              'ExprLoss ALZ Table 8 mIoU': ExprLoss(ALZ_MIOU, 'alz', 'seg',
                                                   avg_non_ignore=True)}

    def make(loss):
        def step():
            logits.grad = None
            loss(logits, labels, ignore_index=255).backward()
        return step
    return {name: make(loss) for name, loss in losses.items()}


def _box_cases() -> dict[str, Callable]:
    from mmdet.models.losses import GIoULoss

    from mmautoloss.models.losses import ExprLoss
    generator = torch.Generator().manual_seed(0)
    n = 100_000
    xy = torch.rand(n, 2, generator=generator) * 500
    target = torch.cat([xy, xy + torch.rand(n, 2, generator=generator) * 200 + 10], dim=1)
    pred = (target + torch.randn(n, 4, generator=generator) * 5).requires_grad_(True)
    weight = torch.rand(n, generator=generator)
    losses = {'mmdet GIoULoss': GIoULoss(), "ExprLoss('GIoU')": ExprLoss('GIoU'),
              "ExprLoss('CSE-A/reg')": ExprLoss('CSE-A/reg')}

    def make(loss):
        def step():
            pred.grad = None
            loss(pred, target, weight, avg_factor=float(n)).backward()
        return step
    return {name: make(loss) for name, loss in losses.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import mmautoloss  # noqa: F401
    print(f'ExprLoss forward+backward, CPU, {args.threads} thread(s), fastest of '
          f'{args.repeats}')
    groups: list[tuple[str, dict[str, Callable]]] = [
        ('segmentation 2x21x256x256', _seg_cases()), ('boxes 100000', _box_cases())]
    for title, cases in groups:
        times = {name: _fastest(step, args.repeats) for name, step in cases.items()}
        baseline = next(iter(times.values()))
        print(f'\n{title}')
        print(f'{"loss":<30}{"time ms":>10}{"x baseline":>12}')
        for name, seconds in times.items():
            print(f'{name:<30}{seconds * 1e3:>10.1f}{seconds / baseline:>12.2f}')


if __name__ == '__main__':
    main()
