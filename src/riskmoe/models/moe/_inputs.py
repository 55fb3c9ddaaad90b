"""Checks and conversions for what callers pass to fit / predict: X, y, auxiliary targets.

Frames are used as given (columns matched by name); arrays go through scikit-learn's
``check_array`` (its messages for sparse, complex, 1-d and empty input) and become frames
with columns ``x0, x1, ...``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from riskmoe.exceptions import DataError, SchemaError

__all__ = ["AuxTask", "as_frame", "encode_aux_targets", "encode_target", "positional_names"]


def positional_names(n: int) -> list[str]:
    """Column names given to array input: ``x0 .. x{n-1}``."""
    return [f"x{i}" for i in range(n)]


def as_frame(X: Any) -> tuple[pd.DataFrame, bool]:
    """Return ``(frame, has_names)``: a DataFrame view of X and whether X had string names.

    Raises
    ------
    DataError
        For an empty frame (no rows or no columns).
    SchemaError
        For a frame mixing string and non-string column names.
    ValueError, TypeError
        From ``check_array`` for sparse, complex, 1-d or empty arrays.
    """
    if isinstance(X, pd.DataFrame):
        names = list(X.columns)
        is_str = [isinstance(c, str) for c in names]
        if any(is_str) and not all(is_str):
            odd = [repr(c) for c, s in zip(names, is_str, strict=True) if not s][:5]
            raise SchemaError(
                f"X column names must all be strings; got non-string names {', '.join(odd)}."
            )
        has_names = bool(names) and all(is_str)
        frame = X if has_names else X.set_axis(positional_names(X.shape[1]), axis=1)
        if frame.shape[0] == 0:
            raise DataError(
                f"X is empty: 0 rows (shape={frame.shape}); at least 1 sample is required."
            )
        if frame.shape[1] == 0:
            raise DataError(
                f"Found array with 0 feature(s) (shape=({frame.shape[0]}, 0)) while a minimum "
                "of 1 is required: X has no columns."
            )
        return frame, has_names
    arr = check_array(
        X,
        accept_sparse=False,
        dtype=None,
        ensure_all_finite=False,
        ensure_2d=True,
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name="X",
    )
    return pd.DataFrame(arr, columns=positional_names(arr.shape[1]), copy=False), False


def align_columns(
    frame: pd.DataFrame,
    has_names: bool,
    fitted_names: list[str],
    fitted_with_names: bool,
    estimator: str,
) -> pd.DataFrame:
    """Give ``frame`` the training column names (by name, or by position for arrays).

    Raises
    ------
    ValueError
        When positional input has the wrong number of columns.
    """
    if has_names and fitted_with_names:
        return frame  # matched by name in the encoder, which names any mismatch
    if frame.shape[1] != len(fitted_names):
        raise ValueError(
            f"X has {frame.shape[1]} features, but {estimator} is expecting "
            f"{len(fitted_names)} features as input."
        )
    if has_names:
        warnings.warn(
            f"X has feature names, but {estimator} was fitted without feature names; "
            "columns are taken by position.",
            UserWarning,
            stacklevel=3,
        )
    elif fitted_with_names:
        warnings.warn(
            f"X does not have valid feature names, but {estimator} was fitted with feature "
            "names; columns are taken by position.",
            UserWarning,
            stacklevel=3,
        )
    return frame.set_axis(fitted_names, axis=1)


def _check_finite_target(values: np.ndarray, name: str) -> None:
    if values.dtype.kind in "fc":
        bad_nan = np.isnan(values)
        bad_inf = np.isinf(values)
    elif values.dtype.kind == "O":
        bad_nan = pd.isna(values)
        bad_inf = np.array([isinstance(v, float) and np.isinf(v) for v in values], dtype=bool)
    else:
        return
    if bad_nan.any():
        first = int(np.flatnonzero(bad_nan)[0])
        raise DataError(
            f"{name} contains {int(bad_nan.sum())} NaN value(s) (first at position {first}); "
            "the target must be complete."
        )
    if bad_inf.any():
        first = int(np.flatnonzero(bad_inf)[0])
        raise DataError(
            f"{name} contains {int(bad_inf.sum())} infinite value(s) (first at position {first}); "
            "the target must be finite."
        )


def encode_target(y: Any, n_rows: int, estimator: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary target; return ``(y01 float32, classes_)``.

    Raises
    ------
    ValueError
        If y is None, of the wrong length, continuous, multiclass, or has one class.
    DataError
        If y holds NaN or infinity.
    """
    if y is None:
        raise ValueError(f"{estimator} requires y to be passed, but the target y is None.")
    if isinstance(y, pd.Series | pd.DataFrame):
        y = y.to_numpy()
    values = column_or_1d(np.asarray(y), warn=True)
    _check_finite_target(values, "y")
    if values.shape[0] != n_rows:
        raise ValueError(
            f"X has {n_rows} rows but y has {values.shape[0]} values; they must match."
        )
    kind = type_of_target(values, input_name="y", raise_unknown=True)
    if kind == "continuous":
        raise ValueError(
            "Unknown label type: continuous. y must hold two classes (e.g. 0/1 default "
            "flags), not a continuous value."
        )
    if kind != "binary":
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind}."
        )
    classes = np.unique(values)
    if classes.size < 2:
        only = classes[0].item() if isinstance(classes[0], np.generic) else classes[0]
        raise ValueError(
            f"y contains only one class ({only!r}); the classifier needs both classes "
            "of a binary target."
        )
    return (values == classes[1]).astype(np.float32), classes


