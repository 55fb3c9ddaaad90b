"""Drift: population stability (PSI), Kolmogorov-Smirnov tests and streaming change detection.

* :func:`population_stability_index` compares two vectors of proportions;
  :func:`psi` bins raw values first (deciles of the expected sample for numbers, the
  levels for categories) and calls it.
* :func:`psi_band` reads a PSI with the conventional bands: below 0.10 stable, 0.10 to
  0.25 moderate shift, above 0.25 significant shift.
* :func:`drift_report` gives per-feature PSI and two-sample KS (``scipy.stats.ks_2samp``)
  between a reference and a current frame, plus the score PSI when scores are given.
* :func:`adwin_change_points` runs river's ADWIN over a stream and returns where it fired.

Notes
-----
.. math:: \\mathrm{PSI} = \\sum_i (A_i - E_i) \\ln (A_i / E_i)

with :math:`E_i`, :math:`A_i` the expected (reference) and actual (current) shares of bin
:math:`i`. Empty bins are floored at ``eps`` so the logarithm stays finite.

References
----------
.. [1] N. Siddiqi, "Credit Risk Scorecards", Wiley 2006, ch. 8 (stability index and
   the 0.10 / 0.25 rules of thumb).
.. [2] A. Bifet, R. Gavalda, "Learning from Time-Changing Data with Adaptive Windowing",
   SDM 2007 (ADWIN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from riskmoe.exceptions import DataError, SchemaError

__all__ = [
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "DriftReport",
    "FeatureDrift",
    "adwin_change_points",
    "drift_report",
    "population_stability_index",
    "psi",
    "psi_band",
]

#: PSI at or above which a population has moved moderately / significantly.
PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25
_EPS = 1e-4

Band = Literal["stable", "moderate", "significant"]
Kind = Literal["numeric", "categorical", "score"]


def population_stability_index(
    expected: Sequence[float] | np.ndarray,
    actual: Sequence[float] | np.ndarray,
    *,
    eps: float = _EPS,
) -> float:
    """PSI between two vectors of bin proportions (each summing to 1).

    Parameters
    ----------
    expected, actual : array-like of shape (n_bins,)
        Shares of the reference and the current population in each bin.
    eps : float, default=1e-4
        Floor for empty bins.

    Raises
    ------
    DataError
        For different lengths, negative or missing shares, or shares not summing to 1.

    Examples
    --------
    >>> round(population_stability_index([0.4, 0.3, 0.3], [0.35, 0.25, 0.40]), 5)
    0.04456
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.ndim != 1 or e.shape != a.shape or e.size < 2:
        raise DataError(
            f"expected and actual must be 1-d with the same length >= 2; got shapes "
            f"{e.shape} and {a.shape}."
        )
    for name, v in (("expected", e), ("actual", a)):
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise DataError(f"{name} shares must be finite and >= 0; got {v.tolist()}.")
        if abs(v.sum() - 1.0) > 1e-6:
            raise DataError(f"{name} shares must sum to 1; they sum to {v.sum():.6f}.")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
        values.dtype
    )


