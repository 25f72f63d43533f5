"""The slot check: a candidate loss the model never calls, or whose gradient is zero, is
named before any trial is spent; tools/search.py runs it before the first round."""
import pytest
from mmengine.config import Config
from torch import nn

from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.search.slot_check import SlotCheckError, check_slots, slot_module
from mmautoloss.testing.user_configs import OWN_LOSS_HEAD, write_fcn_toyseg

KEY = 'model.decode_head.loss_decode'
EXPR = {KEY: dict(_delete_=True, type='ExprLoss', formula='Neg(Mul(Y,Log(P)))',
                  primitive_set='alz', branch='seg', loss_weight=1.0)}


@pytest.fixture(scope='module')
def toyseg(tmp_path_factory):
    root = tmp_path_factory.mktemp('toyseg')
    generate_toyseg(str(root), seed=0, num_train=10, num_val=2, size=32)
    return str(root)


@pytest.fixture
def own_loss_config(tmp_path, toyseg, monkeypatch):
    (tmp_path / 'own_loss_head.py').write_text(OWN_LOSS_HEAD)
    monkeypatch.syspath_prepend(str(tmp_path))
    return write_fcn_toyseg(tmp_path, toyseg, head='FCNHeadOwnLoss',
                            imports=('own_loss_head', ))


def test_a_used_formula_loss_passes(tmp_path, toyseg):
    check_slots(Config.fromfile(write_fcn_toyseg(tmp_path, toyseg)), EXPR)


def test_a_loss_the_head_never_calls_is_refused_by_name(own_loss_config):
    with pytest.raises(SlotCheckError, match=f'slot {KEY}: the model never calls this loss'):
        check_slots(Config.fromfile(own_loss_config), EXPR)


def test_a_loss_weighted_by_zero_is_refused(tmp_path, toyseg):
    zero = {KEY: dict(EXPR[KEY], loss_weight=0.0)}
    with pytest.raises(SlotCheckError, match='zero gradient on every weight'):
        check_slots(Config.fromfile(write_fcn_toyseg(tmp_path, toyseg)), zero)


def test_a_slot_the_model_does_not_build_is_named():
    with pytest.raises(SlotCheckError, match="no module at model.head"):
        slot_module(nn.Sequential(), 'model.head.loss')


def test_search_refuses_a_never_called_slot_before_any_trial(own_loss_config, tmp_path,
                                                             search_main, capsys):
    config = tmp_path / 'search.py'
    config.write_text(f"""proxy_config = {own_loss_config!r}
search_space = dict(type='FormulaSpace', primitive_set='alz', branches={{{KEY!r}: 'seg'}})
reward_key = 'mIoU'
searcher = dict(type='RandomFormulaSearcher')
budget = dict(rounds=1, samples_per_round=1)
optuna_storage = None
""")
    work_dir = tmp_path / 'work'
    assert search_main([str(config), '--work-dir', str(work_dir)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1:] == [f'search config error: slot {KEY}: the model never calls this loss in a '
                     'training step (a disabled head, or a loss its head does not use)']
    assert not (work_dir / 'journal.jsonl').exists()
