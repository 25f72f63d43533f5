"""AutoLoss-Zero's loss-rejection protocol and gradient-equivalence check on loss inputs
captured from the real ToySeg and ToyDet proxies (a few generated images)."""
import pytest
import torch
from mmengine.config import Config

from mmautoloss.datasets.toy_detection import generate_toydet
from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.functional.formulas import get_primitive_set
from mmautoloss.search.filters import LossRejection, capture_loss_calls
from mmautoloss.testing import REPO

SEG_KEY = 'model.decode_head.loss_decode'
CE = 'Neg(Mul(Y,Log(P)))'
L1 = 'Abs(Add(P,Neg(Y)))'
GIOU = 'Add(Add(1,Neg(Mul(I,Inv(U)))),Mul(Add(E,Neg(U)),Inv(E)))'
DET_BRANCHES = {'model.rpn_head.loss_cls': ('sigmoid_cls', CE),  # BCE: foreground / background
                'model.rpn_head.loss_bbox': ('box', GIOU),
                'model.roi_head.bbox_head.loss_cls': ('softmax_cls', CE),
                'model.roi_head.bbox_head.loss_bbox': ('box', GIOU)}


def seg_proxy(root) -> Config:
    generate_toyseg(str(root), seed=0, num_train=6, num_val=2)
    cfg = Config.fromfile(f'{REPO}/configs/proxies/alz_toyseg.py')
    cfg.train_dataloader.dataset.data_root = str(root)
    return cfg


def det_proxy(root) -> Config:
    generate_toydet(str(root) + '/', seed=0, num_train=6, num_val=2)
    cfg = Config.fromfile(f'{REPO}/configs/proxies/alz_toydet_faster-rcnn.py')
    cfg.train_dataloader.dataset.data_root = str(root) + '/'
    return cfg


@pytest.fixture(scope='module')
def seg_filter(tmp_path_factory):
    cfg = seg_proxy(tmp_path_factory.mktemp('toyseg'))
    return LossRejection(cfg, {SEG_KEY: (get_primitive_set('alz'), 'seg')}, metric='mIoU',
                         preset='cpu')


def test_capture_records_the_loss_inputs_of_each_sample(seg_filter):
    calls = seg_filter.calls[SEG_KEY]
    assert len(calls) == 5 and all(len(sample) == 1 for sample in calls)
    logits, labels = calls[0][0].args
    assert logits.shape[:2] == (1, 5) and labels.shape == (1, ) + logits.shape[2:]
    again = capture_loss_calls(seg_filter.proxy_cfg, [SEG_KEY], 5, 0)[SEG_KEY]
    assert all(torch.equal(a[0].args[0], b[0].args[0]) for a, b in zip(calls, again))


def test_seg_protocol_accepts_cross_entropy_and_rejects_its_negation_and_constants(seg_filter):
    accepted = seg_filter.judge(SEG_KEY, CE)
    assert accepted.status == 'accepted' and accepted.score > 0.6
    assert seg_filter.judge(SEG_KEY, f'Neg({CE})').status == 'rejected'
    assert seg_filter.judge(SEG_KEY, 'Add(P,Neg(P))').status == 'invalid'  # no gradient
    assert seg_filter.judge(SEG_KEY, 'Mul(Y,Add(P,Neg(P)))').status != 'accepted'
    assert seg_filter.judge(SEG_KEY, 'Inv(Add(P,Neg(P)))').status == 'invalid'  # inf


def test_gradient_equivalence(seg_filter):
    def signature(formula):
        return seg_filter.judge(SEG_KEY, formula).signature

    first, second = CE, 'Square(Add(P,Neg(Y)))'
    assert signature(f'Add({first},{second})') == signature(f'Add({second},{first})')
    assert signature(f'Neg(Neg({CE}))') == signature(CE)
    assert signature(CE) != signature(L1)
    assert len(signature(CE)) == 5  # one gradient norm per sample


