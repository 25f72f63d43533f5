"""The small value checks of constructors and configs, written once.

Each returns the value (an ``int``, or a ``float`` for numbers) or raises ``ValueError``
(or the given subclass, e.g. ``SearchConfigError``) naming the setting, what was expected
and the value. ``bool`` is never a number here, although Python makes it an ``int``.
"""
import math
from typing import Optional, Type


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(value: object, name: str, low: int, high: Optional[int] = None,
              error: Type[ValueError] = ValueError) -> int:
    """``value`` if it is an int in ``[low, high]`` (``high=None``: no upper bound)."""
    if not is_int(value) or value < low or (high is not None and value > high):
        bound = f'>= {low}' if high is None else f'in [{low}, {high}]'
        raise error(f'{name} must be an int {bound}, got {value!r}')
    return value


def check_number(value: object, name: str, low: float = -math.inf, high: float = math.inf,
                 error: Type[ValueError] = ValueError) -> float:
    """``value`` as a float if it is a finite number in ``[low, high]``."""
    if not is_number(value) or not math.isfinite(value) or not low <= value <= high:
        bound = '' if (low, high) == (-math.inf, math.inf) else \
            f' >= {low}' if high == math.inf else f' in [{low}, {high}]'
        raise error(f'{name} must be a finite number{bound}, got {value!r}')
    return float(value)
