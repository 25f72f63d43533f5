"""Read and check the prediction / label maps that mmseg hands to an evaluator metric."""

from torch import Tensor

from ...utils.checks import check_int


def check_ignore_index(ignore_index: int) -> None:
    """``ValueError`` unless ``ignore_index`` (the label of ignored pixels) is an int."""
    check_int(ignore_index, 'ignore_index')


def num_classes_of(dataset_meta: dict | None, metric_name: str) -> int:
    """Number of classes from the evaluator's ``dataset_meta['classes']``."""
    if not dataset_meta or 'classes' not in dataset_meta:
        raise ValueError(f'{metric_name} needs dataset_meta with "classes", got '
                         f'{dataset_meta!r}')
    return len(dataset_meta['classes'])


def _as_map(data: Tensor) -> Tensor:
    """(H, W) from mmseg's (1, H, W) ``PixelData.data``; keeps H = 1 or W = 1 (no squeeze)."""
    return data[0] if data.dim() == 3 and data.shape[0] == 1 else data


def read_seg_maps(data_sample: dict, num_classes: int,
                  ignore_index: int) -> tuple[Tensor, Tensor, Tensor]:
    """Return ``pred`` and ``label`` (H, W) long maps and the boolean mask of valid pixels.

    ``data_sample`` is an mmseg ``SegDataSample`` as a dict (what ``ValLoop`` passes to
    ``process``) holding ``pred_sem_seg`` and ``gt_sem_seg``. Values outside
    ``[0, num_classes)`` (other than ``ignore_index`` in the label) raise ``ValueError``.
    """
    pred = _as_map(data_sample['pred_sem_seg']['data']).long()
    label = _as_map(data_sample['gt_sem_seg']['data']).to(pred)
    if pred.shape != label.shape or pred.dim() != 2:
        raise ValueError(f'pred_sem_seg {tuple(pred.shape)} and gt_sem_seg '
                         f'{tuple(label.shape)} must be (H, W) maps of the same size')
    valid = label != ignore_index
    for name, values in (('pred_sem_seg', pred), ('gt_sem_seg', label[valid])):
        if values.numel() and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f'{name} values must lie in [0, {num_classes}), got '
                             f'[{values.min().item()}, {values.max().item()}]')
    return pred, label, valid
