"""CSE-Autoloss's model-optimisation simulation (CSE-Autoloss section 3.2.3).

"We train and test the loss candidates on a small verification dataset D_verify, which is
constructed by sampling only one image randomly from each category [of the training set]
... Then we apply AP performance on D_verify of the top loss in the previous generation as
a threshold to filter out divergent, training-unfriendly, and poor-performed loss
candidates."

A simulation is an ordinary trial of the search (same executor, journal and ``--resume``)
whose config is the proxy's with :meth:`OptimisationSimulation.overrides`: training and
validation both on D_verify (written once per search as a COCO annotation file under the
search's work dir, so every node of a cluster reads the same set), ``iters`` iterations
from the proxy's own seeded initialisation (or ``load_from``, a fixed start), a linear
warm-up over the first ``warmup_fraction`` of them, no checkpoints. Its reward is the
proxy's reward metric (COCO AP) on D_verify. The threshold rule is the searcher's
(:class:`~mmautoloss.search.searchers.ConvergenceSimulationSearcher`).
"""
import copy
import json
import os.path as osp
import random

from mmengine.config import Config

from ...utils.atomic_json import write_json_atomic
from ...utils.checks import check_int, check_number

VERIFICATION_DIR = 'verification'
VERIFICATION_NAME = 'instances_verification.json'


def is_split(dataset: object) -> bool:
    """Whether a dataset config is a ``HeldOutSplit`` (``mmautoloss.datasets``)."""
    return isinstance(dataset, dict) and dataset.get('type') == 'HeldOutSplit'


def unsplit(dataset: object) -> object:
    """The dataset a ``HeldOutSplit`` cuts, else ``dataset`` itself: D_verify is drawn
    from the whole training annotation file and replaces the split."""
    return dataset['dataset'] if is_split(dataset) else dataset


