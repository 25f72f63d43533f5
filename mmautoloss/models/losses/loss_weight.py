"""The ``loss_weight`` argument shared by mmautoloss's registered losses."""
import math


def check_loss_weight(loss_weight: float) -> float:
    """``loss_weight`` as a float; ``ValueError`` unless it is a finite number >= 0."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight, (int, float)) or \
            not math.isfinite(loss_weight) or loss_weight < 0:
        raise ValueError(f'loss_weight must be a finite number >= 0, got {loss_weight!r}')
    return float(loss_weight)
