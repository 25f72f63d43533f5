"""Throughput of CSE-Autoloss's validity check and convergence-property verification
(CSE-Autoloss section 3.2.1-3.2.2).

Offspring are drawn as generation 1 of the search draws them (one DEAP mutation of the
initial loss; then, as later generations, crossover and mutation among accepted ones) for
the three branch kinds of the search configs (``configs/search/cse_*.py``): Faster R-CNN
classification (softmax, from CEI), FCOS classification (sigmoid, from FLI) and box
regression (from GIoU, the regression operator set). Prints candidates per minute through
the check, judged in batches as the searcher judges a generation, and the fraction of the
candidates each stage removes. The same candidates judged one at a time give the baseline
of the batching. The check runs on one thread whatever the process's setting (see
``ConvergenceCheck.judge_many``).

Usage: ``python benchmarks/bench_convergence_check.py [--candidates 1000] [--batch 200]``.
"""
import argparse
import collections
import random
import time

REG_OPERATORS = ['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Log', 'Exp', 'Sqrt', 'Abs']


def _offspring(initial, count: int, rng: random.Random) -> list:
    """Mutants of the initial loss, then crossovers and mutations of the first ones."""
    from mmautoloss.search.variation.deap_operators import crossover, mutate
    pool = [mutate(initial, rng, 2) for _ in range(count // 2)]
    while len(pool) < count:
        child, _ = crossover(rng.choice(pool), rng.choice(pool), rng)
        pool.append(mutate(child, rng, 2) if rng.random() < 0.8 else child)
    return [str(f) for f in pool]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--candidates', type=int, default=1000)
    parser.add_argument('--batch', type=int, default=200)
    args = parser.parse_args()
    from mmautoloss.functional.formulas import get_primitive_set, parse_formula
    from mmautoloss.functional.formulas.released import RELEASED_FORMULAS
    from mmautoloss.search.filters import ConvergenceCheck
    cse = get_primitive_set('cse')
    reg = get_primitive_set(dict(base='cse', operators=REG_OPERATORS))
    tasks = [('Faster R-CNN cls (softmax, from CEI)', cse, 'softmax_cls', 'CEI'),
             ('FCOS cls (sigmoid, from FLI)', cse, 'sigmoid_cls', 'FLI'),
             ('box regression (from GIoU)', reg, 'box', 'GIoU')]
    print(f'{"branch":<38} {"cand/min":>9} {"1-by-1/min":>10} {"invalid":>8} '
          f'{"non-conv":>8} {"accepted":>8}')
    for name, pset, kind, initial in tasks:
        check = ConvergenceCheck({'key': (pset, kind)}, num_classes=3)
        start = parse_formula(RELEASED_FORMULAS[initial].formula, pset, kind)
        formulas = _offspring(start, args.candidates, random.Random(0))
        check.judge_many('key', formulas[:2])  # builds the grid once
        began = time.perf_counter()
        verdicts = []
        for i in range(0, len(formulas), args.batch):
            verdicts += check.judge_many('key', formulas[i:i + args.batch])
        batched = time.perf_counter() - began
        began = time.perf_counter()
        for formula in formulas:
            check.judge_many('key', [formula])
        single = time.perf_counter() - began
        counts = collections.Counter(v.status for v in verdicts)
        share = {s: 100 * counts[s] / len(verdicts) for s in ('invalid', 'non_convergent',
                                                              'accepted')}
        print(f'{name:<38} {60 * len(formulas) / batched:>9.0f} '
              f'{60 * len(formulas) / single:>10.0f} {share["invalid"]:>7.1f}% '
              f'{share["non_convergent"]:>7.1f}% {share["accepted"]:>7.1f}%')


if __name__ == '__main__':
    main()
