"""Metrics credit-risk teams report: discrimination (AUC, Gini, KS, PR-AUC) and calibration.

Notes
-----
Gini = 2 * AUC - 1 (the accuracy ratio). KS is the largest gap between the
cumulative score distributions of bads and goods, max_t |F_bad(t) - F_good(t)|,
the two-sample Kolmogorov-Smirnov statistic (computed by ``scipy.stats.ks_2samp``).
PR-AUC is average precision (``sklearn.metrics.average_precision_score``), the metric to
read beside AUC when positives are rare. Brier score is the mean squared error of the
probabilities; log loss is the mean negative log-likelihood; ECE is the expected
calibration error over equal-width probability bins (:func:`expected_calibration_error`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

__all__ = [
    "CalibrationCurve",
    "DiscriminationReport",
    "ProbabilityMetrics",
    "calibrated_ece_draws",
    "calibration_data",
    "discrimination",
    "ece_noise_floor",
    "expected_calibration_error",
    "gini",
    "ks_statistic",
    "pr_auc",
    "probability_metrics",
]


def _binary(
    y_true: ArrayLike, y_score: ArrayLike, *, probabilities: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(
            f"y_true and y_score must be 1-d of equal length; got {y.shape} and {s.shape}."
        )
    if not np.isfinite(s).all():
        raise ValueError("y_score contains NaN or infinite values.")
    labels = set(np.unique(y).tolist())
    if labels != {0, 1}:
        raise ValueError(f"y_true must contain both classes 0 and 1; got {sorted(labels)}.")
    if probabilities and ((s < 0.0) | (s > 1.0)).any():
        raise ValueError(
            f"y_prob must be probabilities in [0, 1]; got values in [{s.min():.4g}, {s.max():.4g}]."
        )
    return y.astype(int), s


def ks_statistic(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Kolmogorov-Smirnov separation between the scores of bads (1) and goods (0).

    Examples
    --------
    >>> ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    1.0
    """
    y, s = _binary(y_true, y_score)
    return float(stats.ks_2samp(s[y == 1], s[y == 0]).statistic)


