"""Metrics checked against plain loops and independent references (scipy, scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss

from riskmoe.evaluation import (
    calibration_data,
    discrimination,
    expected_calibration_error,
    ks_statistic,
    pr_auc,
    probability_metrics,
)


def sample(n: int = 2_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.beta(2, 3, n) * 0.7, 0.0, 1.0)
    # exact bin edges and both ends, where an off-by-one in binning would show
    p[:12] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.3]
    return y, p


def ece_loop(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE as written in Naeini et al. (2015): bins [k/B, (k+1)/B), the last one closed."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        members = [i for i in range(len(p)) if lo <= p[i] < hi or (b == n_bins - 1 and p[i] == hi)]
        if not members:
            continue
        observed = sum(y[i] for i in members) / len(members)
        predicted = sum(p[i] for i in members) / len(members)
        total += len(members) / len(p) * abs(observed - predicted)
    return total


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("seed", [0, 1])
def test_ece_equals_a_plain_loop(n_bins, seed):
    y, p = sample(seed=seed)
    assert expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(
        ece_loop(y, p, n_bins), abs=1e-12
    )


def test_ece_of_a_perfectly_calibrated_constant_is_zero():
    y = np.array([0, 0, 0, 1] * 50)
    assert expected_calibration_error(y, np.full(len(y), 0.25)) == pytest.approx(0.0, abs=1e-15)


def ks_loop(y: np.ndarray, s: np.ndarray) -> float:
    """max_t |F_bad(t) - F_good(t)| over every observed score t."""
    bads, goods = s[y == 1], s[y == 0]
    return max(abs(np.mean(bads <= t) - np.mean(goods <= t)) for t in np.unique(s))


def test_ks_matches_scipy_and_a_plain_loop():
    y, s = sample(500)
    expected = stats.ks_2samp(s[y == 1], s[y == 0]).statistic
    assert ks_statistic(y, s) == pytest.approx(expected, abs=1e-12)
    assert ks_statistic(y, s) == pytest.approx(ks_loop(y, s), abs=1e-12)
    assert probability_metrics(y, s).ks == pytest.approx(expected, abs=1e-12)


def ap_loop(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision: sum over distinct thresholds of (R_n - R_{n-1}) * P_n."""
    total, prev_recall = 0.0, 0.0
    for t in sorted(np.unique(s), reverse=True):
        flagged = s >= t
        tp = float(np.sum(y[flagged]))
        recall = tp / y.sum()
        precision = tp / flagged.sum()
        total += (recall - prev_recall) * precision
        prev_recall = recall
    return total


def test_pr_auc_matches_sklearn_and_a_plain_loop():
    y, s = sample(800, seed=3)
    s = np.round(s, 2)  # ties, where step-wise and trapezoidal areas differ
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert pr_auc(y, s) == pytest.approx(ap_loop(y, s), abs=1e-12)


def test_probability_metrics_match_sklearn():
    y, p = sample(seed=4)
    p = np.clip(p, 1e-6, 1 - 1e-6)
    m = probability_metrics(y, p)
    assert m.brier == pytest.approx(brier_score_loss(y, p))
    assert m.logloss == pytest.approx(log_loss(y, p))
    assert m.pr_auc == pytest.approx(average_precision_score(y, p))
    assert m.ece == pytest.approx(ece_loop(y, p))
    assert (m.n, m.positives) == (len(y), int(y.sum()))
    assert set(m.to_dict()) == {"n", "positives", "auc", "ks", "pr_auc", "brier", "logloss", "ece"}


def test_calibration_data_is_sklearns_curve():
    y, p = sample(seed=5)
    c = calibration_data(y, p, n_bins=10)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(c.prob_true, prob_true)
    np.testing.assert_allclose(c.prob_pred, prob_pred)


def test_discrimination_api_is_unchanged():
    report = discrimination([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.7])
    assert set(report.to_dict()) == {"n", "positives", "auc", "gini", "ks"}


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1, 1], [0.1, 1.2, 0.5], r"probabilities in \[0, 1\]"),
        ([0, 1, 1], [0.1, -0.2, 0.5], r"probabilities in \[0, 1\]"),
        ([1, 1, 1], [0.1, 0.2, 0.5], "both classes 0 and 1"),
        ([0, 1, 1], [0.1, np.nan, 0.5], "NaN or infinite"),
        ([0, 1], [0.1, 0.2, 0.3], "equal length"),
    ],
)
def test_bad_inputs_raise_specific_errors(y, p, message):
    with pytest.raises(ValueError, match=message):
        probability_metrics(y, p)


def test_bad_bin_counts_raise():
    with pytest.raises(ValueError, match="n_bins must be an integer >= 1"):
        expected_calibration_error([0, 1], [0.1, 0.9], n_bins=0)
    with pytest.raises(ValueError, match="strategy must be 'uniform' or 'quantile'"):
        calibration_data([0, 1], [0.1, 0.9], strategy="kmeans")