class OptimisationSimulation:
    """Builds D_verify and the overrides of a simulation trial: the simulation stage of
    :class:`~.convergence_simulation.ConvergenceSimulationSearcher` (it judges nothing:
    its trials are the search's own, and the searcher ranks them).

    Args:
        proxy_cfg (Config): the proxy config: an iteration-based mmdet detector trained on a
            COCO-format dataset and evaluated by ``CocoMetric``.
        iters (int): training iterations of a simulation.
        images_per_category (int): images drawn per category (paper: 1).
        warmup_fraction (float): linear warm-up over this fraction of ``iters``.
        load_from (Optional[str]):
            a checkpoint every simulation starts from (default: the proxy's seeded
            initialisation, the same for every candidate).
        seed (int): draws the images.
    """

    #: what the search config gives it besides the ``simulation`` field's settings
    search_inputs = ('proxy_cfg', 'seed')

    def __init__(self, proxy_cfg: Config, iters: int = 60, images_per_category: int = 1,
                 warmup_fraction: float = 0.2, load_from: str | None = None,
                 seed: int = 0) -> None:
        for name, value, low in (('iters', iters, 1),
                                 ('images_per_category', images_per_category, 1),
                                 ('seed', seed, 0)):
            check_int(value, f'simulation.{name}', low)
        check_number(warmup_fraction, 'simulation.warmup_fraction', 0, 1)
        if load_from is not None and (not isinstance(load_from, str) or
                                      not osp.isfile(load_from)):
            raise ValueError(f'simulation.load_from must be a checkpoint file, got '
                             f'{load_from!r}')
        self.iters = iters
        self.images_per_category = images_per_category
        self.warmup_fraction = float(warmup_fraction)
        self.load_from = load_from
        self.seed = seed
        self.train_dataset = self._train_dataset(proxy_cfg)
        val = proxy_cfg.get('val_dataloader', {}).get('dataset')
        #: the proxy's validation set when it is a HeldOutSplit (else the keys are patched)
        self.val_dataset = copy.deepcopy(dict(unsplit(val))) if is_split(val) else None
        evaluator = proxy_cfg.get('val_evaluator')
        if not isinstance(evaluator, dict) or \
                str(evaluator.get('type', '')).split('.')[-1] != 'CocoMetric':
            raise ValueError(f'the model-optimisation simulation evaluates with one mmdet '
                             f'CocoMetric; the proxy\'s val_evaluator is {evaluator!r}')
        train_cfg = proxy_cfg.get('train_cfg', {})
        if not isinstance(train_cfg, dict) or 'max_iters' not in train_cfg:
            raise ValueError('the model-optimisation simulation shortens an iteration-based '
                             f'schedule; the proxy\'s train_cfg is {train_cfg!r}')
        self.ann_file: str | None = None
        self.image_ids: list[int] = []

    @staticmethod
    def _train_dataset(proxy_cfg: Config) -> dict:
        dataset = unsplit(proxy_cfg.get('train_dataloader', {}).get('dataset'))
        if not isinstance(dataset, dict) or not isinstance(dataset.get('ann_file'), str):
            raise ValueError('the model-optimisation simulation needs a COCO-format training '
                             f'set with an ann_file; the proxy\'s is {dataset!r}')
        return copy.deepcopy(dict(dataset))

    def source_ann_file(self) -> str:
        """The proxy's training annotation file (as mmengine joins ``data_root``)."""
        root = self.train_dataset.get('data_root') or ''
        return osp.join(root, self.train_dataset['ann_file'])

    def prepare(self, work_dir: str) -> str:
        """Write D_verify's annotation file under ``work_dir`` (the same file for the same
        seed and data) and return its path; ``OSError`` / ``ValueError`` naming the
        training annotation file when it cannot be read."""
        source = self.source_ann_file()
        with open(source) as f:
            coco = json.load(f)
        if not all(isinstance(coco.get(k), list) for k in ('images', 'annotations',
                                                            'categories')):
            raise ValueError(f'{source!r} is not a COCO annotation file (images, annotations, '
                             'categories)')
        images_of = {}
        for ann in coco['annotations']:
            images_of.setdefault(ann['category_id'], set()).add(ann['image_id'])
        rng = random.Random(f'verification:{self.seed}')
        chosen: list[int] = []
        for category in sorted(c['id'] for c in coco['categories']):
            pool = sorted(images_of.get(category, set()) - set(chosen))
            chosen.extend(rng.sample(pool, min(self.images_per_category, len(pool))))
        if not chosen:
            raise ValueError(f'{source!r} has no annotated image to build D_verify from')
        keep = set(chosen)
        subset = dict(coco, images=[i for i in coco['images'] if i['id'] in keep],
                      annotations=[a for a in coco['annotations'] if a['image_id'] in keep])
        self.ann_file = osp.abspath(osp.join(work_dir, VERIFICATION_DIR, VERIFICATION_NAME))
        write_json_atomic(self.ann_file, subset)
        self.image_ids = sorted(keep)
        return self.ann_file

    def overrides(self) -> dict:
        """Config overrides of a simulation trial (module docstring); after ``prepare``."""
        if self.ann_file is None:
            raise RuntimeError('OptimisationSimulation.prepare(work_dir) must run first')
        warmup = max(1, round(self.iters * self.warmup_fraction))
        overrides = {
            'train_dataloader.dataset.ann_file': self.ann_file,
            'val_dataloader.dataset.ann_file': self.ann_file,
            'val_dataloader.dataset.data_prefix': copy.deepcopy(
                self.train_dataset.get('data_prefix', {})),
            'val_evaluator.ann_file': self.ann_file,
            'train_cfg.max_iters': self.iters,
            'train_cfg.val_interval': self.iters,
            'param_scheduler': [dict(type='LinearLR', start_factor=0.001, by_epoch=False,
                                     begin=0, end=warmup)],
            'default_hooks.checkpoint': dict(interval=-1, save_last=False),
        }
        if 'data_root' in self.train_dataset:
            overrides['val_dataloader.dataset.data_root'] = self.train_dataset['data_root']
        if self.val_dataset is not None:  # a HeldOutSplit proxy: D_verify replaces the split
            for part, dataset in (('train', self.train_dataset), ('val', self.val_dataset)):
                overrides[f'{part}_dataloader.dataset'] = dict(
                    copy.deepcopy(dataset), _delete_=True, ann_file=self.ann_file,
                    **{k: copy.deepcopy(self.train_dataset[k])
                       for k in ('data_root', 'data_prefix') if k in self.train_dataset})
                for key in ('ann_file', 'data_prefix', 'data_root'):
                    overrides.pop(f'{part}_dataloader.dataset.{key}', None)
        if self.load_from is not None:
            overrides['load_from'] = osp.abspath(self.load_from)
        return overrides
