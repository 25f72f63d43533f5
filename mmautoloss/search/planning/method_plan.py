"""What each method of this package needs from a user's config: the slots it searches, the
heads it swaps in (the way the released configs do), the search space, the reward key and
the searcher at the paper's settings.

ASL: Auto Seg-Loss Algorithm 1 (PPO2, 12 rounds x 8 samples, sigma 0.2, Adam lr 0.2).
PAP: Parameterized AP Loss Algorithm 1 (PPO2, 40 rounds x 8 samples, linear sigma decay).
ALZ: AutoLoss-Zero section 3.2 (regularised evolution, K = 20, T = 5 %, loss rejection).
CSE: CSE-Autoloss Algorithm 1 (one branch, evolution from the default loss, convergence
check and simulation).
"""
import copy
from dataclasses import dataclass, field

from mmengine.config import Config

from ...evaluation.metric_keys import reported_keys
from .loss_slots import ASL_METRICS, CSE_HEADS, PAP_HEADS, LossSlot, config_value

METHODS = ('asl', 'pap', 'alz', 'cse')
#: the evaluator key of each ASL metric and the mmautoloss metric that reports it, if any
ASL_REWARD = dict(mIoU=('mIoU', None), mAcc=('mAcc', None), gAcc=('aAcc', None),
                  FWIoU=('FWIoU', dict(type='FWIoUMetric')),
                  BIoU=('BIoU', dict(type='BoundaryIoUMetric', tolerance=1,
                                     ignore_background=True)),
                  BF1=('BF1', dict(type='BoundaryF1Metric', tolerance=1,
                                   ignore_background=False)))
#: preferred reward keys, first match in the evaluator's keys
DEFAULT_REWARDS = ('mIoU', 'coco/bbox_mAP', 'coco/AP', 'pascal_voc/mAP', 'coco/segm_mAP')
#: each method's paper budget: (rounds, samples per round)
PAPER_BUDGET = dict(asl=(12, 8), pap=(40, 8), alz=(160, 3), cse=(10, 2))
#: the paper's population (ALZ K = 20; CSE: this implementation's CPU default)
PAPER_POPULATION = dict(alz=20, cse=12)
IDENTITY_AP_LOSS = dict(type='ParamAPLoss', functions=None, num_segments=5, grad_scale=1.0,
                        loc_measure='giou', loss_weight=1.0)


@dataclass
class MethodPlan:
    """A method applied to some slots of a config.

    Args:
        method: ``asl``, ``pap``, ``alz`` or ``cse``.
        slots: the searched slots.
        reward_key: the evaluator key the search maximises.
        model_changes: ``model`` overrides the proxy and the re-training target both need
            (heads swapped in, ``reg_decoded_bbox``), as nested config dicts.
        evaluator_metrics: metrics added to the proxy's evaluator for the reward.
        search_space: the search config's ``search_space``.
        notes: what was changed and why, for the plan and the written configs.
        heads: each slot's head config, by slot key.
        proxy_losses: losses the proxy trains with at the searched slots (ASL: the
            surrogate with identity curves), by slot key; the target keeps the user's.
    """
    method: str
    slots: list[LossSlot]
    reward_key: str
    model_changes: dict = field(default_factory=dict)
    evaluator_metrics: list[dict] = field(default_factory=list)
    search_space: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    heads: dict[str, dict] = field(default_factory=dict)
    proxy_losses: dict[str, dict] = field(default_factory=dict)

    def head(self, slot: LossSlot) -> dict:
        """The head config that holds ``slot``."""
        return self.heads[slot.key]

    def searcher(self, population: int | None = None, paper_filters: bool = True) -> dict:
        """The searcher at the paper's settings (``population``: ALZ / CSE's K). Without
        ``paper_filters``, ALZ's loss rejection takes its ``cpu`` preset (50 SGD steps
        instead of the paper's 500 per candidate) and CSE's simulation 30 iterations
        instead of 60."""
        if self.method == 'asl':
            return dict(type='PPO2Searcher', sigma=0.2, sigma_schedule='constant',
                        clip_eps=0.2, lr=0.2, num_steps=60, warmup_steps=0,
                        sample_mean=True, select='mean')
        if self.method == 'pap':
            return dict(type='PPO2Searcher', sigma=0.2, sigma_schedule='linear',
                        clip_eps=0.1, lr=0.01, num_steps=100, warmup_steps=30,
                        sample_mean=True, select='sample')
        if self.method == 'alz':
            seg = self.slots[0].kind == 'seg' and len(self.slots) == 1
            rejection = dict(preset='paper' if paper_filters else 'cpu', num_samples=5,
                             threshold=0.6 if seg else 0.1)
            if seg and self.reward_key in ('mIoU', 'mAcc', 'aAcc', 'FWIoU', 'BIoU', 'BF1'):
                rejection['metric'] = 'gAcc' if self.reward_key == 'aAcc' else self.reward_key
            return dict(type='RegularizedEvolutionSearcher',
                        population_size=population or PAPER_POPULATION['alz'],
                        max_population=2500, tournament_fraction=0.05, depth=3,
                        copy_prob=0.1, reinit_prob=0.5, loss_rejection=rejection)
        slot = self.slots[0]
        return dict(type='ConvergenceSimulationSearcher',
                    population_size=population or PAPER_POPULATION['cse'], num_parents=2,
                    crossover_prob=0.5, mutation_prob=0.8, depth=2, max_simulated=4,
                    convergence=dict(num_classes=int(self.head(slot)['num_classes'])),
                    simulation=dict(iters=60 if paper_filters else 30, images_per_category=1))