@dataclass(frozen=True)
class AuxTask:
    """An auxiliary target: its name, kind and the numbers that map outputs back.

    Parameters
    ----------
    name : str
    kind : {"binary", "regression"}
    positive : str or float or None
        Binary: the value that counts as 1.
    mean, std : float
        Regression: the standardisation applied while training.
    """

    name: str
    kind: str
    positive: Any = None
    mean: float = 0.0
    std: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        positive = self.positive.item() if isinstance(self.positive, np.generic) else self.positive
        return {
            "name": self.name,
            "kind": self.kind,
            "positive": positive,
            "mean": self.mean,
            "std": self.std,
        }


def encode_aux_targets(
    aux: pd.DataFrame | Mapping[str, Any] | None, n_rows: int
) -> tuple[list[AuxTask], np.ndarray, np.ndarray]:
    """Validate auxiliary targets; return tasks, targets (n, T) and mask (n, T).

    A target with two distinct values (numbers or labels) is binary; any other numeric
    target is a regression target, standardised. Missing values are allowed (masked).

    Raises
    ------
    ValueError
        For a wrong length, text with more than two values, infinity, or an all-missing
        target.
    """
    if aux is None:
        return [], np.zeros((n_rows, 0), np.float32), np.zeros((n_rows, 0), np.float32)
    if isinstance(aux, pd.DataFrame):
        items = [(str(c), aux[c]) for c in aux.columns]
    elif isinstance(aux, Mapping):
        items = [(str(k), v) for k, v in aux.items()]
    else:
        raise ValueError(
            f"aux_targets must be a DataFrame or a mapping of name to values; got "
            f"{type(aux).__name__}."
        )
    tasks: list[AuxTask] = []
    targets = np.zeros((n_rows, len(items)), np.float32)
    mask = np.zeros((n_rows, len(items)), np.float32)
    for j, (name, raw) in enumerate(items):
        s = pd.Series(np.asarray(raw) if not isinstance(raw, pd.Series) else raw.to_numpy())
        if s.shape[0] != n_rows:
            raise ValueError(
                f"aux target {name!r} has {s.shape[0]} values but X has {n_rows} rows."
            )
        known = s.notna().to_numpy()
        if not known.any():
            raise ValueError(f"aux target {name!r} is entirely missing.")
        distinct = pd.unique(s[known])
        if len(distinct) == 2:
            numeric = pd.api.types.is_numeric_dtype(s.dtype)
            positive = max(distinct) if numeric else max(distinct, key=str)
            targets[:, j] = (s == positive).to_numpy(dtype=np.float32)
            tasks.append(AuxTask(name, "binary", positive=positive))
        else:
            if not pd.api.types.is_numeric_dtype(s.dtype):
                raise ValueError(
                    f"aux target {name!r} holds {len(distinct)} distinct non-numeric values; "
                    "auxiliary targets must be binary or numeric."
                )
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isinf(v).any():
                raise ValueError(f"aux target {name!r} contains infinite values.")
            mean = float(np.nanmean(v))
            std = float(np.nanstd(v)) or 1.0
            targets[:, j] = np.where(known, (np.nan_to_num(v) - mean) / std, 0.0)
            tasks.append(AuxTask(name, "regression", mean=mean, std=std))
        mask[:, j] = known
    return tasks, targets, mask
