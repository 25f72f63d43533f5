"""Loss slots of stock OpenMMLab configs, read from the installed packages' configs alone
(their COCO / Cityscapes data are not on this machine): every slot, its branch kind and
its methods equal a table written by hand from the heads' source."""
import pytest
from mmengine.config import Config

from mmautoloss.search.planning.loss_slots import find_loss_slots, load_config
from mmautoloss.search.planning.method_plan import reward_keys

ANCHOR = ('pap', 'alz')
RCNN = ('pap', 'alz', 'cse')
IOU_HEAD = ('alz', 'cse')
#: config -> [(slot key, loss type, head, kind, methods)]
STOCK = {
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py': [
        ('model.bbox_head.loss_cls', 'FocalLoss', 'RetinaHead', 'sigmoid_cls', ANCHOR),
        ('model.bbox_head.loss_bbox', 'L1Loss', 'RetinaHead', 'box', ANCHOR)],
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py': [
        ('model.rpn_head.loss_cls', 'CrossEntropyLoss', 'RPNHead', 'sigmoid_cls', ANCHOR),
        ('model.rpn_head.loss_bbox', 'L1Loss', 'RPNHead', 'box', ANCHOR),
        ('model.roi_head.bbox_head.loss_cls', 'CrossEntropyLoss', 'Shared2FCBBoxHead',
         'softmax_cls', RCNN),
        ('model.roi_head.bbox_head.loss_bbox', 'L1Loss', 'Shared2FCBBoxHead', 'box', RCNN)],
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py': [
        ('model.bbox_head.loss_cls', 'FocalLoss', 'FCOSHead', 'sigmoid_cls', IOU_HEAD),
        ('model.bbox_head.loss_bbox', 'IoULoss', 'FCOSHead', 'box', IOU_HEAD),
        ('model.bbox_head.loss_centerness', 'CrossEntropyLoss', 'FCOSHead', None, ())],
    'mmdet::atss/atss_r50_fpn_1x_coco.py': [
        ('model.bbox_head.loss_cls', 'FocalLoss', 'ATSSHead', 'sigmoid_cls', IOU_HEAD),
        ('model.bbox_head.loss_bbox', 'GIoULoss', 'ATSSHead', 'box', IOU_HEAD),
        ('model.bbox_head.loss_centerness', 'CrossEntropyLoss', 'ATSSHead', None, ())],
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py': [
        ('model.rpn_head.loss_cls', 'CrossEntropyLoss', 'RPNHead', 'sigmoid_cls', ANCHOR),
        ('model.rpn_head.loss_bbox', 'L1Loss', 'RPNHead', 'box', ANCHOR),
        ('model.roi_head.bbox_head.loss_cls', 'CrossEntropyLoss', 'Shared2FCBBoxHead',
         'softmax_cls', RCNN),
        ('model.roi_head.bbox_head.loss_bbox', 'L1Loss', 'Shared2FCBBoxHead', 'box', RCNN),
        ('model.roi_head.mask_head.loss_mask', 'CrossEntropyLoss', 'FCNMaskHead', 'mask',
         ('alz', ))],
    'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py': [
        ('model.bbox_head.loss_cls', 'FocalLoss', 'DeformableDETRHead', 'sigmoid_cls',
         ANCHOR),
        ('model.bbox_head.loss_bbox', 'L1Loss', 'DeformableDETRHead', None, ('pap', )),
        ('model.bbox_head.loss_iou', 'GIoULoss', 'DeformableDETRHead', 'box', ANCHOR)],
    'mmdet::gfl/gfl_r50_fpn_1x_coco.py': [
        ('model.bbox_head.loss_cls', 'QualityFocalLoss', 'GFLHead', None, ()),
        ('model.bbox_head.loss_dfl', 'DistributionFocalLoss', 'GFLHead', None, ()),
        ('model.bbox_head.loss_bbox', 'GIoULoss', 'GFLHead', 'box', ('alz', ))],
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py': [
        ('model.decode_head.loss_decode', 'CrossEntropyLoss', 'DepthwiseSeparableASPPHead',
         'seg', ('asl', 'alz')),
        ('model.auxiliary_head.loss_decode', 'CrossEntropyLoss', 'FCNHead', 'seg',
         ('asl', 'alz'))],
    'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py': [
        ('model.decode_head.loss_decode', 'CrossEntropyLoss', 'PSPHead', 'seg',
         ('asl', 'alz')),
        ('model.auxiliary_head.loss_decode', 'CrossEntropyLoss', 'FCNHead', 'seg',
         ('asl', 'alz'))],
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py': [
        ('model.head.loss', 'KeypointMSELoss', 'HeatmapHead', 'heatmap', ('alz', ))],
}
#: config -> a reward key its evaluator reports
REWARDS = {'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py': 'coco/bbox_mAP',
           'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py': 'coco/segm_mAP',
           'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py': 'mIoU',
           'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
           'td-hm_res50_8xb64-210e_coco-256x192.py': 'coco/AP'}


@pytest.mark.parametrize('config', sorted(STOCK))
def test_slots_of_stock_configs_equal_the_hand_written_table(config):
    slots = find_loss_slots(load_config(config))
    assert [(s.key, s.loss_type, s.head, s.kind, s.methods) for s in slots] == STOCK[config]
    assert all(s.note for s in slots if s.kind is None)


@pytest.mark.parametrize('config', sorted(REWARDS))
def test_reward_keys_of_stock_evaluators(config):
    keys, unknown = reward_keys(load_config(config))
    assert REWARDS[config] in keys and unknown == []


def test_an_encoded_delta_box_loss_says_the_plan_decodes_it():
    slot = find_loss_slots(load_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'))[1]
    assert 'reg_decoded_bbox=True' in slot.note


def test_a_config_without_model_or_loss_is_named():
    with pytest.raises(ValueError, match='no model dict'):
        find_loss_slots(Config(dict(default_scope='mmdet')))
    with pytest.raises(ValueError, match='no loss slot'):
        find_loss_slots(Config(dict(default_scope='mmseg', model=dict(type='EncoderDecoder'))))
    with pytest.raises(ValueError, match="default_scope must be"):
        find_loss_slots(Config(dict(model=dict(type='X', loss=dict(type='L1Loss')))))
