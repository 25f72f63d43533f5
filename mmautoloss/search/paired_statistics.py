"""Statistics of the re-training stage: paired differences by seed, and the rank agreement
of the proxy with the target.

Re-training seeds are shared across entries (seed ``j`` of every entry is the target's seed
+ 100 + j), so entry A's and entry B's rewards pair by seed. The test is the paired t-test:
with the 3-5 seeds a re-training stage affords, a rank test cannot reach 0.05 at all (the
exact two-sided Wilcoxon signed-rank p is at least 2 / 2^n: 0.25 for 3 seeds, 0.0625 for
5), while the t-test's assumption, roughly normal seed-to-seed differences, is the usual
one for training noise. Proxy trust is Kendall's tau-b between proxy and target rewards.
"""
import math
from dataclasses import dataclass

#: the level of the verdicts and of the confidence intervals (95 %)
ALPHA = 0.05
#: below this tau the proxy is said not to rank losses as the target does
TAU_WARNING = 0.5


@dataclass(frozen=True)
class PairedComparison:
    """Entry A against entry B over the seeds both finished.

    Args:
        n: the number of pairs.
        mean_diff: mean of A - B.
        ci_low, ci_high: its 95 % confidence interval (Student's t, n - 1 degrees).
        p_value: two-sided paired t-test; ``nan`` when it is undefined (n < 2, or all
            differences equal).
        won, lost: seeds where A beat / lost to B (ties count in neither).
    """
    n: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    won: int
    lost: int

    @property
    def verdict(self) -> str:
        """``better`` / ``worse`` at ``ALPHA``, else ``no detectable difference``."""
        if math.isnan(self.p_value) or self.p_value >= ALPHA:
            return 'no detectable difference'
        return 'better' if self.mean_diff > 0 else 'worse'


def paired_comparison(a: dict[int, float], b: dict[int, float]) -> PairedComparison | None:
    """A against B over the seed indices both have (``{seed_index: reward}``); None when
    they share no seed."""
    from scipy import stats
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [a[s] - b[s] for s in seeds]
    n = len(diffs)
    mean = sum(diffs) / n
    won = sum(d > 0 for d in diffs)
    lost = sum(d < 0 for d in diffs)
    if n < 2:
        return PairedComparison(n, mean, math.nan, math.nan, math.nan, won, lost)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd == 0:
        return PairedComparison(n, mean, mean, mean, math.nan, won, lost)
    se = sd / math.sqrt(n)
    t = mean / se
    half = stats.t.ppf(1 - ALPHA / 2, n - 1) * se
    p_value = 2 * stats.t.sf(abs(t), n - 1)
    return PairedComparison(n, mean, mean - half, mean + half, float(p_value), won, lost)


def kendall_tau(proxy: list[float], target: list[float]) -> tuple[float, float] | None:
    """Kendall's tau-b between proxy and target rewards of the same entries, with its
    two-sided p-value; None for fewer than 3 entries or a constant side."""
    from scipy import stats
    if len(proxy) != len(target):
        raise ValueError(f'proxy and target rewards must pair, got {len(proxy)} and '
                         f'{len(target)} values')
    if len(proxy) < 3 or len(set(proxy)) < 2 or len(set(target)) < 2:
        return None
    result = stats.kendalltau(proxy, target)
    return float(result.statistic), float(result.pvalue)
