"""Raw frame -> arrays: column typing, imputation, missing indicators, quantile bins, vocabularies.

The encoder takes a frame the way LightGBM does (numeric columns with NaN, pandas
``category`` and string columns) and produces three arrays the embedding layers read.
Its whole state is plain JSON (:meth:`TabularEncoder.to_dict`), so a saved model needs
no pickle.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from riskmoe.exceptions import NotFittedError, SchemaError

__all__ = [
    "MISSING_INDEX",
    "UNSEEN_INDEX",
    "CategoricalColumn",
    "EncodedFrame",
    "NumericColumn",
    "TabularEncoder",
]

#: Index of a category not seen at fit time (its embedding is a fixed zero vector).
UNSEEN_INDEX = 0
#: Index of a missing categorical value.
MISSING_INDEX = 1
_FIRST_CATEGORY = 2


class EncodedFrame(NamedTuple):
    """The arrays a frame is encoded into.

    Attributes
    ----------
    numeric : ndarray of float32, shape (n_rows, n_numeric)
        Numeric values with NaN replaced by the training median (infinities kept; the
        embeddings clip them to the outermost bin).
    missing : ndarray of float32, shape (n_rows, n_numeric)
        1.0 where the numeric value was missing, else 0.0.
    categorical : ndarray of int64, shape (n_rows, n_categorical)
        Category index: 0 unseen at fit, 1 missing, 2.. the training vocabulary.
    """

    numeric: np.ndarray
    missing: np.ndarray
    categorical: np.ndarray


@dataclass(frozen=True)
class NumericColumn:
    """Encoding state of one numeric column.

    Parameters
    ----------
    name : str
        Column name.
    fill_value : float
        Median of the finite training values (0.0 when there were none).
    edges : tuple of float
        Strictly increasing bin edges: the unique training quantiles (at least two).
    """

    name: str
    fill_value: float
    edges: tuple[float, ...]


@dataclass(frozen=True)
class CategoricalColumn:
    """Encoding state of one categorical column.

    Parameters
    ----------
    name : str
        Column name.
    categories : tuple of str
        Training vocabulary (values as strings); category ``i`` has index ``i + 2``.
    mode : str or None
        Most frequent training value, the baseline for attributions (None if the column
        was entirely missing).
    """

    name: str
    categories: tuple[str, ...]
    mode: str | None


def _is_numeric_series(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return not pd.api.types.is_complex_dtype(s.dtype)
    if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
        values = s.dropna()
        if values.empty:
            return True
        converted = pd.to_numeric(values.astype(object), errors="coerce")
        return bool(converted.notna().all())
    return False


def _check_supported_dtype(name: str, s: pd.Series) -> None:
    dtype = s.dtype
    if pd.api.types.is_complex_dtype(dtype):
        raise SchemaError(
            f"column {name!r} has dtype {dtype}: Complex data not supported; "
            "use numeric, boolean, string or category columns."
        )
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
    ):
        raise SchemaError(
            f"column {name!r} has dtype {dtype}, which the encoder cannot use; convert it to "
            "a number (e.g. days since an origin) or drop it."
        )


def _as_float(name: str, s: pd.Series) -> np.ndarray:
    """Numeric values as float64; raise SchemaError if text hides in the column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype)
    ):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_complex_dtype(s.dtype):
        raise SchemaError(f"column {name!r} has dtype {s.dtype}: Complex data not supported.")
    obj = s.astype(object)
    converted = pd.to_numeric(obj, errors="coerce")
    bad = converted.isna() & obj.notna()
    if bool(bad.any()):
        examples = ", ".join(repr(v) for v in obj[bad].unique()[:3])
        raise SchemaError(
            f"column {name!r} was numeric at fit time but holds non-numeric values "
            f"({int(bad.sum())} rows, e.g. {examples}); pass numbers or NaN."
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _as_keys(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category keys as an object array of str, and the missing mask."""
    missing = s.isna().to_numpy()
    if isinstance(s.dtype, pd.CategoricalDtype):
        names = np.array([str(c) for c in s.cat.categories] + [""], dtype=object)
        keys = names[s.cat.codes.to_numpy()]
    else:
        keys = np.array([str(v) for v in s.to_numpy(dtype=object)], dtype=object)
    keys = np.array(keys, dtype=object)
    keys[missing] = ""
    return keys, missing


@functools.lru_cache(maxsize=4096)
def _vocabulary(categories: tuple[str, ...]) -> pd.Index:
    """The lookup index of a fitted vocabulary, built once (scoring one record at a time
    would otherwise rebuild it on every call)."""
    return pd.Index(list(categories), dtype=object)


def _quantile_edges(values: np.ndarray, n_bins: int) -> tuple[float, ...]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-0.5, 0.5)
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_bins + 1)))
    if edges.size < 2:
        # a constant column: one bin around the constant
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return tuple(float(e) for e in edges)


class TabularEncoder:
    """Encode a raw frame into numeric, missing-indicator and category-index arrays.

    Numeric columns (numbers, booleans, or text that parses entirely as numbers) keep
    their values with NaN imputed by the training median and flagged in ``missing``;
    their bin edges are the training quantiles, from which the embedding layers build a
    quantile / piecewise-linear encoding. ``category`` and other text columns become
    vocabulary indices; an unseen category maps to a reserved index.

    Parameters
    ----------
    n_bins : int, default=32
        Number of quantile bins per numeric column (fewer when a column has fewer
        distinct values).
    min_frequency : int, default=1
        Categories seen in fewer training rows stay out of the vocabulary and share the
        unseen index (a zero embedding) at fit and predict time alike, like
        scikit-learn's ``OneHotEncoder(min_frequency=...)``: an embedding learnt from a
        handful of rows is noise (e.g. Lending Club's 800 three-digit zip codes).

    Attributes
    ----------
    columns_ : tuple of str
        Training columns in frame order.
    numeric_ : tuple of NumericColumn
    categorical_ : tuple of CategoricalColumn

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, None, 3.0], "c": pd.Categorical(["a", "b", "a"])})
    >>> enc = TabularEncoder(n_bins=4).fit(frame)
    >>> out = enc.transform(pd.DataFrame({"x": [None], "c": ["zzz"]}))
    >>> out.numeric.tolist(), out.missing.tolist(), out.categorical.tolist()
    ([[2.0]], [[1.0]], [[0]])
    """

    def __init__(self, n_bins: int = 32, min_frequency: int = 1) -> None:
        self.n_bins = n_bins
        self.min_frequency = min_frequency

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, frame: pd.DataFrame) -> TabularEncoder:
        """Learn column kinds, fill values, quantile edges and vocabularies.

        Parameters
        ----------
        frame : pandas.DataFrame
            Training features; column names must be strings.

        Returns
        -------
        TabularEncoder
            ``self``.

        Raises
        ------
        SchemaError
            For unsupported dtypes (complex, datetime, period, interval).
        ValueError
            If ``n_bins < 1``, ``min_frequency < 1`` or the frame is empty.
        """
        if self.n_bins < 1:
            raise ValueError(f"n_bins must be >= 1; got n_bins={self.n_bins}.")
        if self.min_frequency < 1:
            raise ValueError(f"min_frequency must be >= 1; got min_frequency={self.min_frequency}.")
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(
                f"cannot fit the encoder on an empty frame (shape={frame.shape}); "
                "it needs at least one row and one column."
            )
        numeric: list[NumericColumn] = []
        categorical: list[CategoricalColumn] = []
        for name in frame.columns:
            s = frame[name]
            _check_supported_dtype(name, s)
            if _is_numeric_series(s):
                values = _as_float(name, s)
                finite = values[np.isfinite(values)]
                fill = float(np.median(finite)) if finite.size else 0.0
                numeric.append(NumericColumn(name, fill, _quantile_edges(values, self.n_bins)))
            else:
                keys, missing = _as_keys(s)
                present = pd.Series(keys[~missing])
                counts = present.value_counts(sort=False)
                counts = counts[counts >= self.min_frequency]
                categories = tuple(sorted(str(k) for k in counts.index))
                mode = str(counts.idxmax()) if len(counts) else None
                if mode is not None:
                    # ties resolved by the sorted order so the baseline is deterministic
                    top = counts[counts == counts.max()].index
                    mode = min(str(k) for k in top)
                categorical.append(CategoricalColumn(name, categories, mode))
        self.columns_ = tuple(str(c) for c in frame.columns)
        self.numeric_ = tuple(numeric)
        self.categorical_ = tuple(categorical)
        return self

    # -- reading the state -----------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise NotFittedError("This TabularEncoder is not fitted yet; call fit first.")

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Token order of the embeddings: numeric columns, then categorical columns."""
        self._check_fitted()
        return tuple(c.name for c in self.numeric_) + tuple(c.name for c in self.categorical_)

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """Embedding table size per categorical column (vocabulary + unseen + missing)."""
        self._check_fitted()
        return tuple(len(c.categories) + _FIRST_CATEGORY for c in self.categorical_)

    def bin_edges(self) -> list[tuple[float, ...]]:
        """Quantile bin edges per numeric column."""
        self._check_fitted()
        return [c.edges for c in self.numeric_]

    # -- transforming ----------------------------------------------------------------------

    def check_columns(self, frame: pd.DataFrame) -> None:
        """Raise SchemaError naming columns that are missing or were not seen at fit time.

        Parameters
        ----------
        frame : pandas.DataFrame

        Raises
        ------
        SchemaError
            Listing missing and unknown columns.
        """
        self._check_fitted()
        have = [str(c) for c in frame.columns]
        missing = [c for c in self.columns_ if c not in set(have)]
        unknown = [c for c in have if c not in set(self.columns_)]
        duplicated = sorted({c for c in have if have.count(c) > 1})
        problems = []
        if missing:
            problems.append("missing columns seen at fit time: " + ", ".join(map(repr, missing)))
        if unknown:
            problems.append("columns not seen at fit time: " + ", ".join(map(repr, unknown)))
        if duplicated:
            problems.append(f"duplicated columns: {', '.join(map(repr, duplicated))}")
        if problems:
            raise SchemaError("X does not match the training columns: " + "; ".join(problems) + ".")

    def transform(self, frame: pd.DataFrame) -> EncodedFrame:
        """Encode a frame with the fitted state; columns are matched by name.

        Parameters
        ----------
        frame : pandas.DataFrame

        Returns
        -------
        EncodedFrame

        Raises
        ------
        SchemaError
            For missing or unknown columns, or text in a column that was numeric at fit.
        NotFittedError
            If called before :meth:`fit`.
        """
        self.check_columns(frame)
        n = frame.shape[0]
        numeric = np.empty((n, len(self.numeric_)), dtype=np.float32)
        missing = np.zeros((n, len(self.numeric_)), dtype=np.float32)
        for j, col in enumerate(self.numeric_):
            values = np.array(_as_float(col.name, frame[col.name]), dtype=np.float64)
            nan = np.isnan(values)
            values[nan] = col.fill_value
            numeric[:, j] = values
            missing[:, j] = nan
        categorical = np.empty((n, len(self.categorical_)), dtype=np.int64)
        for j, cat in enumerate(self.categorical_):
            s = frame[cat.name]
            _check_supported_dtype(cat.name, s)
            keys, nan = _as_keys(s)
            vocab = _vocabulary(cat.categories)
            codes = vocab.get_indexer(pd.Index(keys, dtype=object)).astype(np.int64)
            idx = np.where(codes >= 0, codes + _FIRST_CATEGORY, UNSEEN_INDEX)
            idx[nan] = MISSING_INDEX
            categorical[:, j] = idx
        return EncodedFrame(numeric, missing, categorical)

    def baseline(self) -> EncodedFrame:
        """One reference row: numeric medians (not missing) and categorical modes.

        Returns
        -------
        EncodedFrame
            Arrays with one row; the reference for integrated-gradients attributions.
        """
        self._check_fitted()
        numeric = np.array([[c.fill_value for c in self.numeric_]], dtype=np.float32)
        missing = np.zeros_like(numeric)
        cats = []
        for c in self.categorical_:
            if c.mode is None:
                cats.append(MISSING_INDEX)
            else:
                cats.append(c.categories.index(c.mode) + _FIRST_CATEGORY)
        categorical = np.array([cats], dtype=np.int64).reshape(1, len(self.categorical_))
        return EncodedFrame(numeric, missing, categorical)

    # -- JSON state ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as plain JSON (no pickle)."""
        self._check_fitted()
        return {
            "n_bins": self.n_bins,
            "min_frequency": self.min_frequency,
            "columns": list(self.columns_),
            "numeric": [
                {"name": c.name, "fill_value": c.fill_value, "edges": list(c.edges)}
                for c in self.numeric_
            ],
            "categorical": [
                {"name": c.name, "categories": list(c.categories), "mode": c.mode}
                for c in self.categorical_
            ],
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`to_dict` output.

        Raises
        ------
        SchemaError
            If the state is malformed.
        """
        try:
            # states written before min_frequency existed kept every category
            enc = cls(n_bins=int(state["n_bins"]), min_frequency=int(state.get("min_frequency", 1)))
            enc.columns_ = tuple(str(c) for c in state["columns"])
            enc.numeric_ = tuple(
                NumericColumn(
                    str(c["name"]), float(c["fill_value"]), tuple(float(e) for e in c["edges"])
                )
                for c in state["numeric"]
            )
            enc.categorical_ = tuple(
                CategoricalColumn(
                    str(c["name"]),
                    tuple(str(v) for v in c["categories"]),
                    None if c["mode"] is None else str(c["mode"]),
                )
                for c in state["categorical"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"malformed encoder state: {exc!r}") from exc
        return enc
