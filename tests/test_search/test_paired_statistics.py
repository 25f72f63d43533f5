"""Paired statistics of the re-training stage against hand computations (Student's t with
2 degrees of freedom has a closed form: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), and its 0.975
quantile is 0.95 / sqrt(2 * 0.975 * 0.025) = 4.302653)."""
import math

import pytest

from mmautoloss.search.paired_statistics import kendall_tau, paired_comparison


def test_three_seeds_by_hand():
    # differences 1, 2, 3: mean 2, sd 1, se 1/sqrt(3), t = 2 sqrt(3)
    result = paired_comparison({0: 3.0, 1: 4.0, 2: 5.0}, {0: 2.0, 1: 2.0, 2: 2.0})
    t = 2 * math.sqrt(3)
    p = 2 * (1 - (0.5 + t / (2 * math.sqrt(2 + t * t))))
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) / math.sqrt(3)
    assert (result.n, result.mean_diff, result.won, result.lost) == (3, 2.0, 3, 0)
    assert result.p_value == pytest.approx(p, abs=1e-9) == pytest.approx(0.074180, abs=1e-6)
    assert (result.ci_low, result.ci_high) == pytest.approx((2 - half, 2 + half), abs=1e-9)
    assert result.verdict == 'no detectable difference'


@pytest.mark.parametrize('sign, verdict', [(1, 'better'), (-1, 'worse')])
def test_a_consistent_difference_is_a_verdict(sign, verdict):
    # differences 1.0, 1.1, 0.9: mean 1, sd 0.1, t = 10 sqrt(3)
    a = {0: 1.0 * sign, 1: 1.1 * sign, 2: 0.9 * sign}
    result = paired_comparison(a, {0: 0.0, 1: 0.0, 2: 0.0})
    t = 10 * math.sqrt(3)
    assert result.p_value == pytest.approx(2 * (0.5 - t / (2 * math.sqrt(2 + t * t))),
                                           rel=1e-6)
    assert result.verdict == verdict


def test_pairs_are_the_seeds_both_entries_finished():
    result = paired_comparison({0: 1.0, 1: 2.0}, {1: 1.5, 2: 5.0})  # only seed 1 pairs
    assert (result.n, result.mean_diff, result.won, result.lost) == (1, 0.5, 1, 0)
    assert math.isnan(result.p_value) and result.verdict == 'no detectable difference'
    assert paired_comparison({0: 1.0}, {1: 1.0}) is None


def test_kendall_tau_of_a_reversed_proxy_is_minus_one():
    tau, p = kendall_tau([1, 2, 3, 4], [4, 3, 2, 1])
    assert tau == -1.0 and p == pytest.approx(2 / 24)  # exact: 2 of the 4! orders
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4])[0] == pytest.approx(4 / 6)  # 5 - 1 of 6
    assert kendall_tau([1, 2], [2, 1]) is None
    with pytest.raises(ValueError, match='must pair'):
        kendall_tau([1, 2, 3], [1, 2])
