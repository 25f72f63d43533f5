"""A held-out split of a training dataset, for a proxy that must never validate on the
user's own val / test images: every ``step``-th sample is held out, the proxy trains on
(a share of) the rest. Any OpenMMLab dataset (mmengine ``BaseDataset``) can be split."""
import math

from mmengine.dataset import BaseDataset

from mmautoloss.registry import DATASETS

PARTS = ('train', 'held_out')


def split_indices(total: int, step: int, part: str, train_fraction: float = 1.0) -> list[int]:
    """The indices of ``part`` of ``total`` samples: ``held_out`` is every ``step``-th
    (``step - 1``, ``2 step - 1``, ...), ``train`` the first ``train_fraction`` of the rest.
    ``ValueError`` naming the value for a split that leaves a part empty."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 2:
        raise ValueError(f'step must be an integer >= 2, got {step!r}')
    if part not in PARTS:
        raise ValueError(f'part must be one of {PARTS}, got {part!r}')
    if not 0 < train_fraction <= 1:
        raise ValueError(f'train_fraction must be in (0, 1], got {train_fraction!r}')
    if total < step:
        raise ValueError(f'the dataset has {total} samples: too few to hold every '
                         f'{step}th out')
    if part == 'held_out':
        return list(range(step - 1, total, step))
    rest = [i for i in range(total) if (i + 1) % step]
    return rest[:max(1, math.floor(len(rest) * train_fraction))]


@DATASETS.register_module(name='HeldOutSplit')
def held_out_split(dataset: dict, step: int = 5, part: str = 'train',
                   train_fraction: float = 1.0) -> BaseDataset:
    """``dataset`` (a dataset config) built, and the subset of :func:`split_indices`."""
    built = DATASETS.build(dataset)
    return built.get_subset(split_indices(len(built), step, part, train_fraction))
