"""Missing values: drop sparse rows or columns, impute with statistics learned in fit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from riskmoe.cleaning.step import (
    Change,
    CleaningStep,
    check_share,
    require_columns,
)
from riskmoe.exceptions import DataError, SchemaError

__all__ = ["DropMissingColumns", "DropMissingRows", "ImputeStrategy", "Imputer"]

ImputeStrategy = Literal["mean", "median", "mode"]
_STRATEGIES: tuple[str, ...] = get_args(ImputeStrategy)


class DropMissingColumns(CleaningStep):
    """Drop columns whose share of missing cells in the training data exceeds a threshold.

    Which columns to drop is decided in ``fit``; ``transform`` drops the same columns
    from any frame, whatever their missing share there.

    Parameters
    ----------
    threshold : float, default 0.5
        A column is dropped when its missing share is strictly greater than this, in [0, 1].
    columns : sequence of str, optional
        Columns eligible for dropping (default: all).

    Attributes
    ----------
    missing_share_ : dict
        Training missing share of each eligible column.
    columns_to_drop_ : list
        Columns dropped by ``transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, None, None], "b": [1.0, 2.0, None]})
    >>> DropMissingColumns(threshold=0.5).fit_transform(X).columns.tolist()
    ['b']
    """

    def __init__(self, threshold: float = 0.5, columns: Sequence[str] | None = None) -> None:
        self.threshold = threshold
        self.columns = columns

    def _validate_arguments(self) -> None:
        check_share(self.threshold, "threshold")

    def _learn(self, X: pd.DataFrame) -> None:
        columns = list(X.columns) if self.columns is None else list(self.columns)
        require_columns(X, columns, type(self).__name__)
        share = X[columns].isna().mean() if len(X) else pd.Series(0.0, index=columns)
        self.missing_share_ = {c: float(share[c]) for c in columns}
        self.columns_to_drop_ = [c for c in columns if share[c] > self.threshold]

    def _change(self, X: pd.DataFrame) -> Change:
        details = {
            "threshold": self.threshold,
            "dropped": {c: self.missing_share_[c] for c in self.columns_to_drop_},
        }
        return Change(X.drop(columns=self.columns_to_drop_), None, details)

    def _output_columns(self, columns: list[Any]) -> list[Any]:
        return [c for c in columns if c not in set(self.columns_to_drop_)]


class DropMissingRows(CleaningStep):
    """Drop rows whose share of missing cells exceeds a threshold.

    The rule is per row, so nothing is learned beyond the columns to look at; ``transform``
    drops rows of new data by the same rule (and so may return fewer rows).

    Parameters
    ----------
    threshold : float, default 0.5
        A row is dropped when its missing share over ``columns`` is strictly greater than
        this, in [0, 1]. ``0`` drops every row with any missing cell.
    columns : sequence of str, optional
        Columns the share is computed over (default: all).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, None, None], "b": [1.0, 2.0, None]})
    >>> DropMissingRows(threshold=0.5).fit_transform(X).index.tolist()
    [0, 1]
    """

    def __init__(self, threshold: float = 0.5, columns: Sequence[str] | None = None) -> None:
        self.threshold = threshold
        self.columns = columns

    def _validate_arguments(self) -> None:
        check_share(self.threshold, "threshold")

    def _learn(self, X: pd.DataFrame) -> None:
        columns = list(X.columns) if self.columns is None else list(self.columns)
        require_columns(X, columns, type(self).__name__)
        if not columns:
            raise ValueError("DropMissingRows needs at least one column; got none.")
        self.columns_ = columns

    def _change(self, X: pd.DataFrame) -> Change:
        share = X[self.columns_].isna().mean(axis=1).to_numpy()
        kept = share <= self.threshold
        return Change(X.loc[kept], kept, {"threshold": self.threshold})


class Imputer(CleaningStep):
    """Fill missing cells with a per-column statistic learned in ``fit``.

    Parameters
    ----------
    strategy : dict of str to {"mean", "median", "mode"}, optional
        Per-column policy; columns not named get the default for their dtype.
    numeric : {"mean", "median", "mode"}, default "median"
        Default for numeric (non-boolean) columns.
    categorical : {"mode"}, default "mode"
        Default for every other column (categories, strings, booleans).
    columns : sequence of str, optional
        Columns to impute (default: all). A statistic is learned for each of them, even
        one without missing cells in the training data, so new data can be filled.

    Attributes
    ----------
    strategy_ : dict
        The strategy used for each column.
    statistics_ : dict
        The fill value of each column, learned on the training frame only.

    Raises
    ------
    ValueError
        For an unknown strategy.
    SchemaError
        For a named column that is missing, or mean / median asked of a non-numeric column.
    DataError
        For a column with no observed value in the training data.

    Notes
    -----
    ``mode`` picks the most frequent value; ties go to the smallest value (pandas'
    ``Series.mode`` order). A non-integer mean or median filled into a nullable integer
    column turns it into ``Float64``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 10.0, None], "c": ["a", "b", "a", None]})
    >>> imp = Imputer().fit(X)
    >>> imp.statistics_
    {'x': 2.0, 'c': 'a'}
    >>> imp.transform(pd.DataFrame({"x": [None], "c": [None]})).iloc[0].tolist()
    [2.0, 'a']
    """

    def __init__(
        self,
        strategy: Mapping[str, ImputeStrategy] | None = None,
        numeric: ImputeStrategy = "median",
        categorical: Literal["mode"] = "mode",
        columns: Sequence[str] | None = None,
    ) -> None:
        self.strategy = strategy
        self.numeric = numeric
        self.categorical = categorical
        self.columns = columns

    def _validate_arguments(self) -> None:
        for name, value in (("numeric", self.numeric), ("categorical", self.categorical)):
            allowed = _STRATEGIES if name == "numeric" else ("mode",)
            if value not in allowed:
                raise ValueError(
                    f"unknown {name} imputation strategy {value!r}; choose one of {allowed}."
                )
        for column, value in dict(self.strategy or {}).items():
            if value not in _STRATEGIES:
                raise ValueError(
                    f"unknown imputation strategy {value!r} for column {column!r}; "
                    f"choose one of {_STRATEGIES}."
                )

    def _learn(self, X: pd.DataFrame) -> None:
        owner = type(self).__name__
        columns = list(X.columns) if self.columns is None else list(self.columns)
        policy = dict(self.strategy or {})
        require_columns(X, columns, owner)
        require_columns(X, policy, owner)
        outside = [c for c in policy if c not in columns]
        if outside:
            raise SchemaError(f"{owner}: strategy names column(s) {outside} not in `columns`.")
        self.strategy_: dict[Any, str] = {}
        self.statistics_: dict[Any, Any] = {}
        for column in columns:
            series = X[column]
            numeric = pd.api.types.is_numeric_dtype(series.dtype) and not (
                pd.api.types.is_bool_dtype(series.dtype)
            )
            how = policy.get(column, self.numeric if numeric else self.categorical)
            if how in ("mean", "median") and not numeric:
                raise SchemaError(
                    f"{owner}: column {column!r} has dtype {series.dtype}; strategy {how!r} "
                    f"needs a numeric column (use 'mode')."
                )
            observed = series.dropna()
            if observed.empty:
                raise DataError(
                    f"{owner}: column {column!r} has no observed value in the training data, "
                    f"so its {how} cannot be learned; drop it first (DropMissingColumns)."
                )
            if how == "mean":
                value: Any = float(observed.mean())
            elif how == "median":
                value = float(observed.median())
            else:
                value = observed.mode().iloc[0]
                value = value.item() if isinstance(value, np.generic) else value
            self.strategy_[column] = how
            self.statistics_[column] = value

    def _change(self, X: pd.DataFrame) -> Change:
        out = X.copy()
        for column, value in self.statistics_.items():
            series = out[column]
            if not series.isna().any():
                continue
            dtype = series.dtype
            if isinstance(dtype, pd.CategoricalDtype) and value not in dtype.categories:
                series = series.cat.add_categories([value])
            elif (
                pd.api.types.is_integer_dtype(dtype)
                and isinstance(value, float)
                and not value.is_integer()
            ):
                series = series.astype("Float64")
            out[column] = series.fillna(value)
        details = {"strategy": self.strategy_, "statistics": self.statistics_}
        return Change(out, None, details)
