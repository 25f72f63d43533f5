"""tools/plan_search.py: --list on stock configs, one line and exit 2 for every input it
cannot plan, and two configs this repository does not ship, planned and searched to the end
(re-training included) with one curve method (ASL on mmseg's FCN, ToySeg) and one formula
method (CSE on mmdet's FCOS, ToyDet)."""
import json

import pytest

from mmautoloss.datasets.toy_detection import generate_toydet
from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.testing.user_configs import OWN_LOSS_HEAD, write_fcn_toyseg, write_fcos_toydet

RETINANET = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
FCOS = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'


@pytest.fixture(scope='module')
def toyseg(tmp_path_factory):
    root = tmp_path_factory.mktemp('toyseg')
    generate_toyseg(str(root), seed=0, num_train=10, num_val=2, size=32)
    return str(root)


@pytest.fixture(scope='module')
def toydet(tmp_path_factory):
    root = tmp_path_factory.mktemp('toydet')
    generate_toydet(str(root) + '/', seed=0, num_train=10, num_val=2, size=96)
    return str(root) + '/'


def _error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines()
            if line.startswith('plan error')]


def test_list_prints_every_slot_without_the_data(plan_main, capsys):
    assert plan_main([FCOS, '--list']) == 0
    out = capsys.readouterr().out
    assert 'model.bbox_head.loss_cls: FocalLoss' in out and 'kind sigmoid_cls' in out
    assert 'model.bbox_head.loss_centerness' in out and 'kind not supported' in out
    assert 'reward keys of val_evaluator: coco/bbox_mAP' in out


@pytest.mark.parametrize('argv, message', [
    ([RETINANET, '--method', 'asl'],
     '--method asl applies to no slot of this config; methods that apply: '
     "['alz', 'pap']"),
    ([FCOS, '--slots', 'model.bbox_head.loss_xyz'],
     "--slots 'model.bbox_head.loss_xyz' is not a loss slot of this config"),
    ([FCOS, '--slots', 'model.bbox_head.loss_centerness'],
     'no method of this package searches all of --slots'),
    ([FCOS, '--method', 'cse', '--slots', 'model.bbox_head.loss_cls,model.bbox_head.loss_bbox'],
     '--method cse searches one branch'),
    ([RETINANET, '--method', 'pap', '--metric', 'coco/nope'],
     "--metric 'coco/nope' is not reported by the config's val_evaluator"),
])
def test_an_input_that_cannot_be_planned_is_one_line_and_exit_2(plan_main, capsys, argv,
                                                                 message):
    assert plan_main(argv) == 2
    (line, ) = _error_lines(capsys)
    assert message in line


@pytest.mark.parametrize('text, message', [
    ("default_scope = 'mmdet'\n", 'the config has no model dict'),
    ("default_scope = 'mmseg'\nmodel = dict(type='EncoderDecoder')\n", 'has no loss slot'),
    ("default_scope = 'mmseg'\nmodel = dict(\n", 'plan error: '),
])
def test_a_broken_config_is_one_line_and_exit_2(plan_main, capsys, tmp_path, text, message):
    path = tmp_path / 'user.py'
    path.write_text(text)
    assert plan_main([str(path)]) == 2
    (line, ) = _error_lines(capsys)
    assert message in line


def test_a_budget_below_one_trial_is_refused(plan_main, capsys, tmp_path, toyseg):
    config = write_fcn_toyseg(tmp_path, toyseg)
    assert plan_main([config, '--proxy-iters', '10', '--budget-hours', '0.0001', '--out',
                      str(tmp_path / 'plan')]) == 2
    (line, ) = _error_lines(capsys)
    assert 'is too small: one proxy trial takes' in line


def _searched(search_main, search, work_dir, *options) -> dict:
    assert search_main([search, '--work-dir', str(work_dir), '--cfg-options',
                        *options]) == 0
    return json.loads((work_dir / 'best.json').read_text())


@pytest.mark.training
def test_asl_on_a_users_fcn_is_planned_and_searched_to_the_end(plan_main, search_main,
                                                                capsys, tmp_path, toyseg):
    config = write_fcn_toyseg(tmp_path, toyseg, iters=10)
    out = tmp_path / 'plan'
    assert plan_main([config, '--proxy-iters', '10', '--rounds', '1', '--samples', '2',
                      '--out', str(out), '--check']) == 0
    printed = capsys.readouterr().out
    assert '[plan] method asl on model.decode_head.loss_decode; reward mIoU' in printed
    assert 'validated on 2 held-out training images' in printed
    assert '[plan] check: every searched slot trains with the candidate loss' in printed
    best = _searched(search_main, str(out / 'search.py'), tmp_path / 'work',
                     'retrain.seeds=1')
    rows = best['retrain']['targets'][0]['rows']
    assert [r['entry']['name'] for r in rows] == ['rank1', 'user-loss', 'identity']
    assert best['forecast']['search_s'] > 0
    assert (best['time_spent']['proxy_trainings'], best['time_spent']['retrain_trainings']) \
        == (2, 3)
    report = (tmp_path / 'work' / 'report.md').read_text()
    assert '## Time against the forecast' in report


@pytest.mark.training
def test_cse_on_a_users_fcos_is_planned_and_searched_to_the_end(plan_main, search_main,
                                                                capsys, tmp_path, toydet):
    config = write_fcos_toydet(tmp_path, toydet)
    out = tmp_path / 'plan'
    assert plan_main([config, '--method', 'cse', '--slots', 'model.bbox_head.loss_cls',
                      '--proxy-iters', '10', '--rounds', '1', '--samples', '1', '--out',
                      str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'model.bbox_head: FCOSHead -> IoUFCOSHead' in printed
    best = _searched(search_main, str(out / 'search.py'), tmp_path / 'work',
                     'retrain.seeds=1', 'searcher.population_size=2',
                     'searcher.max_simulated=1', 'searcher.simulation.iters=4')
    assert best['selected']['genotype']['model.bbox_head.loss_cls']
    rows = best['retrain']['targets'][0]['rows']
    assert [r['entry']['name'] for r in rows] == ['rank1', 'user-loss']
    assert all(len(r['rewards']) == 1 and r['failed'] == 0 for r in rows)


def test_check_refuses_a_slot_the_model_never_calls(plan_main, capsys, tmp_path, toyseg,
                                                    monkeypatch):
    (tmp_path / 'own_loss_head.py').write_text(OWN_LOSS_HEAD)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = write_fcn_toyseg(tmp_path, toyseg, head='FCNHeadOwnLoss',
                              imports=('own_loss_head', ))
    assert plan_main([config, '--proxy-iters', '10', '--out', str(tmp_path / 'plan'),
                      '--check']) == 2
    (line, ) = _error_lines(capsys)
    assert line == ('plan error: slot model.decode_head.loss_decode: the model never calls '
                    'this loss in a training step (a disabled head, or a loss its head does '
                    'not use)')


def test_an_evaluator_without_known_keys_needs_metric(plan_main, capsys, tmp_path):
    path = tmp_path / 'user.py'
    path.write_text(f"_base_ = {RETINANET!r}\nval_evaluator = dict(_delete_=True, "
                    "type='MyMetric')\n")
    assert plan_main([str(path), '--method', 'pap']) == 2
    (line, ) = _error_lines(capsys)
    assert "metric types with unknown keys: ['MyMetric']); give --metric KEY" in line