def bin_shares(
    expected: Iterable[Any], actual: Iterable[Any], bins: int = 10
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Shares of ``expected`` and ``actual`` in bins learned from ``expected``.

    Numbers: edges at the expected sample's quantiles (``bins`` equal-count bins, ties
    merged, outer bins open-ended); missing values form their own bin. Categories: one
    bin per level seen in either sample.
    """
    e = pd.Series(list(expected) if not isinstance(expected, pd.Series) else expected)
    a = pd.Series(list(actual) if not isinstance(actual, pd.Series) else actual)
    if e.empty or a.empty:
        raise DataError(f"both samples need values; got {len(e)} expected and {len(a)} actual.")
    if bins < 2:
        raise ValueError(f"bins must be >= 2; got bins={bins}.")
    if _is_categorical(e) or _is_categorical(a):
        es = e.astype("string").fillna("<missing>")
        acs = a.astype("string").fillna("<missing>")
        levels = sorted(set(es) | set(acs))
        ec = es.value_counts().reindex(levels, fill_value=0).to_numpy(float)
        ac = acs.value_counts().reindex(levels, fill_value=0).to_numpy(float)
        return ec / ec.sum(), ac / ac.sum(), [str(x) for x in levels]
    ev, av = e.to_numpy(float), a.to_numpy(float)
    finite = ev[np.isfinite(ev)]
    if finite.size == 0:
        raise DataError("the expected sample has no finite values to learn bins from.")
    inner = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    labels = [f"({lo:g}, {hi:g}]" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]

    def shares(v: np.ndarray) -> np.ndarray:
        ok = np.isfinite(v)
        idx = np.searchsorted(inner, v[ok], side="left")  # right-closed bins
        counts = np.bincount(idx, minlength=len(edges) - 1).astype(float)
        return np.append(counts, float((~ok).sum())) / v.size

    e_sh, a_sh = shares(ev), shares(av)
    if e_sh[-1] == 0 and a_sh[-1] == 0:
        return e_sh[:-1], a_sh[:-1], labels
    return e_sh, a_sh, [*labels, "missing"]


def psi(expected: Iterable[Any], actual: Iterable[Any], bins: int = 10) -> float:
    """PSI between two samples of raw values (deciles of ``expected`` by default).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=5000)
    >>> psi(ref, rng.normal(size=5000)) < 0.01, psi(ref, rng.normal(0.5, 1, 5000)) > 0.2
    (True, True)
    """
    e, a, _ = bin_shares(expected, actual, bins)
    return population_stability_index(e, a)


def psi_band(value: float) -> Band:
    """The conventional reading of a PSI: stable, moderate or significant.

    Examples
    --------
    >>> [psi_band(v) for v in (0.04456, 0.1, 0.3)]
    ['stable', 'moderate', 'significant']
    """
    if not np.isfinite(value) or value < 0:
        raise DataError(f"a PSI is finite and >= 0; got {value}.")
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value <= PSI_SIGNIFICANT else "significant"


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature (or of the score) between reference and current samples."""

    feature: str
    kind: Kind
    psi: float
    band: Band
    ks_statistic: float | None
    ks_pvalue: float | None
    n_reference: int
    n_current: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift, worst first, with the score drift when scores were given."""

    features: tuple[FeatureDrift, ...]
    score: FeatureDrift | None
    bins: int

    @property
    def worst(self) -> FeatureDrift | None:
        """The feature with the largest PSI."""
        return self.features[0] if self.features else None

    def to_frame(self) -> pd.DataFrame:
        """One row per feature (and the score, first, when present)."""
        rows = ([self.score] if self.score else []) + list(self.features)
        return pd.DataFrame([r.to_dict() for r in rows])

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "bins": self.bins,
            "score": None if self.score is None else self.score.to_dict(),
            "features": [f.to_dict() for f in self.features],
        }


def _feature_drift(
    name: str, ref: pd.Series, cur: pd.Series, bins: int, kind: Kind
) -> FeatureDrift:
    value = psi(ref, cur, bins)
    ks_stat: float | None = None
    ks_p: float | None = None
    if kind != "categorical":
        r, c = ref.to_numpy(float), cur.to_numpy(float)
        r, c = r[np.isfinite(r)], c[np.isfinite(c)]
        if r.size and c.size:
            res = stats.ks_2samp(r, c)
            ks_stat, ks_p = float(res.statistic), float(res.pvalue)
    return FeatureDrift(
        name,
        kind,
        value,
        psi_band(value),
        ks_stat,
        ks_p,
        int(ref.size),
        int(cur.size),
    )


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    score_reference: Sequence[float] | np.ndarray | None = None,
    score_current: Sequence[float] | np.ndarray | None = None,
    bins: int = 10,
) -> DriftReport:
    """PSI (and KS for numbers) of every shared column, and of the score.

    Raises
    ------
    SchemaError
        When a requested column is missing from either frame.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": range(100), "c": ["a", "b"] * 50})
    >>> cur = pd.DataFrame({"x": range(50, 150), "c": ["a"] * 100})
    >>> [(f.feature, f.band) for f in drift_report(ref, cur).features]
    [('c', 'significant'), ('x', 'significant')]
    """
    cols = list(columns) if columns is not None else [c for c in reference if c in current]
    missing = [c for c in cols if c not in reference.columns or c not in current.columns]
    if missing:
        raise SchemaError(f"drift: columns {missing} are not in both frames.")
    feats = [
        _feature_drift(
            str(c),
            reference[c],
            current[c],
            bins,
            "categorical" if _is_categorical(reference[c]) else "numeric",
        )
        for c in cols
    ]
    feats.sort(key=lambda f: -f.psi)
    score = None
    if score_reference is not None and score_current is not None:
        score = _feature_drift(
            "score", pd.Series(score_reference), pd.Series(score_current), bins, "score"
        )
    return DriftReport(tuple(feats), score, bins)


def adwin_change_points(
    values: Iterable[float], *, delta: float = 0.002, clock: int = 32, grace_period: int = 10
) -> list[int]:
    """Indices at which river's ADWIN detects a change in the stream's mean.

    Parameters
    ----------
    values : iterable of float
    delta : float, default=0.002
        ADWIN's confidence; smaller fires less often.
    clock, grace_period : int
        Passed to :class:`river.drift.ADWIN`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stream = np.r_[rng.normal(0, 1, 1000), rng.normal(1.5, 1, 1000)]
    >>> adwin_change_points(stream)
    [1023]
    """
    from river.drift import ADWIN

    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1); got delta={delta}.")
    detector = ADWIN(delta=delta, clock=clock, grace_period=grace_period)
    fired = []
    for i, v in enumerate(values):
        x = float(v)
        if not np.isfinite(x):
            raise DataError(f"ADWIN needs finite values; value {i} is {v!r}.")
        detector.update(x)
        if detector.drift_detected:
            fired.append(i)
    return fired