def gini(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio), ``2 * AUC - 1``.

    Examples
    --------
    >>> gini([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.7])
    1.0
    """
    y, s = _binary(y_true, y_score)
    return float(2.0 * roc_auc_score(y, s) - 1.0)


@dataclass(frozen=True)
class DiscriminationReport:
    """AUC, Gini and KS of one set of scores."""

    n: int
    positives: int
    auc: float
    gini: float
    ks: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def discrimination(y_true: ArrayLike, y_score: ArrayLike) -> DiscriminationReport:
    """AUC, Gini and KS together."""
    y, s = _binary(y_true, y_score)
    auc = float(roc_auc_score(y, s))
    return DiscriminationReport(
        n=len(y),
        positives=int(y.sum()),
        auc=auc,
        gini=2.0 * auc - 1.0,
        ks=float(stats.ks_2samp(s[y == 1], s[y == 0]).statistic),
    )


def pr_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Area under the precision-recall curve, as average precision.

    Average precision is ``sum_n (R_n - R_{n-1}) P_n`` over score thresholds, the
    step-wise (not trapezoidal) area, as ``sklearn.metrics.average_precision_score``
    computes it. A random score gets about the positive rate.

    Examples
    --------
    >>> pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    y, s = _binary(y_true, y_score)
    return float(average_precision_score(y, s))


def _ece_bins(n_bins: int) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1; got {n_bins!r}.")
    return np.linspace(0.0, 1.0, int(n_bins) + 1)


def _ece_bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    """The equal-width bin of each probability, 0..n_bins - 1."""
    edges = _ece_bins(n_bins)
    # digitize on the interior edges: bin b holds edges[b] <= p < edges[b + 1]; p = 1 -> last
    return np.digitize(p, edges[1:-1], right=False)


def expected_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-width probability bins.

    Notes
    -----
    Bins are ``[0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]`` for ``n_bins=10`` (the last one
    closed). With ``B_b`` the rows whose predicted probability falls in bin ``b``,

        ECE = sum_b (|B_b| / n) * |mean(y in B_b) - mean(p in B_b)|,

    the gap between the observed default rate and the mean predicted probability in each
    bin, weighted by the bin's share of rows; empty bins add nothing.

    References
    ----------
    Naeini, M. P., Cooper, G. and Hauskrecht, M. (2015). Obtaining well calibrated
    probabilities using Bayesian binning. *AAAI*, 2901-2907.

    Examples
    --------
    Two bins of two rows, each with an observed rate of 0.5; ``|0.5 - 0.2| / 2 + |0.5 - 0.8| / 2``:

    >>> round(expected_calibration_error([0, 1, 0, 1], [0.2, 0.2, 0.8, 0.8]), 12)
    0.3
    """
    y, p = _binary(y_true, y_prob, probabilities=True)
    idx = _ece_bin_index(p, n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    return float(np.abs(sum_y - sum_p).sum() / len(y))


def calibrated_ece_draws(
    y_prob: ArrayLike, n_bins: int = 10, n_draws: int = 200, random_state: int = 0
) -> np.ndarray:
    """ECEs a perfectly calibrated model would show with these predictions and rows.

    Labels are drawn as ``y ~ Bernoulli(p)`` from the probabilities themselves -- so the
    model is calibrated by construction -- and :func:`expected_calibration_error` is
    computed for each of ``n_draws`` draws. An observed ECE inside this distribution is
    sampling noise, not miscalibration; it shrinks like ``1 / sqrt(rows per bin)``.

    Returns
    -------
    ndarray of shape (n_draws,)
    """
    p = np.asarray(y_prob, dtype=float).ravel()
    if p.size == 0:
        raise ValueError("calibrated_ece_draws needs at least one probability.")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must be finite and within [0, 1].")
    idx = _ece_bin_index(p, n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    rng = np.random.default_rng(random_state)
    draws = np.empty(n_draws)
    for i in range(n_draws):
        y = (rng.random(p.size) < p).astype(float)
        draws[i] = np.abs(np.bincount(idx, weights=y, minlength=n_bins) - sum_p).sum() / p.size
    return draws


def ece_noise_floor(
    y_prob: ArrayLike, n_bins: int = 10, n_draws: int = 200, random_state: int = 0
) -> float:
    """The mean ECE of a perfectly calibrated model: :func:`calibrated_ece_draws` averaged.

    Examples
    --------
    Ten rows at p = 0.5 fall in one bin, so ECE = |k/10 - 0.5| with k ~ Binomial(10, 0.5);
    its mean is C(10, 5) / 2**10 / 2 = 0.123 (de Moivre's mean absolute deviation):

    >>> round(ece_noise_floor([0.5] * 10, n_draws=20_000), 2)
    0.12
    """
    return float(calibrated_ece_draws(y_prob, n_bins, n_draws, random_state).mean())


@dataclass(frozen=True)
class ProbabilityMetrics:
    """Discrimination and calibration of predicted default probabilities on one test set.

    ``ece`` uses 10 equal-width bins (:func:`expected_calibration_error`).
    """

    n: int
    positives: int
    auc: float
    ks: float
    pr_auc: float
    brier: float
    logloss: float
    ece: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def probability_metrics(y_true: ArrayLike, y_prob: ArrayLike) -> ProbabilityMetrics:
    """AUC, KS, PR-AUC, Brier score, log loss and ECE (10 equal-width bins) together.

    Raises
    ------
    ValueError
        If the labels are not both 0 and 1, the lengths differ, or a probability is
        outside [0, 1] or not finite.

    Examples
    --------
    >>> m = probability_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    >>> m.auc, m.ks, round(m.brier, 3)
    (1.0, 1.0, 0.025)
    """
    y, p = _binary(y_true, y_prob, probabilities=True)
    return ProbabilityMetrics(
        n=len(y),
        positives=int(y.sum()),
        auc=float(roc_auc_score(y, p)),
        ks=float(stats.ks_2samp(p[y == 1], p[y == 0]).statistic),
        pr_auc=float(average_precision_score(y, p)),
        brier=float(brier_score_loss(y, p)),
        logloss=float(log_loss(y, p, labels=[0, 1])),
        ece=expected_calibration_error(y, p),
    )


@dataclass(frozen=True)
class CalibrationCurve:
    """Reliability-diagram data: per non-empty bin, mean prediction and observed rate."""

    prob_pred: tuple[float, ...]
    prob_true: tuple[float, ...]
    n_bins: int
    strategy: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "prob_pred": list(self.prob_pred),
            "prob_true": list(self.prob_true),
            "n_bins": self.n_bins,
            "strategy": self.strategy,
        }


def calibration_data(
    y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = 10, strategy: str = "uniform"
) -> CalibrationCurve:
    """Calibration curve from ``sklearn.calibration.calibration_curve`` (empty bins dropped).

    Examples
    --------
    >>> c = calibration_data([0, 1, 0, 1], [0.2, 0.2, 0.8, 0.8], n_bins=2)
    >>> c.prob_pred, c.prob_true
    ((0.2, 0.8), (0.5, 0.5))
    """
    y, p = _binary(y_true, y_prob, probabilities=True)
    _ece_bins(n_bins)
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    return CalibrationCurve(
        prob_pred=tuple(float(v) for v in prob_pred),
        prob_true=tuple(float(v) for v in prob_true),
        n_bins=int(n_bins),
        strategy=strategy,
    )
