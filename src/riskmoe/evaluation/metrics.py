"""Discrimination metrics credit-risk teams report: AUC, Gini, KS.

Notes
-----
Gini = 2 * AUC - 1 (the accuracy ratio). KS is the largest gap between the
cumulative score distributions of bads and goods, max_t |F_bad(t) - F_good(t)|,
the two-sample Kolmogorov-Smirnov statistic (computed by ``scipy.stats.ks_2samp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import roc_auc_score

__all__ = ["ks_statistic", "gini", "DiscriminationReport", "discrimination"]


def _binary(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
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
