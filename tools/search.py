"""Search a loss function: ``python tools/search.py configs/search/asl_miou_toyseg.py``.

Every candidate loss becomes one proxy training job; the search can be stopped at any time
(Ctrl-C: exit code 130; SIGTERM: 143; both stop the running trials first; even SIGKILL) and
continued with ``--resume``. Exit code 2 means the config (or the resume request) is invalid;
nothing was trained.
"""
import argparse
import os.path as osp
import signal
import sys

from mmengine.config import DictAction

from mmautoloss.search.builders import build_executor, build_searcher, build_watch_hooks
from mmautoloss.search.console import ConsoleHook
from mmautoloss.search.data_check import missing_data
from mmautoloss.search.errors import ResumeError, SearchConfigError
from mmautoloss.search.executors.processes.gpu_slots import check_gpus_per_trial
from mmautoloss.search.search_loop import SearchLoop
from mmautoloss.search.slot_check import SlotCheckError, check_candidate, check_slots
from mmautoloss.search.structures import BEST_CONFIG_NAME, BEST_NAME, REPORT_MD
from mmautoloss.search.validation import load_search_config, validate_search_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Search a loss function (ASL / PAP).')
    parser.add_argument('config', help='search config file')
    parser.add_argument('--work-dir', help='where the journal, best.json, plots and trials '
                        'go (default: the config\'s work_dir, else work_dirs/search/<name>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the search recorded in the work dir')
    parser.add_argument('--gpus', type=int, default=0, help='GPUs on this machine to use '
                        '(0 runs trials as CPU processes)')
    parser.add_argument('--gpus-per-trial', type=float, default=None,
                        help='GPUs per trial, or a fraction 1/k of one that k trials share '
                        '(0.25); default: the executor config\'s gpus_per_trial, else 1')
    parser.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                        help='override search config settings, e.g. budget.rounds=3')
    return parser.parse_args(argv)


def parse_cfg_options(items: list[str] | None) -> dict:
    """``--cfg-options KEY=VALUE ...`` as a dict, values parsed as mmengine's ``DictAction``
    parses them (numbers, bools, None, lists, tuples); ``SearchConfigError`` naming the
    item when one is not ``KEY=VALUE`` or its value cannot be parsed."""
    options = {}
    for item in items or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise SearchConfigError(f'--cfg-options item {item!r} must be KEY=VALUE, e.g. '
                                    'budget.rounds=3')
        try:
            options[key] = DictAction._parse_iterable(value)
        except (ValueError, AssertionError, RecursionError) as error:
            raise SearchConfigError(f'--cfg-options {key}: cannot parse the value {value!r} '
                                    f'({type(error).__name__})') from error
    return options


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the executor stops the running trials' process
    groups instead of leaving their children (dataloader workers, torchrun ranks) behind."""


#: the signal that stopped the search; kept apart from the exception because a library
#: that waits in native code (Ray's ray.wait) re-raises a plain KeyboardInterrupt
_received = {'signal': signal.SIGINT}


def _raise_terminated(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup
    _received['signal'] = signal.SIGTERM
    raise Terminated()


def check_gpus(gpus: int, gpus_per_trial: float | None) -> None:
    """``--gpus`` must not ask for more CUDA devices than this process can see; otherwise
    every trial would crash on a device it does not have."""
    if gpus < 0:
        raise SearchConfigError(f'--gpus must be an integer >= 0, got {gpus}')
    if gpus_per_trial is not None:
        try:
            check_gpus_per_trial(gpus_per_trial)
        except ValueError as error:
            raise SearchConfigError(f'--gpus-per-trial: {error}') from error
    if gpus > 0:
        import torch
        visible = torch.cuda.device_count()
        if gpus > visible:
            raise SearchConfigError(f'--gpus={gpus} but this machine has {visible} visible '
                                    'CUDA device(s)')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_gpus(args.gpus, args.gpus_per_trial)
        cfg = load_search_config(args.config, parse_cfg_options(args.cfg_options))
        settings = validate_search_config(cfg)
        searcher = build_searcher(settings)
        executor = build_executor(settings, gpus=args.gpus, gpus_per_trial=args.gpus_per_trial)
    except SearchConfigError as error:
        print(f'search config error: {error}', file=sys.stderr)
        return 2
    work_dir = args.work_dir or settings.work_dir or osp.join(
        'work_dirs', 'search', osp.splitext(osp.basename(args.config))[0])
    if settings.check_slots and not args.resume:
        for name, cfg in [(settings.proxy_config, settings.proxy_cfg)] + [
                (f'retrain target {t.name}', t.config) for t in settings.retrain_targets]:
            missing = missing_data(cfg)
            if missing:
                print(f'search config error: {name} names data that does not exist: '
                      f'{missing[0]}' + (f' (and {len(missing) - 1} more)' if
                                          len(missing) > 1 else '') +
                      '; generate or download it (a ToySeg / ToyDet / ToyPose set from before '
                      'its search split gains it when its generator runs again)',
                      file=sys.stderr)
                return 2
        print('[search] checking that the candidate loss is trained at '
              f'{", ".join(settings.space.keys)} (one training step)', flush=True)
        try:
            check_slots(settings.proxy_cfg, check_candidate(settings.space))
        except SlotCheckError as error:
            print(f'search config error: {error}', file=sys.stderr)
            return 2
        except Exception as error:  # the proxy cannot train a step: its data, its model
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else ''
            print(f'search config error: the proxy {settings.proxy_config} cannot train one '
                  f'step for the slot check: {type(error).__name__}: {reason}',
                  file=sys.stderr)
            return 2
    _received['signal'] = signal.SIGINT
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        hooks = [ConsoleHook(), *build_watch_hooks(settings)]
        best = SearchLoop(settings, searcher, executor, work_dir, resume=args.resume,
                          hooks=hooks).run()
    except SearchConfigError as error:  # e.g. the proxy's data, checked when first read
        print(f'search config error: {error}', file=sys.stderr)
        return 2
    except ResumeError as error:  # a work dir that cannot be started or resumed
        print(f'search resume error: {error}', file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # the executor has already stopped the trials
        print(f'interrupted; continue with: python tools/search.py {args.config} '
              f'--work-dir {work_dir} --resume', file=sys.stderr)
        stopped_by = signal.SIGTERM if isinstance(interrupt, Terminated) else _received['signal']
        return 128 + stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    selected = best['selected']
    if 'mean_trial_reward' in selected:  # PPO2's best mean: scored by its round's average
        found = (f'best mean (round {selected["round"]}): average {settings.reward_key} = '
                 f'{selected["reward"]:.4f}')
    else:
        found = (f'best {settings.reward_key} = {selected["reward"]:.4f} '
                 f'({selected["candidate_id"]})')
    if 'retrain' in best:  # the exported config holds the re-training winner
        found += (f'; re-training winner {best["retrain"]["winner"]["name"]} '
                  f'({best["retrain"]["winner"]["candidate_id"]}), '
                  f'{osp.join(work_dir, REPORT_MD)}')
    print(f'{found}; {osp.join(work_dir, BEST_NAME)}, config '
          f'{osp.join(work_dir, BEST_CONFIG_NAME)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
