"""Brute-force references shared by the ParamAP head tests (imported by the test files).

They recompute, without mmdet's assigner, coder or the heads' code, what a ParamAP head
must hand to its loss: the IoU assignment of MaxIoUAssigner, DeltaXYWH decoding and the
position of every (anchor, class) pair in the flattened batch.
"""
import math

import numpy as np
import torch
from torch import nn


class RecordingLoss(nn.Module):
    """Test spy standing in for ParamAPLoss: keeps its inputs, returns their plain sum."""

    def forward(self, cls_scores, pos_mask, pos_pred_boxes, pos_gt_boxes):
        self.args = (cls_scores, pos_mask, pos_pred_boxes, pos_gt_boxes)
        return cls_scores.sum() + pos_pred_boxes.sum()


def iou_by_loop(boxes: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """(A, G) IoU of xyxy boxes, one pair at a time."""
    out = np.zeros((len(boxes), len(gts)))
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        for j, (u1, v1, u2, v2) in enumerate(gts):
            iw = max(0.0, min(x2, u2) - max(x1, u1))
            ih = max(0.0, min(y2, v2) - max(y1, v1))
            inter = iw * ih
            union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
            out[i, j] = inter / union
    return out


def max_iou_assign(boxes: np.ndarray, gts: np.ndarray, pos_thr: float, neg_thr: float,
                   min_pos_iou: float) -> np.ndarray:
    """MaxIoUAssigner rules: GT index >= 0 for positives, -1 negatives, -2 ignored."""
    if len(gts) == 0:
        return np.full(len(boxes), -1)
    ious = iou_by_loop(boxes, gts)
    best = ious.max(1)
    result = np.full(len(boxes), -2)
    result[best < neg_thr] = -1
    result[best >= pos_thr] = ious.argmax(1)[best >= pos_thr]
    for g in range(len(gts)):  # low-quality matches: every GT keeps its best box(es)
        if ious[:, g].max() >= min_pos_iou:
            result[np.isclose(ious[:, g], ious[:, g].max(), rtol=0, atol=1e-6)] = g
    return result


def decode_deltas(boxes: np.ndarray, deltas: np.ndarray, stds: list[float]) -> np.ndarray:
    """DeltaXYWH decoding (means 0) of each row, written out."""
    out = np.zeros_like(boxes)
    for i, ((x1, y1, x2, y2), (dx, dy, dw, dh)) in enumerate(zip(boxes, deltas)):
        dx, dy, dw, dh = dx * stds[0], dy * stds[1], dw * stds[2], dh * stds[3]
        pw, ph = x2 - x1, y2 - y1
        cx, cy = (x1 + x2) / 2 + pw * dx, (y1 + y2) / 2 + ph * dy
        w, h = pw * math.exp(dw), ph * math.exp(dh)
        out[i] = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
    return out


def flat_anchor_index(featmap_sizes, num_base_anchors: int):
    """For each anchor of mmdet's grid-prior order, (level, y, x, base anchor)."""
    index = []
    for level, (h, w) in enumerate(featmap_sizes):
        for y in range(h):
            for x in range(w):
                for a in range(num_base_anchors):
                    index.append((level, y, x, a))
    return index


def check_anchor_head_feeds_loss(head, gts, labels, assigner_thrs, img_size=64) -> None:
    """Run ``head.loss_by_feat`` on random outputs and compare what reaches the loss.

    ``gts`` / ``labels``: per image, numpy xyxy boxes (G, 4) and class indices (G,).
    ``assigner_thrs``: (pos_iou_thr, neg_iou_thr, min_pos_iou) of the head's train_cfg.
    """
    from mmengine.structures import InstanceData

    torch.manual_seed(0)
    num_imgs, num_classes = len(gts), head.num_classes
    strides = [s[0] for s in head.prior_generator.strides]
    featmap_sizes = [(img_size // s, img_size // s) for s in strides]
    num_base = head.num_base_priors
    cls_scores = [torch.randn(num_imgs, num_base * num_classes, h, w, requires_grad=True)
                  for h, w in featmap_sizes]
    bbox_preds = [(0.1 * torch.randn(num_imgs, num_base * 4, h, w)).requires_grad_()
                  for h, w in featmap_sizes]
    metas = [dict(img_shape=(img_size, img_size), pad_shape=(img_size, img_size))
             for _ in range(num_imgs)]
    instances = [InstanceData(bboxes=torch.tensor(g, dtype=torch.float32).reshape(-1, 4),
                              labels=torch.tensor(lab, dtype=torch.long))
                 for g, lab in zip(gts, labels)]
    head.loss_ap = RecordingLoss()
    losses = head.loss_by_feat(cls_scores, bbox_preds, instances, metas)
    scores, pos_mask, pos_boxes, pos_gt_boxes = head.loss_ap.args

    anchors = torch.cat(head.prior_generator.grid_priors(featmap_sizes, device='cpu')).numpy()
    index = flat_anchor_index(featmap_sizes, num_base)
    exp_scores, exp_pos, exp_boxes, exp_gts, num_ignored = [], [], [], [], 0
    grad_expected = [torch.zeros_like(s) for s in cls_scores]
    for img in range(num_imgs):
        assign = max_iou_assign(anchors, gts[img], *assigner_thrs)
        # the assigner itself must agree on the number of positives
        mmdet_assign = head.assigner.assign(InstanceData(priors=torch.from_numpy(anchors)),
                                            instances[img])
        assert int((mmdet_assign.gt_inds > 0).sum()) == int((assign >= 0).sum())
        num_ignored += int((assign == -2).sum())
        for i, (level, y, x, a) in enumerate(index):
            if assign[i] == -2:
                continue
            for c in range(num_classes):
                channel = a * num_classes + c
                exp_scores.append(float(cls_scores[level][img, channel, y, x]))
                grad_expected[level][img, channel, y, x] = 1.0
                exp_pos.append(bool(assign[i] >= 0 and labels[img][assign[i]] == c))
            if assign[i] >= 0:
                delta = bbox_preds[level][img, a * 4:a * 4 + 4, y, x].detach().numpy()
                exp_boxes.append(decode_deltas(anchors[i:i + 1], delta[None], [1, 1, 1, 1])[0])
                exp_gts.append(gts[img][assign[i]])

    assert num_ignored > 0, 'the scene must contain ignored anchors for this check'
    assert len(losses) == 1 and all(k.startswith('loss_') for k in losses)
    assert scores.shape == (len(exp_scores), )
    torch.testing.assert_close(scores.detach(), torch.tensor(exp_scores))
    assert pos_mask.dtype == torch.bool and pos_mask.tolist() == exp_pos
    assert int(pos_mask.sum()) == len(exp_boxes) > 0
    torch.testing.assert_close(pos_boxes.detach().double(),
                               torch.tensor(np.array(exp_boxes), dtype=torch.float64),
                               rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(pos_gt_boxes.double(),
                               torch.tensor(np.array(exp_gts), dtype=torch.float64))
    # ignored anchors get no gradient, every pair in B gets d(sum)/d(score) = 1
    sum(losses.values()).backward()
    for grad, expected in zip([s.grad for s in cls_scores], grad_expected):
        torch.testing.assert_close(grad, expected)


def build_released_detector(config_path: str):
    """Load a released config, build its detector without downloading pretrained weights."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.utils import import_modules_from_strings

    cfg = Config.fromfile(config_path)
    register_all_modules()
    import_modules_from_strings(**cfg.custom_imports)
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


def one_image_loss(detector) -> dict:
    """Loss dict of ``detector`` on one 64x64 image holding two objects."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    torch.manual_seed(0)
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[4., 6., 36., 40.], [30., 20., 62., 60.]]),
        labels=torch.tensor([0, 5]))
    data = detector.data_preprocessor(
        dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)],
             data_samples=[sample]), training=True)
    return detector(**data, mode='loss')
