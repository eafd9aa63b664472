"""Confidence intervals and paired significance tests over per-query scores."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values, n_resamples: int = 1000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap interval of the mean (resampling queries with replacement)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_resamples, len(values)))
    means = values[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def t_ci(values, level: float = 0.95):
    """Student-t interval of the mean (across seeds); NaN half-width for fewer than 2 values."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if len(values) else np.nan
    if len(values) < 2:
        return (mean, np.nan, np.nan)
    half = stats.t.ppf((1 + level) / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return (mean, float(mean - half), float(mean + half))


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


def permutation_test(a, b, n_resamples: int = 10000, seed: int = 0) -> float:
    """Two-sided paired randomization (sign-flip) test of the mean difference.

    Exact over all 2**n sign vectors when that is at most ``n_resamples``; otherwise Monte Carlo
    with p = (1 + #{|mean| >= observed}) / (1 + n_resamples).
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
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_resamples, n))
    stats_ = np.abs((signs * diff).mean(axis=1))
    return float((1 + np.sum(stats_ >= observed - tol)) / (1 + n_resamples))


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
