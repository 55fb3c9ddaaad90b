"""Outliers: statistical bounds (z-score, IQR) and Minkowski-distance detectors (kNN, LOF).

Every detector learns in ``fit`` -- bounds, or a scaler plus a reference set -- and
applies that unchanged in ``transform``. Actions:

``"flag"``
    Add a boolean column (``flag_column``) that is true on outlying rows.
``"clip"``
    Move values outside the bounds onto them (statistical detectors only).
``"drop"``
    Drop outlying rows (``transform`` then returns fewer rows).

Minkowski distance of order ``p`` between rows ``x`` and ``y`` of the scaled columns:
``d_p(x, y) = (sum_j |x_j - y_j| ** p) ** (1 / p)``; ``p = 1`` is Manhattan, ``p = 2``
Euclidean. It is a metric only for ``p >= 1``, so smaller ``p`` is refused.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from riskmoe.cleaning.scaling import ScalingMethod, location_scale
from riskmoe.cleaning.step import Change, CleaningStep, numeric_columns
from riskmoe.exceptions import DataError, DataQualityWarning, SchemaError

__all__ = [
    "MINKOWSKI_P_GRID",
    "DistanceMethod",
    "IQROutliers",
    "KNNOutliers",
    "LOFOutliers",
    "OutlierAction",
    "ZScoreOutliers",
    "check_minkowski_p",
]

OutlierAction = Literal["flag", "clip", "drop"]
DistanceAction = Literal["flag", "drop"]
DistanceMethod = Literal["knn", "lof"]

#: The orders of the Minkowski metric compared by :func:`~riskmoe.cleaning.select_minkowski_p`.
MINKOWSKI_P_GRID: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0)


def check_minkowski_p(p: Any) -> float:
    """Return ``p`` as a float if it is a valid Minkowski order (finite, ``>= 1``).

    Examples
    --------
    >>> check_minkowski_p(1.5)
    1.5
    >>> check_minkowski_p(0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: p must be a finite number >= 1 (...); got p=0.5.
    """
    ok = isinstance(p, int | float | np.integer | np.floating) and not isinstance(p, bool)
    if not ok or not math.isfinite(p) or p < 1:
        raise ValueError(
            f"p must be a finite number >= 1 (the Minkowski distance is a metric only for "
            f"p >= 1); got p={p!r}."
        )
    return float(p)


def _column_values(X: pd.DataFrame, column: Any) -> np.ndarray:
    return X[column].to_numpy(dtype=float, na_value=np.nan)


class _FlagMixin:
    """The flag column name: given, or the detector's default."""

    default_flag: ClassVar[str]
    flag_column: str | None

    def _resolve_flag(self, X: pd.DataFrame) -> str:
        flag = self.flag_column or self.default_flag
        if flag in X.columns:
            raise SchemaError(
                f"{type(self).__name__}: flag column {flag!r} already exists in the frame; "
                f"pass another flag_column."
            )
        return flag


# -- statistical bounds -----------------------------------------------------------------


class _BoundsOutliers(_FlagMixin, CleaningStep):
    """Per-column bounds learned in fit; flag / clip / drop in transform."""

    columns: Sequence[str] | None
    exclude: Sequence[str]
    action: str

    def _bounds_of(self, column: Any, values: np.ndarray) -> tuple[float, float] | str:
        """Bounds from the observed training values, or the reason the column is skipped."""
        raise NotImplementedError

    def _validate_action(self) -> None:
        if self.action not in ("flag", "clip", "drop"):
            raise ValueError(
                f"unknown outlier action {self.action!r}; choose one of ('flag', 'clip', 'drop')."
            )

    def _learn(self, X: pd.DataFrame) -> None:
        owner = type(self).__name__
        self.flag_column_ = self._resolve_flag(X) if self.action == "flag" else None
        self.columns_ = numeric_columns(X, self.columns, tuple(self.exclude), owner)
        self.bounds_: dict[Any, tuple[float, float]] = {}
        self.skipped_: dict[Any, str] = {}
        for column in self.columns_:
            values = _column_values(X, column)
            result = self._bounds_of(column, values[~np.isnan(values)])
            if isinstance(result, str):
                self.skipped_[column] = result
            else:
                self.bounds_[column] = result

    def _change(self, X: pd.DataFrame) -> Change:
        out = X.copy()
        outlying = np.zeros(len(X), dtype=bool)
        counts: dict[Any, int] = {}
        for column, (low, high) in self.bounds_.items():
            values = _column_values(X, column)
            with np.errstate(invalid="ignore"):
                hit = (values < low) | (values > high)
            counts[column] = int(hit.sum())
            outlying |= hit
            if self.action == "clip" and hit.any():
                series = X[column]
                if pd.api.types.is_integer_dtype(series.dtype) and isinstance(
                    series.dtype, pd.api.extensions.ExtensionDtype
                ):
                    series = series.astype("Float64")
                out[column] = series.clip(lower=low, upper=high)
        details = {
            "action": self.action,
            "bounds": {c: list(b) for c, b in self.bounds_.items()},
            "outliers": counts,
            "skipped": self.skipped_,
        }
        if self.action == "flag":
            out[self.flag_column_] = outlying
        if self.action == "drop":
            return Change(X.loc[~outlying], ~outlying, details)
        return Change(out, None, details)

    def _output_columns(self, columns: list[Any]) -> list[Any]:
        return [*columns, self.flag_column_] if self.flag_column_ else columns


class ZScoreOutliers(_BoundsOutliers):
    """Outliers by z-score: ``|x - mean| / std > threshold``, mean and std from fit.

    Parameters
    ----------
    threshold : float, default 3.0
        Positive number of standard deviations.
    action : {"flag", "clip", "drop"}, default "flag"
    columns : sequence of str, optional
        Numeric columns to check (default: every numeric, non-boolean column).
    exclude : sequence of str, default ()
        Columns never checked (identifiers, targets).
    flag_column : str, optional
        Name of the added column for ``action="flag"`` (default ``"outlier_zscore"``).

    Attributes
    ----------
    mean_, std_ : dict
        Training mean and population standard deviation (ddof=0, as ``scipy.stats.zscore``).
    bounds_ : dict
        ``(mean - threshold * std, mean + threshold * std)`` per column.
    skipped_ : dict
        Columns left unchecked and why (constant, or fewer than 2 observed values).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": [1.0] * 10 + [100.0]})
    >>> ZScoreOutliers(threshold=3.0).fit_transform(X)["outlier_zscore"].tolist()[-2:]
    [False, True]
    """

    default_flag = "outlier_zscore"

    def __init__(
        self,
        threshold: float = 3.0,
        action: OutlierAction = "flag",
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        flag_column: str | None = None,
    ) -> None:
        self.threshold = threshold
        self.action = action
        self.columns = columns
        self.exclude = exclude
        self.flag_column = flag_column

    def _validate_arguments(self) -> None:
        self._validate_action()
        if not (isinstance(self.threshold, int | float) and self.threshold > 0):
            raise ValueError(f"threshold must be a positive number; got {self.threshold!r}.")

    def _learn(self, X: pd.DataFrame) -> None:
        self.mean_: dict[Any, float] = {}
        self.std_: dict[Any, float] = {}
        super()._learn(X)

    def _bounds_of(self, column: Any, values: np.ndarray) -> tuple[float, float] | str:
        if values.size < 2:
            return "fewer than 2 observed values"
        mean, std = float(values.mean()), float(values.std())
        self.mean_[column], self.std_[column] = mean, std
        if std == 0:
            return "zero standard deviation"
        return mean - self.threshold * std, mean + self.threshold * std


class IQROutliers(_BoundsOutliers):
    """Outliers by Tukey's fences: outside ``[Q1 - factor * IQR, Q3 + factor * IQR]``.

    Quartiles are learned in fit with numpy's default (linear) percentile.

    Parameters
    ----------
    factor : float, default 1.5
        Non-negative fence width in IQRs (1.5 "outliers", 3 "far out", Tukey 1977).
    action : {"flag", "clip", "drop"}, default "flag"
    columns : sequence of str, optional
        Numeric columns to check (default: every numeric, non-boolean column).
    exclude : sequence of str, default ()
        Columns never checked.
    flag_column : str, optional
        Name of the added column for ``action="flag"`` (default ``"outlier_iqr"``).

    Attributes
    ----------
    q1_, q3_ : dict
        Training quartiles.
    bounds_ : dict
        The fences per column.
    skipped_ : dict
        Columns left unchecked and why: a zero IQR (e.g. a count that is 0 for most
        rows) would make every other value an outlier, so such columns are skipped.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 50.0]})
    >>> step = IQROutliers(action="clip").fit(X)
    >>> step.bounds_
    {'x': (-1.0, 7.0)}
    >>> step.transform(X)["x"].tolist()
    [1.0, 2.0, 3.0, 4.0, 7.0]
    """

    default_flag = "outlier_iqr"

    def __init__(
        self,
        factor: float = 1.5,
        action: OutlierAction = "flag",
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        flag_column: str | None = None,
    ) -> None:
        self.factor = factor
        self.action = action
        self.columns = columns
        self.exclude = exclude
        self.flag_column = flag_column

    def _validate_arguments(self) -> None:
        self._validate_action()
        if not (isinstance(self.factor, int | float) and self.factor >= 0):
            raise ValueError(f"factor must be a non-negative number; got {self.factor!r}.")

    def _learn(self, X: pd.DataFrame) -> None:
        self.q1_: dict[Any, float] = {}
        self.q3_: dict[Any, float] = {}
        super()._learn(X)

    def _bounds_of(self, column: Any, values: np.ndarray) -> tuple[float, float] | str:
        if values.size == 0:
            return "no observed values"
        q1, q3 = (float(q) for q in np.percentile(values, [25.0, 75.0]))
        self.q1_[column], self.q3_[column] = q1, q3
        iqr = q3 - q1
        if iqr == 0:
            return "zero inter-quartile range"
        return q1 - self.factor * iqr, q3 + self.factor * iqr


# -- Minkowski-distance detectors -------------------------------------------------------


class _DistanceOutliers(_FlagMixin, CleaningStep):
    """Scale numeric columns (fitted in fit), score rows by Minkowski distance, threshold."""

    method: ClassVar[DistanceMethod]
    p: float
    n_neighbors: int
    contamination: float
    threshold: float | None
    action: str
    columns: Sequence[str] | None
    exclude: Sequence[str]
    scaling: ScalingMethod
    n_jobs: int | None

    def _validate_arguments(self) -> None:
        check_minkowski_p(self.p)
        if (
            isinstance(self.n_neighbors, bool)
            or not isinstance(self.n_neighbors, int | np.integer)
            or self.n_neighbors < 1
        ):
            raise ValueError(f"n_neighbors must be an integer >= 1; got {self.n_neighbors!r}.")
        if self.threshold is None:
            c = self.contamination
            if not (isinstance(c, int | float) and 0 < c <= 0.5):
                raise ValueError(f"contamination must be a number in (0, 0.5]; got {c!r}.")
        elif not (isinstance(self.threshold, int | float) and math.isfinite(self.threshold)):
            raise ValueError(f"threshold must be a finite number or None; got {self.threshold!r}.")
        if self.action not in ("flag", "drop"):
            raise ValueError(f"unknown outlier action {self.action!r}; choose 'flag' or 'drop'.")
        if self.scaling not in ("robust", "standard"):
            raise ValueError(f"unknown scaling {self.scaling!r}; choose 'robust' or 'standard'.")

    def _complete(self, X: pd.DataFrame) -> np.ndarray:
        """Numeric values with missing cells filled by the training medians (scoring only)."""
        values = X[self.columns_].to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        if missing.any():
            columns = [c for c, m in zip(self.columns_, missing.any(axis=0), strict=True) if m]
            warnings.warn(
                f"{type(self).__name__}: {int(missing.sum())} missing cell(s) in {columns} were "
                f"filled with training medians for scoring only; impute before this step.",
                DataQualityWarning,
                stacklevel=4,
            )
            values = np.where(missing, self.fill_, values)
        return values

    def _learn(self, X: pd.DataFrame) -> None:
        owner = type(self).__name__
        self.flag_column_ = self._resolve_flag(X) if self.action == "flag" else None
        self.columns_ = numeric_columns(X, self.columns, tuple(self.exclude), owner)
        if not self.columns_:
            raise SchemaError(f"{owner} found no numeric column to score.")
        raw = X[self.columns_].to_numpy(dtype=float, na_value=np.nan)
        empty = [c for c, e in zip(self.columns_, np.isnan(raw).all(axis=0), strict=True) if e]
        if empty:
            raise DataError(f"{owner}: column(s) {empty} have no observed value in training.")
        if len(X) <= self.n_neighbors:
            raise ValueError(
                f"n_neighbors must be smaller than the number of training rows; got "
                f"n_neighbors={self.n_neighbors}, {len(X)} rows."
            )
        self.fill_ = np.nanmedian(raw, axis=0)
        values = self._complete(X)
        self.center_, self.scale_ = location_scale(values, self.scaling)
        scaled = (values - self.center_) / self.scale_
        self.model_, self.training_scores_ = self._fit_model(scaled, check_minkowski_p(self.p))
        if self.threshold is not None:
            self.threshold_ = float(self.threshold)
        else:
            self.threshold_ = float(np.quantile(self.training_scores_, 1 - self.contamination))

    def _fit_model(self, scaled: np.ndarray, p: float) -> tuple[Any, np.ndarray]:
        """Fit the neighbour model; return it and the training scores (self excluded)."""
        raise NotImplementedError

    def _score_scaled(self, scaled: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        """Outlier scores of the rows of ``X`` against the training rows (higher = more
        outlying). A training row scored this way finds itself as its own neighbour;
        ``training_scores_`` holds the leave-self-out scores of the training rows."""
        frame = self._checked_input(X)
        return self._score_scaled((self._complete(frame) - self.center_) / self.scale_)

    def _flagged(self, X: pd.DataFrame, scores: np.ndarray) -> Change:
        outlying = scores > self.threshold_
        details = {
            "p": float(self.p),
            "n_neighbors": self.n_neighbors,
            "threshold": self.threshold_,
            "outliers": int(outlying.sum()),
            "columns": self.columns_,
        }
        if self.action == "drop":
            return Change(X.loc[~outlying], ~outlying, details)
        out = X.copy()
        out[self.flag_column_] = outlying
        return Change(out, None, details)

    def _change(self, X: pd.DataFrame) -> Change:
        scaled = (self._complete(X) - self.center_) / self.scale_
        return self._flagged(X, self._score_scaled(scaled))

    def _change_training(self, X: pd.DataFrame) -> Change:
        return self._flagged(X, self.training_scores_)

    def _output_columns(self, columns: list[Any]) -> list[Any]:
        return [*columns, self.flag_column_] if self.flag_column_ else columns


class KNNOutliers(_DistanceOutliers):
    """Outliers by distance to the k-th nearest neighbour under the Minkowski metric.

    Numeric columns are centred and scaled (:func:`~riskmoe.cleaning.scaling.location_scale`,
    fitted in fit); a row's score is its Minkowski-``p`` distance to its ``n_neighbors``-th
    nearest training row (Ramaswamy, Rastogi & Shim 2000); rows scoring above
    ``threshold_`` are outliers.

    Parameters
    ----------
    p : float, default 2.0
        Order of the Minkowski metric, ``>= 1``. On four real credit datasets with
        injected outliers ``p = 3`` found the most (``benchmarks/results/
        cleaning_minkowski.md``), but p other than 1 and 2 is several times slower, so
        the default stays 2.
    n_neighbors : int, default 5
    contamination : float, default 0.02
        Share of training rows expected to be outlying, in (0, 0.5]; sets ``threshold_``
        to the ``1 - contamination`` quantile of the training scores.
    threshold : float, optional
        A fixed score threshold instead (in scaled units); overrides ``contamination``.
    action : {"flag", "drop"}, default "flag"
    columns : sequence of str, optional
        Numeric columns to use (default: every numeric, non-boolean column).
    exclude : sequence of str, default ()
    scaling : {"robust", "standard"}, default "robust"
    flag_column : str, optional
        Default ``"outlier_knn"``.
    n_jobs : int, optional
        Parallel jobs for the neighbour search (scikit-learn's meaning).

    Attributes
    ----------
    center_, scale_ : ndarray
        The fitted scaling.
    fill_ : ndarray
        Training medians, used to fill missing cells for scoring only (with a
        :class:`~riskmoe.exceptions.DataQualityWarning`).
    model_ : sklearn.neighbors.NearestNeighbors
        Fitted on the scaled training rows.
    training_scores_ : ndarray
        Leave-self-out scores of the training rows (used by ``fit_transform``).
    threshold_ : float

    Notes
    -----
    ``transform`` scores new rows against the training rows; a training row passed to
    ``transform`` finds itself at distance 0, so ``transform(X_train)`` flags fewer rows
    than ``fit_transform(X_train)``.

    References
    ----------
    Ramaswamy, S., Rastogi, R., Shim, K. (2000). Efficient algorithms for mining outliers
    from large data sets. SIGMOD.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 40.0], "b": [1.0, 2.0] * 3})
    >>> KNNOutliers(p=1, n_neighbors=2, threshold=5.0).fit_transform(X)["outlier_knn"].tolist()
    [False, False, False, False, False, True]
    """

    method = "knn"
    default_flag = "outlier_knn"

    def __init__(
        self,
        p: float = 2.0,
        n_neighbors: int = 5,
        contamination: float = 0.02,
        threshold: float | None = None,
        action: DistanceAction = "flag",
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        scaling: ScalingMethod = "robust",
        flag_column: str | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.p = p
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.threshold = threshold
        self.action = action
        self.columns = columns
        self.exclude = exclude
        self.scaling = scaling
        self.flag_column = flag_column
        self.n_jobs = n_jobs

    def _fit_model(self, scaled: np.ndarray, p: float) -> tuple[Any, np.ndarray]:
        model = NearestNeighbors(
            n_neighbors=self.n_neighbors, metric="minkowski", p=p, n_jobs=self.n_jobs
        )
        model.fit(scaled)
        distances, _ = model.kneighbors()  # no argument: each row's own point is excluded
        return model, distances[:, -1]

    def _score_scaled(self, scaled: np.ndarray) -> np.ndarray:
        distances, _ = self.model_.kneighbors(scaled)
        return distances[:, -1]


class LOFOutliers(_DistanceOutliers):
    """Outliers by the Local Outlier Factor under the Minkowski metric.

    Same scaling and thresholding as :class:`KNNOutliers`; the score is scikit-learn's
    LOF (``-negative_outlier_factor_`` for training rows, ``-score_samples`` for new
    rows, ``novelty=True``): about 1 inside clusters, larger for isolated rows.

    Parameters
    ----------
    p : float, default 2.0
    n_neighbors : int, default 20
        scikit-learn's default; Breunig et al. suggest 10 to 50.
    contamination, threshold, action, columns, exclude, scaling, n_jobs
        As for :class:`KNNOutliers`.
    flag_column : str, optional
        Default ``"outlier_lof"``.

    Notes
    -----
    Rows with many exact duplicates have a near-zero reachability distance, which can
    give their neighbours very large LOF values; deduplicate first or raise
    ``n_neighbors``.

    References
    ----------
    Breunig, M. M., Kriegel, H.-P., Ng, R. T., Sander, J. (2000). LOF: identifying
    density-based local outliers. SIGMOD.
    """

    method = "lof"
    default_flag = "outlier_lof"

    def __init__(
        self,
        p: float = 2.0,
        n_neighbors: int = 20,
        contamination: float = 0.02,
        threshold: float | None = None,
        action: DistanceAction = "flag",
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        scaling: ScalingMethod = "robust",
        flag_column: str | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.p = p
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.threshold = threshold
        self.action = action
        self.columns = columns
        self.exclude = exclude
        self.scaling = scaling
        self.flag_column = flag_column
        self.n_jobs = n_jobs

    def _fit_model(self, scaled: np.ndarray, p: float) -> tuple[Any, np.ndarray]:
        model = LocalOutlierFactor(
            n_neighbors=self.n_neighbors, metric="minkowski", p=p, novelty=True, n_jobs=self.n_jobs
        )
        model.fit(scaled)
        return model, -model.negative_outlier_factor_

    def _score_scaled(self, scaled: np.ndarray) -> np.ndarray:
        return -self.model_.score_samples(scaled)
