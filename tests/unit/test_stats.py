"""Confidence intervals and significance tests against scipy on known inputs."""

import numpy as np
import pytest
from scipy import stats as sps

from shopbench import stats


@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    a = rng.uniform(size=12)
    return a, np.clip(a - rng.normal(0.05, 0.1, size=12), 0, 1)


def test_paired_t_test_matches_scipy(pair):
    a, b = pair
    assert stats.paired_t_test(a, b) == pytest.approx(sps.ttest_rel(a, b).pvalue, rel=1e-12)


def test_exact_permutation_test_matches_scipy(pair):
    a, b = pair  # 2**12 sign vectors: exact enumeration on both sides
    expected = sps.permutation_test((a, b), lambda x, y: np.mean(x - y),
                                    permutation_type="samples", n_resamples=np.inf,
                                    alternative="two-sided").pvalue
    assert stats.permutation_test(a, b, n_resamples=10_000) == pytest.approx(expected,
                                                                             rel=1e-12)


def test_monte_carlo_permutation_test_is_close_to_exact(pair):
    a, b = pair
    exact = stats.permutation_test(a, b, n_resamples=10_000)
    approx = stats.permutation_test(a, b, n_resamples=2_000, seed=3)
    assert abs(approx - exact) < 0.03


def test_identical_runs_are_not_significant():
    a = np.array([0.5, 1.0, 0.0])
    assert stats.permutation_test(a, a) == 1.0 and stats.paired_t_test(a, a) == 1.0


def test_holm_on_known_input():
    # Holm: sorted p (0.01, 0.02, 0.03, 0.5) -> (0.04, 0.06, 0.06, 0.5), then original order
    adjusted = stats.holm([0.03, 0.01, 0.5, 0.02])
    np.testing.assert_allclose(adjusted, [0.06, 0.04, 0.5, 0.06])


def test_bootstrap_ci_close_to_scipy_percentile():
    values = np.random.default_rng(2).uniform(size=60)
    lo, hi = stats.bootstrap_ci(values, n_resamples=20_000, seed=0)
    ref = sps.bootstrap((values,), np.mean, n_resamples=20_000, method="percentile",
                        random_state=0).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.01) and hi == pytest.approx(ref.high, abs=0.01)
    assert lo < values.mean() < hi


def test_t_ci_matches_scipy():
    values = np.array([0.61, 0.65, 0.58])
    mean, lo, hi = stats.t_ci(values)
    ref = sps.t.interval(0.95, 2, loc=values.mean(), scale=sps.sem(values))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12) and mean == pytest.approx(values.mean())


def test_wins_ties_losses():
    assert stats.wins_ties_losses([1, 0.5, 0], [0.5, 0.5, 1]) == (1, 1, 1)


def test_t_ci_is_clipped_to_its_bounds():
    mean, lo, hi = stats.t_ci([0.2, 0.9])  # 2 values: t quantile 12.7
    assert lo < 0 and hi > 1 and mean == pytest.approx(0.55)
    assert stats.t_ci([0.2, 0.9], bounds=(0.0, 1.0)) == (pytest.approx(0.55), 0.0, 1.0)
    inside = stats.t_ci([0.50, 0.52, 0.51, 0.49], bounds=(0.0, 1.0))
    assert inside == stats.t_ci([0.50, 0.52, 0.51, 0.49])  # nothing to clip
