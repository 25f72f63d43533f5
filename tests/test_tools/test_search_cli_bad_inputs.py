"""tools/search.py against malformed input, table-driven: a config value, a command-line
option, a work dir, a journal, a state file or a loss parameter that cannot work exits 2
with one line naming the input and its value, no traceback, and the recorded search's
journal byte for byte as it was."""
import json
import shutil
from pathlib import Path

import pytest

from mmautoloss.testing import search_config_text, write_proxy

PROXY_WITH_HEAD_CLASSES = """
model = dict(decode_head=dict(num_classes=3, loss_decode=dict(
    type='AutoSegLoss', metric='mIoU', num_classes=3, loss_weight=1.0, theta=None)))
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
"""


@pytest.fixture(scope='module')
def recorded(tmp_path_factory, search_main):
    """A finished one-round search: its proxy, config text and work dir."""
    root = tmp_path_factory.mktemp('recorded')
    proxy = write_proxy(root)
    text = search_config_text(proxy, rounds=1, samples=2)
    config = root / 'search.py'
    config.write_text(text)
    assert search_main([str(config), '--work-dir', str(root / 'work')]) == 0
    return dict(root=root, proxy=proxy, text=text, work=root / 'work')


def _lines(path: Path) -> list:
    return path.read_text().splitlines()


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = _lines(path)
    lines[number - 1] = text
    path.write_text('\n'.join(lines) + '\n')


def _trial_line(path: Path) -> int:
    return next(i for i, line in enumerate(_lines(path), 1) if '"event": "trial"' in line)


