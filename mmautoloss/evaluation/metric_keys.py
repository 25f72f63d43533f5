"""Which keys an OpenMMLab evaluator reports (mmseg's ``IoUMetric``, mmdet's ``CocoMetric``
and ``VOCMetric``, mmpose's ``CocoMetric``, this package's metrics), read from its config
alone, so that a search can check its reward key before any training job runs."""

from mmengine.config import Config

#: keys of the metrics written by mmautoloss's own segmentation evaluators
MMAUTOLOSS_METRIC_KEYS = {'FWIoUMetric': ('FWIoU', ), 'BoundaryIoUMetric': ('BIoU', ),
                          'BoundaryF1Metric': ('BF1', )}


def _as_list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def metric_keys(metric_cfg: dict, scope: str | None) -> set[str] | None:
    """Keys an evaluator metric reports, with its prefix; ``None`` for unknown types.

    IoUMetric (mmseg): ``aAcc`` plus mIoU -> mIoU, mAcc; mDice -> mDice, mAcc; mFscore ->
    mFscore, mPrecision, mRecall (no prefix). CocoMetric (mmdet, prefix ``coco``): per metric
    ``{bbox,segm}_mAP{,_50,_75,_s,_m,_l}``, proposal ``AR@{100,300,1000}``,
    ``AR_{s,m,l}@1000``. CocoMetric (mmpose): AP / AR at .5, .75, (M), (L). VOCMetric
    (mmdet, prefix ``pascal_voc``): mAP with ``AP{thr*100}`` per IoU threshold, or
    ``recall@{n}@{thr}``. mmautoloss metrics: see ``MMAUTOLOSS_METRIC_KEYS``.
    """
    mtype = str(metric_cfg.get('type', '')).split('.')[-1]
    if mtype == 'IoUMetric':
        keys = {'aAcc'}
        for metric in _as_list(metric_cfg.get('iou_metrics', ['mIoU'])):
            keys |= {'mIoU': {'mIoU', 'mAcc'}, 'mDice': {'mDice', 'mAcc'},
                     'mFscore': {'mFscore', 'mPrecision', 'mRecall'}}.get(metric, set())
        default_prefix = None
    elif mtype == 'CocoMetric' and scope == 'mmpose':
        keys = {f'{stat}{suffix}' for stat in ('AP', 'AR')
                for suffix in ('', ' .5', ' .75', ' (M)', ' (L)')}
        default_prefix = 'coco'
    elif mtype == 'CocoMetric':
        keys = set()
        for metric in _as_list(metric_cfg.get('metric', 'bbox')):
            if metric in ('bbox', 'segm'):
                keys |= {f'{metric}_mAP{s}' for s in ('', '_50', '_75', '_s', '_m', '_l')}
            elif metric in ('proposal', 'proposal_fast'):
                keys |= {'AR@100', 'AR@300', 'AR@1000', 'AR_s@1000', 'AR_m@1000',
                         'AR_l@1000'}
        default_prefix = 'coco'
    elif mtype == 'VOCMetric':
        thrs = metric_cfg.get('iou_thrs', 0.5)
        thrs = [thrs] if isinstance(thrs, (int, float)) else list(thrs)
        if metric_cfg.get('metric', 'mAP') == 'mAP':
            keys = {'mAP'} | {f'AP{int(thr * 100)}' for thr in thrs}
        else:
            keys = {f'recall@{n}@{thr}' for n in _as_list(metric_cfg.get(
                'proposal_nums', (100, 300, 1000))) for thr in thrs} | {'mAR'}
        default_prefix = 'pascal_voc'
    elif mtype in MMAUTOLOSS_METRIC_KEYS:
        keys = set(MMAUTOLOSS_METRIC_KEYS[mtype])
        default_prefix = None
    else:
        return None
    prefix = metric_cfg.get('prefix', default_prefix)
    return {f'{prefix}/{k}' for k in keys} if prefix else keys


def evaluator_metric_cfgs(proxy_cfg: Config) -> list[object]:
    """The metric configs of a config's ``val_evaluator`` (one dict, a list, or mmengine's
    ``dict(metrics=[...])`` form); empty when it has none."""
    evaluator = proxy_cfg.get('val_evaluator', None)
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:  # mmengine Evaluator form
        evaluator = evaluator['metrics']
    return [evaluator] if isinstance(evaluator, dict) else list(evaluator)


def reported_keys(proxy_cfg: Config) -> tuple[set[str], list[str]]:
    """The keys the ``val_evaluator`` of ``proxy_cfg`` reports, and the metric types among
    it whose keys are not known here."""
    scope = proxy_cfg.get('default_scope', None)
    known: set[str] = set()
    unknown: list[str] = []
    for metric_cfg in evaluator_metric_cfgs(proxy_cfg):
        keys = metric_keys(metric_cfg, scope) if isinstance(metric_cfg, dict) else None
        if keys is None:
            unknown.append(str(metric_cfg.get('type') if isinstance(metric_cfg, dict)
                               else metric_cfg))
        else:
            known |= keys
    return known, unknown