def nested_override(key: str, value: dict) -> dict:
    """``{'a': {'b': value}}`` for dotted ``key`` ``'a.b'``; ``ValueError`` for a key through
    a list (a config override cannot reach into one)."""
    parts = key.split('.')
    if any(part.isdigit() for part in parts):
        raise ValueError(f'slot {key!r} sits in a list of heads: a config override cannot '
                         f'change one element of it; give the head as a dict')
    for part in reversed(parts):
        value = {part: value}
    return value


def merge_override(into: dict, other: dict) -> None:
    """Merge config override ``other`` into ``into`` (a ``_delete_`` dict replaces)."""
    for name, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict) \
                and not value.get('_delete_'):
            merge_override(into[name], value)
        else:
            into[name] = value


def reward_keys(cfg: Config) -> tuple[set[str], list[str]]:
    """The reward keys the config's ``val_evaluator`` reports, and its unknown metrics."""
    return reported_keys(cfg)


def default_reward(keys: set[str]) -> str | None:
    return next((key for key in DEFAULT_REWARDS if key in keys), None)


def plan_method(cfg: Config, slots: list[LossSlot], method: str,
                metric: str | None) -> MethodPlan:
    """``method`` on ``slots`` of ``cfg``; ``ValueError`` naming the slot or the metric and
    what would work when the method does not apply."""
    if method not in METHODS:
        raise ValueError(f'--method must be one of {list(METHODS)}, got {method!r}')
    plan = MethodPlan(method, slots, reward_key='',
                      heads={s.key: config_value(cfg, s.key.rsplit('.', 1)[0]) for s in slots})
    for slot in slots:
        if method not in slot.methods:
            note = f', {slot.note}' if slot.note else ''
            raise ValueError(f'--method {method} does not apply to slot {slot.key} '
                             f'({slot.loss_type} in {slot.head}); methods for it: '
                             f'{list(slot.methods) or "none"}{note}')
    keys, unknown = reward_keys(cfg)
    if method == 'asl':
        _plan_asl(cfg, plan, metric)
    else:
        plan.reward_key = metric or default_reward(keys) or ''
        if not plan.reward_key:
            raise ValueError(f'the val_evaluator reports no key this package knows to '
                             f'maximise (known: {sorted(keys)}; metric types with unknown '
                             f'keys: {unknown}); give --metric KEY')
        if plan.reward_key not in keys and not unknown:
            raise ValueError(f'--metric {plan.reward_key!r} is not reported by the config\'s '
                             f'val_evaluator, which reports {sorted(keys)}')
        {'pap': _plan_pap, 'alz': _plan_alz, 'cse': _plan_cse}[method](cfg, plan)
    return plan


