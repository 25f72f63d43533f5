"""The ``loss_weight`` argument shared by mmautoloss's registered losses."""
from mmautoloss.utils.checks import check_number


def check_loss_weight(loss_weight: float) -> float:
    """``loss_weight`` as a float; ``ValueError`` unless it is a finite number >= 0."""
    return check_number(loss_weight, 'loss_weight', 0)
