"""The small value checks of constructors and configs, written once.

Each returns the value (an ``int``, or a ``float`` for numbers) or raises ``ValueError``
(or the given subclass, e.g. ``SearchConfigError``) naming the setting, what was expected
and the value. ``bool`` is never a number here, although Python makes it an ``int``.
``expected`` rewords what was expected (``'a positive int'``) where a module documents its
own phrase; the check itself is the same.
"""
import math


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(value: object, name: str, low: int | None = None,
              high: int | None = None, error: type[ValueError] = ValueError,
              expected: str | None = None) -> int:
    """``value`` if it is an int in ``[low, high]`` (``None``: no bound on that side)."""
    if not is_int(value) or (low is not None and value < low) or \
            (high is not None and value > high):
        if expected is None:
            bound = '' if low is None and high is None else \
                f' >= {low}' if high is None else f' in [{low}, {high}]'
            expected = f'an int{bound}'
        raise error(f'{name} must be {expected}, got {value!r}')
    return value


def check_number(value: object, name: str, low: float = -math.inf, high: float = math.inf,
                 error: type[ValueError] = ValueError, expected: str | None = None,
                 exclusive_low: bool = False) -> float:
    """``value`` as a float if it is a finite number in ``[low, high]`` (``(low, high]``
    with ``exclusive_low``)."""
    if not is_number(value) or not math.isfinite(value) or value > high or value < low or \
            (exclusive_low and value == low):
        if expected is None:
            lower = f'> {low}' if exclusive_low else f'>= {low}'
            bound = '' if (low, high) == (-math.inf, math.inf) else \
                f' {lower}' if high == math.inf else f' in [{low}, {high}]'
            expected = f'a finite number{bound}'
        raise error(f'{name} must be {expected}, got {value!r}')
    return float(value)
