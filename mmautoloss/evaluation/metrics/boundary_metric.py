"""Boundary IoU and boundary F1 evaluator metrics (Auto Seg-Loss, ICLR 2021, Table 1 eq. 5-6).

Both metrics accumulate per-class pixel counts over the whole validation set, like mmseg's
``IoUMetric``, and use the boundary definitions of :mod:`mmautoloss.functional.boundary`
(the same ones the BIoU / BF1 surrogates are built on):

* BIoU: band = ground-truth pixels within ``tolerance`` of an edge, where an edge pixel of a
  class channel of the one-hot ground truth belongs to the class and differs from its 3x3
  in-image average (each class's own side, eq. 5 and the authors' release); edges are
  united over classes (background channel left out by default). Per class c,
  ``IoU_c = |pred_c AND gt_c| / |pred_c OR gt_c|`` counted inside the band, summed over the
  dataset; BIoU is the mean over classes with a non-zero union.
* BF1: per class c, edge(map) = map AND NOT 3x3-erosion(map) on the one-hot prediction and
  ground truth, ``prec_c = |edge(pred_c) AND dilate(edge(gt_c))| / |edge(pred_c)|``,
  ``rec_c = |dilate(edge(pred_c)) AND edge(gt_c)| / |edge(gt_c)|`` (sums over the dataset,
  dilation = max-pooling with kernel ``2 * tolerance + 1``), ``F1_c = 2 P R / (P + R)``
  (0 when a denominator is 0); BF1 is the mean over classes that have a predicted or a
  ground-truth edge, background included by default.

Ignored pixels (``ignore_index``) are all-zero rows of both one-hot maps, so they count
nowhere. Results are reported x100 under the keys ``'BIoU'`` and ``'BF1'``.
"""
from abc import abstractmethod
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmautoloss.functional.boundary import binary_boundary, biou_band, check_tolerance, dilate
from mmautoloss.registry import METRICS

from .seg_maps import check_ignore_index, num_classes_of, read_seg_maps


def _one_hot_maps(pred: Tensor, label: Tensor,
                  valid: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One-hot prediction and ground truth over the classes this image holds.

    Channels absent from both valid maps have no pixels, hence no edges and zero counts, so
    only ``classes`` -- the sorted classes present in the valid prediction or ground truth,
    with class 0 always first (BIoU's background channel) -- get a channel: (1, K, H, W)
    float maps, zero at ignored pixels. Also returns the (1, 1, H, W) float valid mask and
    ``classes`` (K,).
    """
    classes = torch.unique(torch.cat([pred[valid], label[valid], pred.new_zeros(1)]))
    channel_of = pred.new_zeros(int(classes.max()) + 1)
    channel_of[classes] = torch.arange(len(classes), device=pred.device)
    valid_map = valid[None, None].float()
    maps = [F.one_hot(channel_of[torch.where(valid, values, 0)], len(classes))
            .permute(2, 0, 1)[None].float() * valid_map for values in (pred, label)]
    return maps[0], maps[1], valid_map, classes


class _BoundaryMetric(BaseMetric):
    """Shared set-up: options, class count from ``dataset_meta``, per-image accumulation.

    ``ignore_background=None`` takes the subclass's ``DEFAULT_IGNORE_BACKGROUND``.
    """

    DEFAULT_IGNORE_BACKGROUND: bool

    def __init__(self,
                 tolerance: int = 5,
                 ignore_background: bool | None = None,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        check_tolerance(tolerance)
        check_ignore_index(ignore_index)
        if ignore_background is None:
            ignore_background = self.DEFAULT_IGNORE_BACKGROUND
        if not isinstance(ignore_background, bool):
            raise ValueError(f'ignore_background must be a bool, got {ignore_background!r}')
        self.tolerance = tolerance
        self.ignore_background = ignore_background
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append the per-class counts of each image in ``data_samples``."""
        num_classes = num_classes_of(self.dataset_meta, type(self).__name__)
        for data_sample in data_samples:
            pred, gt, valid, classes = _one_hot_maps(
                *read_seg_maps(data_sample, num_classes, self.ignore_index))
            counts = self.image_counts(pred, gt, valid)
            full = counts.new_zeros(counts.shape[0], num_classes)
            full[:, classes] = counts
            self.results.append(full.cpu())

    @abstractmethod
    def image_counts(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        """Per-channel counts (rows, K) of one image from :func:`_one_hot_maps`."""


@METRICS.register_module()
class BoundaryIoUMetric(_BoundaryMetric):
    """Boundary IoU, ASL Table 1 eq. (5); reports ``'BIoU'`` (x100).

    Args:
        tolerance: half-width of the ground-truth band in pixels (default 5).
        ignore_background: leave the background channel (class 0) out of the edges that
            define the band (default True, as the authors' released BIoU loss). The
            background is still one of the classes whose IoU is averaged.
        ignore_index: label of ignored pixels.
    """

    DEFAULT_IGNORE_BACKGROUND = True

    def image_counts(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        """(2, K): intersection and union per channel inside this image's band."""
        inside = biou_band(gt, self.tolerance, self.ignore_background) * valid
        pred_in, gt_in = pred * inside, gt * inside
        intersection = (pred_in * gt_in).sum(dim=(0, 2, 3))
        union = pred_in.sum(dim=(0, 2, 3)) + gt_in.sum(dim=(0, 2, 3)) - intersection
        return torch.stack([intersection, union]).double()

    def compute_metrics(self, results: list[Tensor]) -> dict[str, float]:
        intersection, union = torch.stack(results).sum(dim=0)
        present = union > 0
        biou = (intersection[present] / union[present]).mean()
        return {'BIoU': float(biou) * 100}


@METRICS.register_module()
class BoundaryF1Metric(_BoundaryMetric):
    """Boundary F1 score, ASL Table 1 eq. (6); reports ``'BF1'`` (x100).

    Args:
        tolerance: dilation radius in pixels applied to both edges (default 5).
        ignore_background: leave class 0 out of the class mean (default False: the
            background is included, as the authors' released BF1 loss).
        ignore_index: label of ignored pixels.
    """

    DEFAULT_IGNORE_BACKGROUND = False

    def image_counts(self, pred: Tensor, gt: Tensor, valid: Tensor) -> Tensor:
        """(4, K): precision hits, predicted edge pixels, recall hits, ground-truth edge pixels."""
        pred_edge, gt_edge = binary_boundary(pred), binary_boundary(gt)
        dims = (0, 2, 3)
        precision_hits = (pred_edge * dilate(gt_edge, self.tolerance)).sum(dims)
        recall_hits = (dilate(pred_edge, self.tolerance) * gt_edge).sum(dims)
        return torch.stack([precision_hits, pred_edge.sum(dims), recall_hits,
                            gt_edge.sum(dims)]).double()

    def compute_metrics(self, results: list[Tensor]) -> dict[str, float]:
        precision_hits, pred_total, recall_hits, gt_total = torch.stack(results).sum(dim=0)
        precision = torch.where(pred_total > 0, precision_hits / pred_total.clamp_min(1), 0.)
        recall = torch.where(gt_total > 0, recall_hits / gt_total.clamp_min(1), 0.)
        denominator = precision + recall
        f1 = torch.where(denominator > 0, 2 * precision * recall / denominator.clamp_min(1e-300),
                         0.)
        present = (pred_total + gt_total) > 0
        if self.ignore_background:
            present[0] = False
        return {'BF1': float(f1[present].mean()) * 100}
