"""Confidence intervals and paired significance tests over per-query scores."""

from __future__ import annotations

import numpy as np


#: Elements (resamples x values) drawn per batch by the resampling functions: about 8 MB of
#: float64, so memory stays fixed however many queries and resamples there are.
BATCH_ELEMENTS = 1 << 20

#: Fewer (seed, query) pairs than this and a CI or test is flagged as resting on very few queries.
FEW_QUERIES = 10


def _batches(n_resamples: int, n: int, batch_elements: int):
    """Row counts of consecutive batches of an (n_resamples x n) draw."""
    rows = max(1, batch_elements // max(1, n))
    for start in range(0, n_resamples, rows):
        yield min(rows, n_resamples - start)


def bootstrap_means(values, n_resamples: int = 1000, seed: int = 0,
                    batch_elements: int = BATCH_ELEMENTS) -> np.ndarray:
    """The ``n_resamples`` bootstrap replicates of the mean (queries resampled with replacement).

    Drawn in batches of fixed size from one generator: the replicates are the same as one
    (n_resamples x n) draw would give.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return np.full(n_resamples, np.nan)
    rng = np.random.default_rng(seed)
    out = [values[rng.integers(0, len(values), size=(rows, len(values)))].mean(axis=1)
           for rows in _batches(n_resamples, len(values), batch_elements)]
    return np.concatenate(out)


def percentile_interval(replicates, level: float = 0.95) -> tuple[float, float]:
    replicates = np.asarray(replicates, dtype=np.float64)
    if len(replicates) == 0 or np.isnan(replicates).any():
        return (np.nan, np.nan)
    alpha = (1 - level) / 2
    return (float(np.quantile(replicates, alpha)), float(np.quantile(replicates, 1 - alpha)))


def bootstrap_ci(values, n_resamples: int = 1000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap interval of the mean (resampling queries with replacement)."""
    if len(values) == 0:
        return (np.nan, np.nan)
    return percentile_interval(bootstrap_means(values, n_resamples, seed), level)


def stratified_bootstrap_ci(groups: list[tuple[np.ndarray, int]], n_resamples: int = 1000,
                            level: float = 0.95):
    """Percentile interval of the mean over all values of several independent samples, each
    resampled within itself: ``groups`` holds (values, rng seed) per sample (per sampling seed).

    Replicate b is the size-weighted mean of each sample's replicate b from
    :func:`bootstrap_means` with that sample's rng seed, i.e. the very resamples behind each
    sample's own interval: with one sample the two intervals are the same numbers.
    """
    groups = [(np.asarray(v, dtype=np.float64), s) for v, s in groups]
    total = sum(len(v) for v, _ in groups)
    if total == 0:
        return (np.nan, np.nan)
    if len(groups) == 1:
        return bootstrap_ci(groups[0][0], n_resamples, groups[0][1], level)
    reps = sum(len(v) * bootstrap_means(v, n_resamples, s) for v, s in groups if len(v))
    return percentile_interval(reps / total, level)


def t_ci(values, level: float = 0.95, bounds: tuple[float, float] | None = None):
    """Student-t interval of the mean (across seeds); NaN half-width for fewer than 2 values.

    ``bounds``: the range the values live in (e.g. (0, 1) for a metric); the interval is
    clipped to it, as a mean can never leave it (with 2 seeds the t quantile is 12.7, and
    hits@1 0.55 +- 0.64 would reach below 0 and above 1).
    """
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if len(values) else np.nan
    if len(values) < 2:
        return (mean, np.nan, np.nan)
    half = stats.t.ppf((1 + level) / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return (mean, float(lo), float(hi))


def paired_t_test(a, b) -> float:
    """Two-sided p-value of the paired t-test of a against b.

    With constant differences (zero variance) the t statistic is undefined: p is 1.0 when they
    are all zero and 0.0 otherwise.
    """
    from scipy import stats

    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if len(diff) < 2:
        return 1.0
    if np.all(diff == diff[0]):
        return 1.0 if diff[0] == 0 else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def permutation_test(a, b, n_resamples: int = 10000, seed: int = 0,
                     batch_elements: int = BATCH_ELEMENTS) -> float:
    """Two-sided paired randomization (sign-flip) test of the mean difference.

    Exact over all 2**n sign vectors when that is at most ``n_resamples``; otherwise Monte Carlo
    with p = (1 + #{|mean| >= observed}) / (1 + n_resamples). The sign vectors are drawn in
    batches of about ``batch_elements`` signs from one generator, so memory is fixed and p is
    the same as with one (n_resamples x n) draw.
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = len(diff)
    observed = abs(diff.mean()) if n else 0.0
    if n == 0 or observed == 0:
        return 1.0
    tol = 1e-12 * max(1.0, observed)
    if 2**n <= n_resamples:
        signs = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        stats_ = np.abs((signs * diff).mean(axis=1))
        return float(np.mean(stats_ >= observed - tol))
    rng = np.random.default_rng(seed)
    choices = np.array([-1.0, 1.0])
    extreme = 0
    for rows in _batches(n_resamples, n, batch_elements):
        signs = rng.choice(choices, size=(rows, n))
        extreme += int(np.sum(np.abs((signs * diff).mean(axis=1)) >= observed - tol))
    return float((1 + extreme) / (1 + n_resamples))


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, (m - i) * p[idx])
        adjusted[idx] = min(1.0, running)
    return adjusted


def wins_ties_losses(a, b, tol: float = 1e-12) -> tuple[int, int, int]:
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return int(np.sum(diff > tol)), int(np.sum(np.abs(diff) <= tol)), int(np.sum(diff < -tol))