def test_detection_protocol_accepts_default_losses_and_rejects_negations(tmp_path):
    cfg = det_proxy(tmp_path / 'toydet')
    alz = get_primitive_set('alz')
    protocol = LossRejection(cfg, {k: (alz, kind) for k, (kind, _) in DET_BRANCHES.items()},
                             preset='cpu', threshold=0.1, early_check=0)
    for key, (kind, formula) in DET_BRANCHES.items():
        verdict = protocol.judge(key, formula)
        assert verdict.status == 'accepted', (key, verdict)
        assert protocol.judge(key, f'Neg({formula})').status != 'accepted', key


def test_mask_and_pose_protocols_accept_default_losses_and_reject_negations(tmp_path):
    from mmautoloss.datasets.toy_pose import generate_toypose
    alz = get_primitive_set('alz')
    det_proxy(tmp_path / 'toydet')  # writes the masks too
    ins = Config.fromfile(f'{REPO}/configs/proxies/alz_toydet_mask-rcnn.py')
    ins.train_dataloader.dataset.data_root = str(tmp_path / 'toydet') + '/'
    generate_toypose(str(tmp_path / 'toypose'), seed=0, num_train=6, num_val=2)
    pose = Config.fromfile(f'{REPO}/configs/proxies/alz_toypose_heatmap.py')
    pose.train_dataloader.dataset.data_root = str(tmp_path / 'toypose') + '/'
    mse = 'Square(Add(P,Neg(Y)))'
    for cfg, key, kind, formula in (
            (ins, 'model.roi_head.mask_head.loss_mask', 'mask', CE),
            (pose, 'model.head.loss', 'heatmap', mse)):
        protocol = LossRejection(cfg, {key: (alz, kind)}, preset='cpu', threshold=0.1,
                                 early_check=0)
        assert protocol.judge(key, formula).status == 'accepted', key
        assert protocol.judge(key, f'Neg({formula})').status != 'accepted', key


def test_protocol_settings_are_checked():
    alz = get_primitive_set('alz')
    for kwargs, message in ((dict(metric='IoU'), 'metric must be one of'),
                            (dict(num_samples=0), 'num_samples must be an int >= 1'),
                            (dict(threshold=float('nan')), 'threshold must be a finite')):
        with pytest.raises(ValueError, match=message):
            LossRejection(Config(), {SEG_KEY: (alz, 'seg')}, **kwargs)


def test_missing_proxy_data_is_a_search_config_error(tmp_path):
    from mmautoloss.search.errors import SearchConfigError
    cfg = Config.fromfile(f'{REPO}/configs/proxies/alz_toyseg.py')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'not-generated')
    protocol = LossRejection(cfg, {SEG_KEY: (get_primitive_set('alz'), 'seg')})
    with pytest.raises(SearchConfigError, match="cannot record the proxy's loss inputs"):
        protocol.judge(SEG_KEY, CE)


def test_the_defaults_are_the_papers_and_the_cpu_preset_is_named():
    alz = get_primitive_set('alz')
    paper = LossRejection(Config(), {SEG_KEY: (alz, 'seg')})
    assert (paper.num_samples, paper.threshold, paper.steps, paper.lr, paper.momentum,
            paper.box_lr, paper.early_check) == (5, 0.6, 500, 0.001, 0.9, 0.001, 0)
    cpu = LossRejection(Config(), {SEG_KEY: (alz, 'seg')}, preset='cpu', steps=60)
    assert (cpu.steps, cpu.lr, cpu.box_lr, cpu.early_check, cpu.early_gain) == (
        60, 0.02, 1.0, 10, 0.05)  # an explicit setting wins over the preset
    with pytest.raises(ValueError, match="loss_rejection.preset must be one of .* got 'gpu'"):
        LossRejection(Config(), {SEG_KEY: (alz, 'seg')}, preset='gpu')


@pytest.mark.parametrize('options, seed', [({'seed': 7}, 7),
                                           ({'seed': 7, 'searcher.loss_rejection.seed': 3}, 3)])
def test_the_protocol_seed_follows_the_search_seed(monkeypatch, options, seed):
    from mmautoloss.search.builders import build_searcher
    from mmautoloss.search.validation import load_search_config, validate_search_config
    monkeypatch.chdir(REPO)
    cfg = load_search_config('configs/search/alz_seg-miou_toyseg.py', options)
    searcher = build_searcher(validate_search_config(cfg))
    assert searcher.loss_rejection.seed == seed
    assert searcher.loss_rejection.preset == 'cpu'
