"""CSE-Autoloss: every config under configs/cse loads and builds its detector with the
released losses; the ToyDet proxies train a few iterations and evaluate with CocoMetric;
the IoU heads hand the IoU of each prediction to the classification loss."""
import glob
import os

import pytest
import torch

from mmautoloss.testing import REPO
from mmautoloss.testing.param_ap_reference import build_released_detector
from mmautoloss.testing.toydet_training import train_toydet_proxy

pytestmark = pytest.mark.usefixtures('mmdet_scope')

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'cse', '*.py')))
RELEASED = [p for p in CONFIGS if not os.path.basename(p).startswith('proxy_')]


def _heads(model):
    from mmautoloss.models.dense_heads import IoUATSSHead, IoUFCOSHead
    from mmautoloss.models.roi_heads import IoUShared2FCBBoxHead
    kinds = (IoUShared2FCBBoxHead, IoUFCOSHead, IoUATSSHead)
    return [m for m in model.modules() if isinstance(m, kinds)]


def test_the_six_detectors_of_table_1_have_configs():
    names = sorted(os.path.basename(p).split('_')[0] + '_' + os.path.basename(p).split('_')[1]
                   for p in RELEASED)
    assert names == ['atss_r50', 'cascade-rcnn_r50', 'faster-rcnn_r101', 'faster-rcnn_r50',
                     'fcos_r50-caffe', 'mask-rcnn_r50']


@pytest.mark.parametrize('path', RELEASED, ids=os.path.basename)
def test_released_config_builds_with_cse_losses(path):
    cfg, model = build_released_detector(path)
    heads = _heads(model)
    assert heads, 'no IoU head'
    variant = 'CSE-A' if '_cse-a_' in path else 'CSE-B'
    for head in heads:
        assert head.loss_cls.released == f'{variant}/cls'
        assert head.loss_bbox.released == f'{variant}/reg'
        assert head.loss_bbox.loss_weight == (10.0 if variant == 'CSE-A' else 1.0)
    if variant == 'CSE-A':
        assert all(head.reg_decoded_bbox for head in heads)
        assert len(heads) == (3 if 'cascade' in path else 1)


@pytest.mark.training
@pytest.mark.parametrize('name', ['cse_toydet_faster-rcnn_cse-a.py',
                                  'cse_toydet_fcos_cse-b.py'])
def test_proxy_trains_and_evaluates(name, tmp_path):
    runner = train_toydet_proxy(os.path.join(REPO, 'configs', 'proxies', name), tmp_path,
                                max_iters=3)
    scalars = runner.message_hub.log_scalars
    for key in ('train/loss_cls', 'train/loss_bbox'):
        assert torch.isfinite(torch.tensor(scalars[key].current())), key
    assert 0 <= scalars['val/coco/bbox_mAP'].current() <= 1


def _recording_loss(model):
    """Replace a head's loss_cls by a recorder of its ``iou`` argument."""
    from mmautoloss.models.losses import ExprLoss

    class Recorder(ExprLoss):
        def forward(self, *args, iou=None, **kwargs):
            self.seen = iou
            return super().forward(*args, iou=iou, **kwargs)

    head = _heads(model)[0]
    recorder = Recorder('CSE-A/cls') if head.loss_cls.use_sigmoid is False else Recorder(
        'CSE-B/cls')
    head.loss_cls = recorder
    return head, recorder


def test_rcnn_head_feeds_detached_iou_of_positive_boxes():
    from mmdet.structures.bbox import bbox_overlaps
    _, model = build_released_detector(os.path.join(REPO, 'configs', 'proxies',
                                                    'cse_toydet_faster-rcnn_cse-a.py'))
    head, recorder = _recording_loss(model)
    gen = torch.Generator().manual_seed(0)
    n = 6
    rois = torch.cat([torch.zeros(n, 1), torch.tensor([[10., 10., 50., 60.]]).repeat(n, 1)
                      + torch.rand(n, 4, generator=gen) * 5], dim=1)
    labels = torch.tensor([0, 2, 3, 1, 3, 3])  # 3 = background
    bbox_pred = torch.randn(n, 4 * 3, generator=gen, requires_grad=True) * 0.1
    targets = torch.tensor([[12., 8., 48., 62.]]).repeat(n, 1)
    head.loss(torch.randn(n, 4, generator=gen), bbox_pred, rois, labels, torch.ones(n),
              targets, torch.ones(n, 4))
    iou = recorder.seen
    assert not iou.requires_grad
    positive = labels < 3
    assert torch.equal(iou[~positive], torch.ones(int((~positive).sum())))
    decoded = head.bbox_coder.decode(rois[:, 1:], bbox_pred.detach()).view(n, 3, 4)
    boxes = decoded[torch.arange(n), labels.clamp(max=2)]
    expected = bbox_overlaps(boxes, targets, is_aligned=True)
    assert torch.allclose(iou[positive], expected[positive], atol=1e-5)


def test_metafile_lists_every_released_config():
    import yaml
    with open(os.path.join(REPO, 'configs', 'cse', 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    listed = sorted(os.path.join(REPO, m['Config']) for m in meta['Models'])
    assert listed == RELEASED
    with open(os.path.join(REPO, 'configs', 'cse', 'README.md')) as f:
        readme = f.read()
    for model in meta['Models']:
        ap = model['Results'][0]['Metrics']['box AP']
        assert f'| {ap} | [config]({os.path.basename(model["Config"])})' in readme
