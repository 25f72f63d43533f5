"""The shared value checks: bools are not numbers, bounds are inclusive, the message names
the setting and the value, and the error type can be the caller's."""
import math

import pytest

from mmautoloss.utils.checks import check_int, check_number, is_int, is_number


def test_bools_are_neither_ints_nor_numbers():
    assert is_int(3) and not is_int(True) and not is_int(3.0)
    assert is_number(3) and is_number(2.5) and not is_number(False) and not is_number('1')


@pytest.mark.parametrize('value', [0, -1, True, 2.0, None, '3'])
def test_check_int_refuses_and_names(value):
    with pytest.raises(ValueError, match=rf'budget\.rounds must be an int >= 1, got {value!r}'):
        check_int(value, 'budget.rounds', 1)


def test_check_int_bounds_are_inclusive():
    assert check_int(1, 'n', 1) == 1 and check_int(5, 'n', 1, 5) == 5
    with pytest.raises(ValueError, match=r'n must be an int in \[1, 5\], got 6'):
        check_int(6, 'n', 1, 5)


@pytest.mark.parametrize('value', [math.nan, math.inf, -0.1, 1.5, True, None])
def test_check_number_refuses_and_names(value):
    with pytest.raises(ValueError, match=r'p must be a finite number in \[0, 1\]'):
        check_number(value, 'p', 0, 1)


def test_check_number_returns_a_float_and_raises_the_callers_type():
    assert check_number(1, 'p', 0, 1) == 1.0 and isinstance(check_number(1, 'p'), float)

    class ConfigError(ValueError):
        pass

    with pytest.raises(ConfigError, match='x must be a finite number, got nan'):
        check_number(math.nan, 'x', error=ConfigError)
