"""A proxy task derived from a user's training config: the same model, data and optimiser
on a short iteration-based schedule, validated once on images held out from the training
split (every paper here searches on a shortened proxy: ASL section 4.3, PAP section 3.3,
ALZ section 4, CSE section 3.2.3; the user's own val / test split is left for the report).
"""
import copy

from mmengine.config import Config

#: dataset wrappers whose inner ``dataset`` is the one to split
WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset')
#: every ``HELD_OUT_STEP``-th training image is held out for the proxy's validation
HELD_OUT_STEP = 5


def _inner_dataset(dataset: dict) -> dict:
    """The dataset config that lists the images (through ``WRAPPERS``); ``ValueError`` for
    a concatenation, whose indices would span several files."""
    while str(dataset.get('type', '')).split('.')[-1] in WRAPPERS:
        dataset = dataset['dataset']
    if str(dataset.get('type', '')).split('.')[-1] == 'ConcatDataset':
        raise ValueError('train_dataloader.dataset is a ConcatDataset: give the proxy one '
                         'dataset to hold images out of')
    return dataset


def count_training_images(cfg: Config) -> int:
    """How many samples the config's training dataset has (it is built: the data must be
    present)."""
    return dataset_length(cfg, _inner_dataset(cfg.train_dataloader.dataset))


def dataset_length(cfg: Config, dataset: dict) -> int:
    """How many samples ``dataset`` (a dataset config of ``cfg``) has, all of them."""
    import importlib

    from mmengine.registry import DefaultScope
    scope = cfg.get('default_scope')
    if cfg.get('custom_imports', None):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg['custom_imports'])
    datasets = importlib.import_module(f'{scope}.registry').DATASETS
    dataset = copy.deepcopy(dict(_inner_dataset(dataset)))
    dataset.pop('indices', None)
    with DefaultScope.overwrite_default_scope(scope):
        return len(datasets.build(dataset))


def user_total_iters(cfg: Config, iters_per_epoch: int) -> int:
    """The iterations of the user's schedule (epochs times ``iters_per_epoch``)."""
    train_cfg = cfg.get('train_cfg', None) or {}
    if 'max_iters' in train_cfg:
        return int(train_cfg['max_iters'])
    if 'max_epochs' in train_cfg:
        return int(train_cfg['max_epochs']) * iters_per_epoch
    raise ValueError(f'train_cfg needs max_iters or max_epochs, got train_cfg={train_cfg!r}')


def scaled_schedulers(cfg: Config, iters: int, iters_per_epoch: int) -> list[dict]:
    """The user's parameter schedulers on ``iters`` iterations: every bound (``begin``,
    ``end``, ``milestones``, ``T_max``) in iterations, then scaled by ``iters`` over the
    user's total, so warm-up and decay keep their share of the schedule."""
    total = user_total_iters(cfg, iters_per_epoch)
    schedulers = cfg.get('param_scheduler', None) or []
    scaled = []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        scheduler = copy.deepcopy(dict(scheduler))
        unit = iters_per_epoch if scheduler.pop('by_epoch', True) else 1
        scheduler.pop('convert_to_iter_based', None)

        def scale(value: float, unit: int = unit) -> int:
            return min(iters, max(0, round(value * unit * iters / total)))

        for key in ('begin', 'end', 'T_max'):
            if key in scheduler and scheduler[key] < 1e9:
                scheduler[key] = scale(scheduler[key])
        if 'milestones' in scheduler:
            scheduler['milestones'] = [scale(m) for m in scheduler['milestones']]
        scaled.append(dict(scheduler, by_epoch=False))
    return scaled


def _split(dataset: dict, part: str, train_fraction: float) -> dict:
    """``dataset`` with the images it lists (inside ``WRAPPERS``) cut to ``part``."""
    dataset = copy.deepcopy(dict(dataset))
    split = dict(type='HeldOutSplit', step=HELD_OUT_STEP, part=part,
                 train_fraction=train_fraction)
    if str(dataset.get('type', '')).split('.')[-1] in WRAPPERS:
        return dict(dataset, dataset=_split(dataset['dataset'], part, train_fraction))
    _inner_dataset(dataset)  # a ConcatDataset cannot be split
    return dict(split, dataset=dataset)


def proxy_overrides(cfg: Config, iters: int, iters_per_epoch: int, train_fraction: float,
                    seed: int) -> dict:
    """The config entries that turn ``cfg`` into its proxy (``_base_`` = ``cfg``)."""
    train_dataset = _split(cfg.train_dataloader.dataset, 'train', train_fraction)
    held_out = dict(_inner_dataset(cfg.train_dataloader.dataset),
                    pipeline=samples_carry_annotations(cfg.val_dataloader.dataset.pipeline))
    val_dataloader = copy.deepcopy(dict(cfg.val_dataloader))
    val_dataloader.update(dataset=dict(_split(held_out, 'held_out', 1.0), _delete_=True))
    overrides = dict(
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop', max_iters=iters,
                       val_interval=iters),
        val_cfg=dict(_delete_=True, type='ValLoop'),
        param_scheduler=scaled_schedulers(cfg, iters, iters_per_epoch),
        train_dataloader=dict(dataset=dict(train_dataset, _delete_=True),
                              sampler=dict(_delete_=True, type='InfiniteSampler',
                                           shuffle=True)),
        val_dataloader=val_dataloader,
        default_hooks=dict(checkpoint=dict(_delete_=True, type='CheckpointHook',
                                           by_epoch=False, interval=-1, save_last=False),
                           logger=dict(interval=max(1, min(50, iters // 5)))),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=seed))
    overrides['val_evaluator'] = held_out_evaluator(cfg)
    return overrides


#: mmdet's default ``PackDetInputs.meta_keys``
PACK_DET_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                      'flip_direction')


def samples_carry_annotations(pipeline: list) -> list:
    """A copy of an mmdet test pipeline whose samples carry their raw ``instances``: a
    ``CocoMetric`` without ``ann_file`` reads its ground truth from them."""
    pipeline = copy.deepcopy(list(pipeline))
    for transform in pipeline:
        if str(transform.get('type', '')).split('.')[-1] == 'PackDetInputs':
            keys = tuple(transform.get('meta_keys', PACK_DET_META_KEYS))
            transform['meta_keys'] = keys + ('instances', ) * ('instances' not in keys)
    return pipeline


def held_out_evaluator(cfg: Config) -> object:
    """The user's ``val_evaluator`` on the held-out training images: an evaluator that
    reads ground truth from an annotation file (COCO) reads it from the samples instead,
    as that file lists the user's validation images."""
    evaluator = copy.deepcopy(cfg.val_evaluator)
    metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    for metric in metrics:
        if 'ann_file' in metric:
            metric['ann_file'] = None
    return evaluator
