"""The loss slots of any OpenMMLab config: where each loss sits in ``model``, the head that
calls it, the branch kind a formula search would use (AutoLoss-Zero appendix A, CSE-Autoloss
section 3.1) and the methods of this package that apply to it.

Read from the config alone (the registries are consulted, nothing is built), so a user can
plan on a machine without the config's data or pretrained weights.
"""
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field

from mmengine.config import Config, ConfigDict

#: the metrics the Auto Seg-Loss space has surrogates for (ASL Table 1)
ASL_METRICS = ('mIoU', 'FWIoU', 'mAcc', 'gAcc', 'BIoU', 'BF1')
#: mmdet heads with a Parameterized AP Loss version in this package (PAP section 4.1)
PAP_HEADS = {'RetinaHead': 'ParamAPRetinaHead', 'RPNHead': 'ParamAPRPNHead',
             'Shared2FCBBoxHead': 'ParamAPBBoxHead',
             'DeformableDETRHead': 'ParamAPDeformableDETRHead'}
#: mmdet heads with a version that hands the IoU input ``w`` to the classification loss
#: (CSE-Autoloss section 3.1)
CSE_HEADS = {'FCOSHead': 'IoUFCOSHead', 'ATSSHead': 'IoUATSSHead',
             'Shared2FCBBoxHead': 'IoUShared2FCBBoxHead'}
#: mmdet box losses computed on decoded boxes
IOU_LOSSES = ('IoULoss', 'GIoULoss', 'DIoULoss', 'CIoULoss', 'EIoULoss', 'SIoULoss')
#: mmdet box losses that regress the coder's encoded deltas unless the head decodes first
DELTA_LOSSES = ('L1Loss', 'SmoothL1Loss', 'BalancedL1Loss')
#: classification losses whose target is one class index per sample
CLASS_LOSSES = ('CrossEntropyLoss', 'FocalLoss')
#: mmpose losses on heatmaps with per-keypoint target weights
HEATMAP_LOSSES = ('KeypointMSELoss', 'KeypointOHKMMSELoss')


@dataclass(frozen=True)
class LossSlot:
    """One loss of a model config.

    Args:
        key: its dotted config key, e.g. ``'model.roi_head.bbox_head.loss_cls'``.
        loss: the loss config (type and settings).
        head: the type of the module config that holds it (the head that calls it).
        kind: the branch kind a formula would use, or ``None`` when none applies.
        note: why no kind applies, or what a method changes to use this slot.
        methods: the package's methods that search this slot (``asl``, ``pap``, ``alz``,
            ``cse``).
    """
    key: str
    loss: dict
    head: str
    kind: str | None
    note: str = ''
    methods: tuple[str, ...] = field(default=())

    @property
    def loss_type(self) -> str:
        return _short_type(self.loss.get('type'))


def _short_type(value: object) -> str:
    """A registry type name without its scope (``'mmdet.FocalLoss'`` -> ``'FocalLoss'``)."""
    return value.split('.')[-1] if isinstance(value, str) else getattr(value, '__name__',
                                                                        str(value))


