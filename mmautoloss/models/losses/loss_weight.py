"""The ``loss_weight`` argument shared by mmautoloss's registered losses."""
from mmautoloss.utils.checks import check_number

#: the accepted ``loss_weight`` range: mmdet / mmseg / mmpose configs use weights up to a few
#: tens; beyond 1e4 a float32 gradient through a network overflows to inf sooner than the
#: searched loss could matter (``loss_weight=1e308`` gave an inf loss and gradient)
LOSS_WEIGHT_RANGE = (0.0, 1e4)


def check_loss_weight(loss_weight: float) -> float:
    """``loss_weight`` as a float; ``ValueError`` unless it is a finite number in
    :data:`LOSS_WEIGHT_RANGE`."""
    return check_number(loss_weight, 'loss_weight', *LOSS_WEIGHT_RANGE)
