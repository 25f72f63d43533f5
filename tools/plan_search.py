"""Plan a loss search on your own OpenMMLab training config.

``python tools/plan_search.py CONFIG --list`` prints every loss slot of the config (its key,
loss, head, branch kind and the methods that search it) and the reward keys of its
evaluator; nothing is built or trained. Without ``--list`` it writes a proxy config, a
re-training target and a search config for one method under ``--out``, after a timing
probe of the proxy on this machine, and prints the plan and its forecast; ``--check``
then trains one step with a candidate loss at every searched slot. Exit code 2: the config
or a setting cannot be planned (one line says which).
"""
import argparse
import sys

from mmautoloss.search.planning.loss_slots import ASL_METRICS, find_loss_slots, load_config
from mmautoloss.search.planning.method_plan import METHODS, reward_keys
from mmautoloss.search.planning.plan import PlanRequest, make_plan


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a training config (a file, or mmdet::... / '
                        'mmseg::... / mmpose::... from an installed package)')
    parser.add_argument('--list', action='store_true', help='print the loss slots and reward '
                        'keys, and stop')
    parser.add_argument('--method', choices=METHODS, help='asl, pap, alz or cse (default: '
                        'the first of asl, pap, alz that applies)')
    parser.add_argument('--slots', help='comma-separated slot keys to search (default: '
                        'the method\'s slots)')
    parser.add_argument('--metric', help='the reward key (ASL: the metric mIoU, FWIoU, mAcc, '
                        'gAcc, BIoU or BF1)')
    parser.add_argument('--budget-hours', type=float, help='size the search to fit')
    parser.add_argument('--rounds', type=int, help='search rounds (default: the paper\'s, '
                        'or sized by --budget-hours)')
    parser.add_argument('--samples', type=int, help='proxy trainings per round')
    parser.add_argument('--gpus', type=int, default=0, help='GPUs the search will use')
    parser.add_argument('--gpus-per-trial', type=float, default=1)
    parser.add_argument('--proxy-iters', type=int, default=300,
                        help='training iterations of the proxy (default 300)')
    parser.add_argument('--train-fraction', type=float, default=1.0,
                        help='share of the training images the proxy trains on')
    parser.add_argument('--out', help='where the configs go (default '
                        'work_dirs/plan/<config name>)')
    parser.add_argument('--check', action='store_true', help='train one step with a '
                        'candidate at every searched slot and confirm it is used')
    return parser.parse_args(argv)


def print_slots(config: str) -> None:
    cfg = load_config(config)
    slots = find_loss_slots(cfg)
    print(f'loss slots of {config}:')
    for slot in slots:
        settings = {k: v for k, v in slot.loss.items() if k in ('use_sigmoid', 'loss_weight')}
        kind = slot.kind or 'not supported'
        methods = [f'asl ({", ".join(ASL_METRICS)})' if m == 'asl' else m
                   for m in slot.methods]
        print(f'  {slot.key}: {slot.loss_type} {settings} in {slot.head}; kind {kind}; '
              f'methods {", ".join(methods) or "none"}'
              f'{"; " + slot.note if slot.note else ""}')
    keys, unknown = reward_keys(cfg)
    print(f'reward keys of val_evaluator: {", ".join(sorted(keys)) or "none"}'
          f'{"; metrics with unknown keys: " + ", ".join(unknown) if unknown else ""}')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.list:
            print_slots(args.config)
            return 0
        request = PlanRequest(
            config=args.config, method=args.method,
            slots=args.slots.split(',') if args.slots else None, metric=args.metric,
            budget_hours=args.budget_hours, gpus=args.gpus,
            gpus_per_trial=args.gpus_per_trial, proxy_iters=args.proxy_iters,
            train_fraction=args.train_fraction, out=args.out, rounds=args.rounds,
            samples=args.samples)
        plan = make_plan(request)
    except Exception as error:  # mmengine raises many types for a config it cannot build
        print(f'plan error: {str(error).splitlines()[0] if str(error) else type(error).__name__}',
              file=sys.stderr)
        return 2
    mplan, forecast = plan.method_plan, plan.forecast
    print(f'[plan] method {mplan.method} on {", ".join(s.key for s in mplan.slots)}; reward '
          f'{mplan.reward_key}')
    for note in mplan.notes:
        print(f'[plan]   {note}')
    print(f'[plan] proxy: {request.proxy_iters} iterations on {plan.split["train"]} images, '
          f'validated on {plan.split["held_out"]} held-out training images -> '
          f'{plan.proxy_path}')
    print(f'[plan] probe: {plan.timing.iter_s:.3f} s/iteration, validation '
          f'{plan.timing.val_s:.1f} s, start-up {plan.timing.startup_s:.1f} s')
    print(f'[plan] forecast: one trial {forecast.trial_s:.0f} s; {forecast.trainings} proxy '
          f'trainings ({plan.budget["rounds"]} rounds x {plan.budget["samples_per_round"]}) '
          f'{forecast.search_s / 3600:.2f} h; re-training {forecast.retrain_trainings} '
          f'trainings {forecast.retrain_s / 3600:.2f} h; total {forecast.total_s / 3600:.2f} h')
    print(f'[plan] search config: {plan.search_path}')
    if args.check:
        from mmautoloss.search.slot_check import check_candidate, check_slots
        from mmautoloss.search.validation import load_search_config, validate_search_config
        settings = validate_search_config(load_search_config(plan.search_path, {}))
        try:
            check_slots(settings.proxy_cfg, check_candidate(settings.space))
        except ValueError as error:
            print(f'plan error: {error}', file=sys.stderr)
            return 2
        print('[plan] check: every searched slot trains with the candidate loss')
    print(f'run: python tools/search.py {plan.search_path}'
          f'{" --gpus " + str(args.gpus) if args.gpus else ""}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
