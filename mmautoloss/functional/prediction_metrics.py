"""Task metrics of raw predictions, for the loss-rejection protocol (AutoLoss-Zero eq. 5).

The protocol scores a candidate loss by how much optimising the recorded predictions of a
randomly initialised network with it raises the task's metric. These functions compute that
metric from the predictions a loss branch sees:

- segmentation: the metric of ASL Table 1 of the arg-max map, per image (mIoU from
  confusion counts, the others through the surrogates of :mod:`.seg_surrogates`, which
  equal their metric exactly at one-hot predictions);
- classification of sampled detections: the average precision of the class scores, per
  foreground class with positives, averaged (COCO AP of these samples when every box is
  exact, the regression branch "set as the ground-truth target", ALZ appendix A.2);
- box regression: the fraction of boxes whose IoU with their target reaches each threshold
  0.50:0.05:0.95, averaged (COCO AP of these boxes when the classification is exact);
- pose heatmaps: the same with the object keypoint similarity (OKS, COCO's keypoint
  sigmas) of each instance's arg-max keypoints, which is mmpose's keypoint AP when the
  instances are ranked by their OKS;
- masks: the same with the mask IoU of each RoI's binarised mask (sigmoid > 0.5 of its
  label's channel, as mmdet's ``mask_thr_binary``) with its target.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .formulas.branch_inputs import box_iou
from .seg_surrogates import SURROGATES

IOU_THRESHOLDS = torch.arange(0.5, 0.951, 0.05)
#: COCO's per-keypoint OKS sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips,
#: knees, ankles); other keypoint counts use 0.05 for every keypoint
COCO_SIGMAS = torch.tensor([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07,
                            1.07, .87, .87, .89, .89]) / 10
#: mmpose's top-down crops pad the box by 1.25 on each side: the box area in heatmap pixels
BOX_PADDING = 1.25


def per_image_miou(pred: Tensor, labels: Tensor, num_classes: int,
                   ignore_index: int = 255) -> Tensor:
    """mmseg's mIoU of each image of a label map (N, H, W): confusion counts of the valid
    pixels, IoU per class with a non-zero union, their mean; (N,) in [0, 1]."""
    valid = labels != ignore_index
    image = torch.arange(len(labels), device=labels.device).view(-1, 1, 1).expand_as(labels)
    index = (image * num_classes + torch.where(valid, labels, 0)) * num_classes + pred
    counts = torch.bincount(index[valid], minlength=len(labels) * num_classes ** 2)
    confusion = counts.view(len(labels), num_classes, num_classes).double()
    intersection = confusion.diagonal(dim1=1, dim2=2)
    union = confusion.sum(1) + confusion.sum(2) - intersection
    present = union > 0
    iou = torch.where(present, intersection / union.clamp_min(1), 0.)
    return (iou.sum(1) / present.sum(1).clamp_min(1)).float()


def seg_metric(logits: Tensor, labels: Tensor, metric: str, ignore_index: int = 255,
               tolerance: int = 1) -> Tensor:
    """Per-image ``metric`` (``'mIoU'``, ``'BF1'``, ...) of ``argmax(logits)``, (N,) in [0, 1]."""
    if metric == 'mIoU':
        return per_image_miou(logits.argmax(dim=1), labels, logits.shape[1], ignore_index)
    surrogate, _ = SURROGATES[metric]
    one_hot = F.one_hot(logits.argmax(dim=1), logits.shape[1]).permute(0, 3, 1, 2).double()
    extra = dict(tolerance=tolerance) if metric in ('BIoU', 'BF1') else {}
    return torch.stack([surrogate(one_hot[n:n + 1], labels[n:n + 1], None, ignore_index,
                                  **extra) for n in range(len(labels))]).float()


def ranking_ap(scores: Tensor, labels: Tensor, weights: Tensor, background: int) -> Tensor:
    """Mean over foreground classes with positives of the AP of ``scores[:, c]`` ranking the
    samples labelled c among the samples of positive weight; 0 when there is no positive."""
    keep = weights.reshape(-1) > 0 if weights is not None else torch.ones_like(labels).bool()
    scores, labels = scores[keep], labels[keep]
    values = []
    for c in range(min(background, scores.shape[1])):
        positive = labels == c
        if not positive.any():
            continue
        order = scores[:, c].argsort(descending=True)
        hits = positive[order].double()
        precision = hits.cumsum(0) / torch.arange(1, len(hits) + 1, dtype=torch.float64)
        values.append((precision * hits).sum() / hits.sum())
    return torch.stack(values).mean() if values else scores.new_zeros(())


def _fraction_above_thresholds(similarity: Tensor) -> Tensor:
    """Mean over the thresholds 0.50:0.05:0.95 of the fraction of ``similarity`` reaching
    each (COCO AP when every instance is ranked by its own similarity)."""
    return (similarity[None] >= IOU_THRESHOLDS.to(similarity)[:, None]).double().mean()


def box_ap(pred: Tensor, target: Tensor) -> Tensor:
    """Mean over IoU thresholds 0.50:0.05:0.95 of the fraction of boxes reaching it."""
    if len(pred) == 0:
        return pred.new_zeros(())
    return _fraction_above_thresholds(box_iou(pred, target))


def mask_ap(logits: Tensor, targets: Tensor, labels: Tensor) -> Tensor:
    """Mean over IoU thresholds 0.50:0.05:0.95 of the fraction of RoI masks (logits
    (N, C, H, W), channel ``labels``) whose binarised mask reaches it against ``targets``."""
    if len(logits) == 0:
        return logits.new_zeros(())
    chosen = logits[torch.arange(len(logits)), labels.long()] > 0  # sigmoid > 0.5
    truth = targets > 0.5
    intersection = (chosen & truth).flatten(1).sum(1).double()
    union = (chosen | truth).flatten(1).sum(1).double()
    return _fraction_above_thresholds(torch.where(union > 0, intersection / union.clamp_min(1),
                                                  1.))


def _argmax_xy(heatmaps: Tensor) -> Tensor:
    flat = heatmaps.flatten(2).argmax(-1)
    return torch.stack([flat % heatmaps.shape[-1], flat // heatmaps.shape[-1]], -1).double()


def keypoint_ap(heatmaps: Tensor, targets: Tensor, weights: Tensor) -> Tensor:
    """Mean over OKS thresholds 0.50:0.05:0.95 of the fraction of instances whose OKS
    (arg-max keypoints of ``heatmaps`` vs ``targets``, (N, K, H, W); keypoints of zero
    ``weights`` (N, K) left out; area = the unpadded box in heatmap pixels) reaches it."""
    num, joints, height, width = heatmaps.shape
    sigmas = COCO_SIGMAS if joints == len(COCO_SIGMAS) else torch.full((joints, ), 0.05)
    distance2 = ((_argmax_xy(heatmaps) - _argmax_xy(targets)) ** 2).sum(-1)
    area = height * width / BOX_PADDING ** 2
    similarity = torch.exp(-distance2 / (2 * area * (2 * sigmas.double()) ** 2))
    weights = (weights.reshape(num, joints) > 0).double()
    keep = weights.sum(1) > 0
    if not keep.any():
        return heatmaps.new_zeros(())
    return _fraction_above_thresholds((similarity * weights).sum(1)[keep] / weights.sum(1)[keep])