# (case, config lines appended, extra CLI args, damage done to the work dir, expected text)
CASES = [
    # search config values
    ('unknown_key', "sampler = dict(type='x')", [], None, "unknown search config key(s) ['sampler']"),
    ('proxy_not_a_file', "proxy_config = 'nope/proxy.py'", [], None, "proxy_config='nope/proxy.py' is not a file"),
    ('space_not_a_dict', 'search_space = 3', [], None, 'search_space must be a dict with a string "type", got 3'),
    ('space_unknown_type', "search_space = dict(type='NoSpace')", [], None, "search_space.type='NoSpace' is not a known space"),
    ('space_unknown_argument', "search_space = dict(type='ASLSpace', metric='mIoU', sharpness=2)", [], None, 'sharpness'),
    ('space_unknown_metric', "search_space = dict(type='ASLSpace', metric='mDice')", [], None, "'mDice'"),
    ('reward_key_not_reported', "reward_key = 'mAP'", [], None, "reward_key='mAP' is not reported"),
    ('reward_key_empty', "reward_key = ''", [], None, "reward_key must be a non-empty string, got ''"),
    ('budget_missing_field', 'budget = dict(rounds=1)', [], None, 'budget must be dict(rounds=..., samples_per_round=...), got'),
    ('budget_rounds_zero', 'budget = dict(rounds=0, samples_per_round=2)', [], None, 'budget.rounds must be an int >= 1, got 0'),
    ('budget_rounds_string', "budget = dict(rounds='3', samples_per_round=2)", [], None, "budget.rounds must be an int >= 1, got '3'"),
    ('seed_negative', 'seed = -1', [], None, 'seed must be an int >= 0, got -1'),
    ('failure_reward_nan', "failure_reward = float('nan')", [], None, 'failure_reward must be a finite number, got nan'),
    ('trial_timeout_zero', 'trial_timeout = 0', [], None, 'trial_timeout must be a finite positive number, got 0'),
    ('trial_timeout_inf', "trial_timeout = float('inf')", [], None, 'trial_timeout must be a finite positive number, got inf'),
    ('work_dir_not_a_string', 'work_dir = 3', [], None, 'work_dir must be a non-empty path string or None, got 3'),
    ('searcher_unknown', "searcher = dict(type='GridSearcher')", [], None, "searcher.type='GridSearcher' is not a known searcher"),
    ('searcher_sets_seed', "searcher = dict(type='PPO2Searcher', seed=3)", [], None, 'searcher.seed is set by the search config itself'),
    ('searcher_bad_sigma', "searcher = dict(type='PPO2Searcher', sigma=-1.0)", [], None, 'sigma'),
    ('executor_unknown', "executor = dict(type='SlurmExecutor')", [], None, "executor.type='SlurmExecutor' is not a known executor"),
    ('executor_reserved', "executor = dict(type='LocalExecutor', timeout_s=3)", [], None, 'executor.timeout_s is set by the search config'),
    ('executor_concurrency_zero', "executor = dict(type='LocalExecutor', max_concurrent=0)", [], None, 'max_concurrent=0'),
    ('config_syntax_error', 'budget = dict(rounds=1,', [], None, 'cannot be read'),
    ('early_stopping_with_ppo2', 'early_stopping = dict(reduction_factor=3)', [], None, 'early_stopping: PPO2Searcher needs the final reward of every trial'),
    ('early_stopping_bad_factor', "searcher = dict(type='RandomSearcher')\nearly_stopping = dict(reduction_factor=1)", [], None, 'early_stopping: reduction_factor must be an int >= 2, got 1'),
    ('early_stopping_not_a_dict', 'early_stopping = 3', [], None, 'early_stopping must be None or a dict of ASHA settings'),
    ('seeds_per_candidate_zero', 'seeds_per_candidate = 0', [], None, 'seeds_per_candidate must be an int >= 1, got 0'),
    ('retrain_bad_top_k', 'retrain = dict(top_k=0)', [], None, 'retrain.top_k must be an int >= 1, got 0'),
    ('retrain_schedule_not_longer', 'retrain = dict(top_k=1)', [], None, 'retrain.schedule_factor=2.0 needs train_cfg.max_iters or max_epochs in the proxy config'),
    ('retrain_missing_target', "retrain = dict(config='nope/target.py')", [], None, "retrain.config 'nope/target.py' cannot be read"),
    # loss parameters
    ('loss_option_misspelled', "search_space = dict(type='ASLSpace', metric='mIoU', loss_options=dict(loss_wieght=2.0))", [], None, 'loss_wieght'),
    ('loss_weight_huge', "search_space = dict(type='ASLSpace', metric='mIoU', loss_options=dict(loss_weight=1e308))", [], None, 'loss_weight must be a finite number in [0.0, 10000.0], got 1e+308'),
    ('loss_weight_negative', "search_space = dict(type='ASLSpace', metric='mIoU', loss_options=dict(loss_weight=-1.0))", [], None, 'got -1.0'),
    ('loss_sets_searched_field', "search_space = dict(type='ASLSpace', metric='mIoU', loss_options=dict(theta=[0.5]))", [], None, "loss_options may not set searched fields, got ['theta']"),
    ('loss_classes_contradict_head', "proxy_config = {head_proxy!r}\nsearch_space = dict(type='ASLSpace', metric='mIoU', loss_options=dict(num_classes=5))", [], None, "has num_classes=5 but the proxy's model.decode_head has num_classes=3"),
    # command-line options
    ('cfg_option_without_value', '', ['--cfg-options', 'budget.rounds'], None, "--cfg-options item 'budget.rounds' must be KEY=VALUE"),
    ('cfg_option_unparsable', '', ['--cfg-options', 'budget=[1,(2'], None, "--cfg-options budget: cannot parse the value '[1,(2'"),
    ('cfg_option_unknown_key', '', ['--cfg-options', 'rouns=3'], None, "unknown search config key(s) ['rouns']"),
    ('cfg_option_bad_value', '', ['--cfg-options', 'budget.rounds=-2'], None, 'budget.rounds must be an int >= 1, got -2'),
    ('gpus_negative', '', ['--gpus', '-1'], None, '--gpus must be an integer >= 0, got -1'),
    ('gpus_per_trial_zero', '', ['--gpus-per-trial', '0'], None, '--gpus-per-trial: gpus_per_trial must be a positive number, got gpus_per_trial=0.0'),
    ('gpus_per_trial_uneven', '', ['--gpus-per-trial', '0.3'], None, 'must be 1/k so that k trials share each GPU exactly (0.5, 0.25, 0.2, ...), got gpus_per_trial=0.3'),
    ('gpus_not_an_int', '', ['--gpus', 'two'], None, "argument --gpus: invalid int value: 'two'"),
    ('gpus_not_there', '', ['--gpus', '64'], None, '--gpus=64 but this machine has'),
    # work dirs
    ('work_dir_is_a_file', '', [], 'work_dir_file', 'cannot be used as a directory'),
    ('work_dir_under_a_file', '', [], 'work_dir_under_file', 'cannot be used as a directory'),
    ('no_resume_on_recorded', '', [], 'no_resume', 'already holds a search journal; pass --resume'),
    ('resume_empty_dir', '', ['--resume'], 'empty_dir', 'holds no search journal (journal.jsonl)'),
    ('resume_changed_timeout', 'trial_timeout = 5', ['--resume'], None, 'trial_timeout: recorded 60.0, now 5.0'),
    ('resume_changed_seed', 'seed = 4', ['--resume'], None, 'seed: recorded 0, now 4'),
    ('resume_changed_searcher', "searcher = dict(type='PPO2Searcher', num_steps=11)", ['--resume'], None, 'searcher.num_steps: recorded 10, now 11'),
    # journals
    ('journal_corrupt_line', '', ['--resume'], 'journal_corrupt', 'line 2 is not valid JSON'),
    ('journal_event_without_fields', '', ['--resume'], 'journal_no_fields', "a 'trial' event without ['round', 'candidate', 'result']"),
    ('journal_result_without_reward', '', ['--resume'], 'journal_no_reward', "without ['result.reward']"),
    ('journal_line_not_an_object', '', ['--resume'], 'journal_list', 'is not an event object'),
    ('journal_without_start', '', ['--resume'], 'journal_no_start', 'line 1 is not the search_start event'),
    ('journal_is_a_directory', '', ['--resume'], 'journal_dir', 'journal.jsonl is not a regular file'),
    # state files
    ('state_is_a_directory', '', ['--resume'], 'state_dir', 'state.json is not a regular file'),
]


