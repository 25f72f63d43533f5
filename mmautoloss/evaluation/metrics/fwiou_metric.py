"""Frequency-weighted IoU evaluator metric (Auto Seg-Loss, ICLR 2021, Table 1 eq. 4).

``FWIoU = sum_c (n_c / sum_c' n_c') * |pred_c AND gt_c| / |pred_c OR gt_c|`` with ``n_c``
the ground-truth pixels of class c; all counts are summed over the whole validation set
(like mmseg's ``IoUMetric``) and ignored pixels are left out. Reported x100 as ``'FWIoU'``.
"""
from collections.abc import Sequence

import torch
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmautoloss.registry import METRICS

from .seg_maps import check_ignore_index, num_classes_of, read_seg_maps


@METRICS.register_module()
class FWIoUMetric(BaseMetric):
    """Frequency-weighted IoU, ASL Table 1 eq. (4); reports ``'FWIoU'`` (x100).

    Args:
        ignore_index (int): label of ignored pixels.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        check_ignore_index(ignore_index)
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append (3, C) counts per image: intersection, prediction and ground-truth pixels."""
        num_classes = num_classes_of(self.dataset_meta, 'FWIoUMetric')
        for data_sample in data_samples:
            pred, label, valid = read_seg_maps(data_sample, num_classes, self.ignore_index)
            pred, label = pred[valid], label[valid]
            self.results.append(torch.stack([
                torch.bincount(label[pred == label], minlength=num_classes),
                torch.bincount(pred, minlength=num_classes),
                torch.bincount(label, minlength=num_classes),
            ]).cpu())

    def compute_metrics(self, results: list[Tensor]) -> dict[str, float]:
        intersection, pred_area, label_area = torch.stack(results).sum(dim=0).double()
        union = pred_area + label_area - intersection
        present = union > 0
        frequency = label_area / label_area.sum()
        fwiou = (frequency[present] * intersection[present] / union[present]).sum()
        return {'FWIoU': float(fwiou) * 100}