def load_config(path: str) -> Config:
    """A training config by path, or an installed package's (``mmdet::...``, through
    mmengine's hub)."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def config_scope(cfg: Config) -> str:
    """The OpenMMLab codebase the config trains with (``mmdet``, ``mmseg``, ``mmpose``)."""
    scope = cfg.get('default_scope', None)
    if scope not in ('mmdet', 'mmseg', 'mmpose'):
        raise ValueError(f'default_scope must be mmdet, mmseg or mmpose (the codebases whose '
                         f'losses this package searches), got default_scope={scope!r}')
    return scope


def _walk_losses(node: object, path: str, holder: str) -> Iterator[tuple[str, dict, str]]:
    """``(key, loss config, holder type)`` of every ``loss*`` entry under ``node``."""
    if isinstance(node, (dict, ConfigDict)):
        here = _short_type(node['type']) if 'type' in node else holder
        for name, value in node.items():
            key = f'{path}.{name}'
            if name.startswith('loss') and isinstance(value, (dict, ConfigDict)) \
                    and 'type' in value:
                yield key, dict(value), here
            elif name.startswith('loss') and isinstance(value, (list, tuple)) and value \
                    and all(isinstance(v, (dict, ConfigDict)) for v in value):
                yield key, dict(type='list', losses=[dict(v) for v in value]), here
            else:
                yield from _walk_losses(value, key, here)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _walk_losses(value, f'{path}.{index}', holder)


def _head_class(scope: str, head: str) -> type | None:
    """The head's class from its codebase's registry (``None`` when it is not there)."""
    import importlib
    return importlib.import_module(f'{scope}.registry').MODELS.get(head)


def _takes_decoded_boxes_option(scope: str, head: str) -> bool:
    """Whether the head (or a parent) accepts ``reg_decoded_bbox``."""
    cls = _head_class(scope, head)
    return cls is not None and any(
        'reg_decoded_bbox' in inspect.signature(c.__init__).parameters
        for c in cls.__mro__ if '__init__' in vars(c))


def _kind(scope: str, key: str, loss: dict, head: str, head_cfg: dict) -> tuple[str | None,
                                                                               str]:
    """The branch kind of one slot and a note (the reason when there is no kind)."""
    name = key.rsplit('.', 1)[1]
    ltype = _short_type(loss.get('type'))
    if ltype == 'list':
        return None, 'a list of losses: give the slot one loss dict to search it'
    if scope == 'mmseg':
        if name != 'loss_decode':
            return None, f'{name} is not a decode-head loss'
        if loss.get('use_sigmoid', False):
            return None, 'use_sigmoid=True: one sigmoid per class, no segmentation kind'
        return 'seg', ''
    if scope == 'mmpose':
        if ltype in HEATMAP_LOSSES:
            return 'heatmap', ''
        return None, f'{ltype}: not a heatmap loss (the heatmap kind takes K heatmaps)'
    if name == 'loss_mask':
        return 'mask', ''
    if name == 'loss_cls':
        if ltype not in CLASS_LOSSES:
            return None, f'{ltype}: its target is not one class per sample'
        return ('sigmoid_cls' if loss.get('use_sigmoid', False) else 'softmax_cls'), ''
    if name in ('loss_bbox', 'loss_iou'):
        if ltype in IOU_LOSSES:
            return 'box', ''
        if ltype in DELTA_LOSSES:
            if 'DETR' in head or 'Dino' in head:
                return None, f'{ltype} on normalised (cx, cy, w, h) boxes; the box slot ' \
                             f'of this head is its IoU loss'
            if head_cfg.get('reg_decoded_bbox', False):
                return 'box', ''
            if _takes_decoded_boxes_option(scope, head):
                return 'box', f'{ltype} on encoded deltas: a formula search sets ' \
                              f'reg_decoded_bbox=True'
            return None, f'{ltype} on encoded deltas and {head} cannot decode them first'
        return None, f'{ltype}: no box kind for it'
    return None, f'{name} ({ltype}): no branch kind (e.g. a centre-ness or quality target)'


def _methods(scope: str, key: str, head: str, kind: str | None) -> tuple[str, ...]:
    methods = []
    if kind == 'seg':
        methods.append('asl')
    if scope == 'mmdet' and head in PAP_HEADS and key.rsplit('.', 1)[1] in (
            'loss_cls', 'loss_bbox', 'loss_iou'):
        methods.append('pap')
    if kind is not None:
        methods.append('alz')
    if kind in ('sigmoid_cls', 'softmax_cls', 'box') and head in CSE_HEADS:
        methods.append('cse')
    return tuple(methods)


def config_value(cfg: Config, key: str) -> object:
    """The value at a dotted key of a config, through dicts and lists (``'a.0.b'``)."""
    node = cfg
    for part in key.split('.'):
        node = node[int(part)] if isinstance(node, (list, tuple)) else node[part]
    return node


def find_loss_slots(cfg: Config) -> list[LossSlot]:
    """Every loss slot of ``cfg.model`` in config order; ``ValueError`` naming what is
    missing when the config has no ``model`` or no loss."""
    scope = config_scope(cfg)
    model = cfg.get('model', None)
    if not isinstance(model, (dict, ConfigDict)):
        raise ValueError(f'the config has no model dict (model={model!r}): give a training '
                         f'config, as for tools/train.py')
    slots = []
    for key, loss, head in _walk_losses(model, 'model', _short_type(model.get('type'))):
        kind, note = _kind(scope, key, loss, head, config_value(cfg, key.rsplit('.', 1)[0]))
        slots.append(LossSlot(key, loss, head, kind, note, _methods(scope, key, head, kind)))
    if not slots:
        raise ValueError(f'model {_short_type(model.get("type"))!r} has no loss slot (no '
                         f'loss* entry with a type under model)')
    return slots