def _damage(kind, work: Path, tmp_path: Path) -> Path:
    """Apply ``kind`` to the copied work dir; returns the --work-dir to pass."""
    journal = work / 'journal.jsonl'
    if kind == 'work_dir_file':
        (tmp_path / 'a_file').write_text('x')
        return tmp_path / 'a_file'
    if kind == 'work_dir_under_file':
        (tmp_path / 'a_file').write_text('x')
        return tmp_path / 'a_file' / 'sub'
    if kind == 'empty_dir':
        (tmp_path / 'empty').mkdir()
        return tmp_path / 'empty'
    if kind == 'journal_corrupt':
        _replace_line(journal, 2, '{"event": "round_start", "round": 0, "cand')
    elif kind == 'journal_no_fields':
        _replace_line(journal, _trial_line(journal), '{"event": "trial"}')
    elif kind == 'journal_no_reward':
        number = _trial_line(journal)
        event = json.loads(_lines(journal)[number - 1])
        del event['result']['reward']
        _replace_line(journal, number, json.dumps(event))
    elif kind == 'journal_list':
        _replace_line(journal, 2, '[1, 2]')
    elif kind == 'journal_no_start':
        journal.write_text('\n'.join(_lines(journal)[1:]) + '\n')
    elif kind == 'journal_dir':
        journal.unlink()
        journal.mkdir()
    elif kind == 'state_dir':
        (work / 'state.json').unlink()
        (work / 'state.json').mkdir()
    return work


@pytest.mark.parametrize('case,extra,args,damage,expected', CASES, ids=[c[0] for c in CASES])
def test_malformed_input_exits_2_naming_it_and_leaves_the_journal_unchanged(
        tmp_path, recorded, search_main, capsys, case, extra, args, damage, expected):
    work = tmp_path / 'work'
    shutil.copytree(recorded['work'], work)
    head_proxy = write_proxy(tmp_path, PROXY_WITH_HEAD_CLASSES, name='head_proxy.py')
    config = tmp_path / 'search.py'
    config.write_text(recorded['text'] + '\n' + extra.format(head_proxy=head_proxy) + '\n')
    work_dir = _damage(damage, work, tmp_path)
    journal = work / 'journal.jsonl'
    before = journal.read_bytes() if journal.is_file() else None
    capsys.readouterr()
    try:
        code = search_main([str(config), '--work-dir', str(work_dir), *args])
    except SystemExit as exit_:  # argparse's own refusal of an option's type
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    # one line of message (argparse prints its usage lines above its own)
    message = [line for line in err.strip().splitlines()
               if not line.startswith(('usage:', ' '))]
    assert len(message) == 1 and expected in message[0], err
    after = journal.read_bytes() if journal.is_file() else None
    assert after == before
    assert len(CASES) >= 30