def _plan_asl(cfg: Config, plan: MethodPlan, metric: str | None) -> None:
    if len(plan.slots) != 1:
        raise ValueError(f'--method asl searches one decode-head loss, got slots '
                         f'{[s.key for s in plan.slots]}')
    metric = metric or 'mIoU'
    if metric not in ASL_METRICS:
        raise ValueError(f'--metric {metric!r}: Auto Seg-Loss has surrogates for '
                         f'{list(ASL_METRICS)}')
    slot = plan.slots[0]
    plan.reward_key, evaluator_metric = ASL_REWARD[metric]
    if evaluator_metric is not None:
        plan.evaluator_metrics.append(evaluator_metric)
        plan.notes.append(f'{evaluator_metric["type"]} added to the proxy\'s evaluator for '
                          f'the reward {metric}')
    num_classes = int(plan.head(slot)['num_classes'])
    loss = dict(_delete_=True, type='AutoSegLoss', metric=metric, num_classes=num_classes,
                loss_weight=slot.loss.get('loss_weight', 1.0))
    plan.proxy_losses[slot.key] = loss
    plan.notes.append(f'{slot.key}: AutoSegLoss for {metric} (identity curves) in the proxy')
    plan.search_space = dict(type='ASLSpace', metric=metric, key=slot.key,
                             parameterization='bezier', num_segments=2)


def _plan_pap(cfg: Config, plan: MethodPlan) -> None:
    keys = []
    for head_key in dict.fromkeys(slot.key.rsplit('.', 1)[0] for slot in plan.slots):
        head = config_value(cfg, head_key)
        head_type = str(head['type']).split('.')[-1]
        swap = dict(type=PAP_HEADS[head_type], loss_cls=None, loss_bbox=None,
                    loss_ap=copy.deepcopy(IDENTITY_AP_LOSS))
        if 'loss_iou' in head:
            swap['loss_iou'] = None
        if 'reg_decoded_bbox' in head or head_type != 'DeformableDETRHead':
            swap['reg_decoded_bbox'] = True
        merge_override(plan.model_changes, nested_override(head_key, swap))
        keys.append(f'{head_key}.loss_ap')
        plan.notes.append(f'{head_key}: {head_type} -> {PAP_HEADS[head_type]}, its '
                          f'classification and box losses replaced by one ParamAPLoss '
                          f'(identity functions)')
    plan.search_space = dict(type='PAPSpace', keys=keys, num_segments=5)


def _decode_boxes(plan: MethodPlan, slot: LossSlot) -> None:
    head = plan.head(slot)
    if slot.kind == 'box' and not head.get('reg_decoded_bbox', False) \
            and slot.loss_type not in ('IoULoss', 'GIoULoss', 'DIoULoss', 'CIoULoss'):
        head_key = slot.key.rsplit('.', 1)[0]
        merge_override(plan.model_changes, nested_override(head_key, dict(reg_decoded_bbox=True)))
        plan.notes.append(f'{head_key}: reg_decoded_bbox=True (a formula box loss takes '
                          f'decoded boxes)')


def _plan_alz(cfg: Config, plan: MethodPlan) -> None:
    for slot in plan.slots:
        _decode_boxes(plan, slot)
    plan.search_space = dict(type='FormulaSpace', primitive_set='alz',
                             branches={slot.key: slot.kind for slot in plan.slots})


def _plan_cse(cfg: Config, plan: MethodPlan) -> None:
    if len(plan.slots) != 1:
        raise ValueError(f'--method cse searches one branch while the others stay as the '
                         f'config has them, got slots {[s.key for s in plan.slots]}')
    slot = plan.slots[0]
    _decode_boxes(plan, slot)
    if slot.kind in ('sigmoid_cls', 'softmax_cls'):
        head_key = slot.key.rsplit('.', 1)[0]
        head_type = slot.head
        merge_override(plan.model_changes,
                       nested_override(head_key, dict(type=CSE_HEADS[head_type])))
        plan.notes.append(f'{head_key}: {head_type} -> {CSE_HEADS[head_type]} (hands the '
                          f'IoU input w to the classification loss)')
    plan.search_space = dict(type='FormulaSpace', primitive_set='cse',
                             branches={slot.key: slot.kind})
