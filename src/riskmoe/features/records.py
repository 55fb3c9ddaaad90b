"""Records (field -> value mappings, as JSON brings them) -> the encoder's arrays, without
a DataFrame.

Scoring one record through :meth:`TabularEncoder.transform` spends milliseconds building
and inspecting pandas objects for a single row. :class:`RecordEncoder` reads the same
fitted state (fill values, vocabularies) and encodes plain values -- numbers and
``None`` in numeric columns, text and ``None`` in categorical ones -- with numpy and
dict look-ups. Anything else (text in a numeric column, booleans, numbers in a
categorical column, numpy scalars...) goes through :meth:`TabularEncoder.transform`
itself, so the numbers, the validation and the error messages are those of the frame
path by construction; the fast path is checked against it bit for bit in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.exceptions import NotFittedError, SchemaError
from riskmoe.features.encoder import (
    _FIRST_CATEGORY,
    MISSING_INDEX,
    UNSEEN_INDEX,
    EncodedFrame,
    TabularEncoder,
)

__all__ = ["RecordEncoder"]

# a Python int converts to the same float64 as pandas' int64 column only below 2**53
# (beyond it pandas may pick uint64 or object dtype); larger ones take the frame path
_EXACT_INT = 2**53


def _plain_number(v: Any) -> bool:
    t = type(v)
    return t is float or (t is int and -_EXACT_INT < v < _EXACT_INT)


class RecordEncoder:
    """Encode records with a fitted :class:`TabularEncoder`'s state, as its
    :meth:`~TabularEncoder.transform` would encode the frame of those records.

    Parameters
    ----------
    encoder : TabularEncoder
        A fitted encoder; its state is read once (vocabularies become dicts).

    Raises
    ------
    NotFittedError
        If ``encoder`` is not fitted.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, None, 3.0], "c": ["a", "b", "a"]})
    >>> enc = TabularEncoder(n_bins=4).fit(frame)
    >>> out = RecordEncoder(enc).encode([{"x": None, "c": "zzz"}, {"x": 3, "c": "b"}])
    >>> out.numeric.tolist(), out.missing.tolist(), out.categorical.tolist()
    ([[2.0], [3.0]], [[1.0], [0.0]], [[0], [3]])
    """

    def __init__(self, encoder: TabularEncoder) -> None:
        if not hasattr(encoder, "columns_"):
            raise NotFittedError("This TabularEncoder is not fitted yet; call fit first.")
        self.encoder = encoder
        #: the training columns, in training order
        self.columns: tuple[str, ...] = encoder.columns_
        self._numeric = tuple(c.name for c in encoder.numeric_)
        self._fill = np.array([c.fill_value for c in encoder.numeric_], dtype=np.float64)
        self._categorical = tuple(c.name for c in encoder.categorical_)
        self._index = tuple(
            {value: i + _FIRST_CATEGORY for i, value in enumerate(c.categories)}
            for c in encoder.categorical_
        )

    def missing_fields(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Training columns absent from at least one record, sorted."""
        return sorted({c for rec in records for c in self.columns if c not in rec})

    def frame(self, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """The frame of ``records``: the training columns in training order (other fields
        are ignored), each built from the records' values as pandas infers them."""
        return pd.DataFrame({c: [rec[c] for rec in records] for c in self.columns})

    def encode(self, records: Sequence[Mapping[str, Any]]) -> EncodedFrame:
        """The arrays :meth:`TabularEncoder.transform` gives for ``self.frame(records)``.

        Parameters
        ----------
        records : sequence of mapping
            Field name -> value; every training column must be present, other fields
            are ignored.

        Returns
        -------
        EncodedFrame

        Raises
        ------
        SchemaError
            When a record lacks a training column (all missing ones are named), or, from
            :meth:`TabularEncoder.transform`, for text in a numeric column or a value of
            a type the encoder cannot use.
        """
        plain = self.encode_plain(records)
        if plain is not None:
            return plain
        # a value outside the plain JSON kinds: the frame path decides what it means
        return self.encoder.transform(self.frame(records))

    def encode_plain(self, records: Sequence[Mapping[str, Any]]) -> EncodedFrame | None:
        """The arrays of :meth:`encode` computed with numpy alone, or None when a value is
        not plain (a number or ``None`` in a numeric column, text, ``None`` or NaN in a
        categorical one) and :meth:`encode` would use the frame path.

        Raises
        ------
        SchemaError
            When a record lacks a training column.
        """
        absent = self.missing_fields(records)
        if absent:
            raise SchemaError(
                f"records lack {len(absent)} field(s) the encoder was fitted on: "
                f"{absent[:10]}; it needs {len(self.columns)} fields."
            )
        numeric = self._numeric_values(records)
        if numeric is None:
            return None
        categorical = self._category_indices(records)
        if categorical is None:
            return None
        nan = np.isnan(numeric)
        filled = np.where(nan, self._fill, numeric)
        return EncodedFrame(filled.astype(np.float32), nan.astype(np.float32), categorical)

    def _numeric_values(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
        """float64 values (NaN where missing), or None when one is not a plain number."""
        out = np.empty((len(records), len(self._numeric)), dtype=np.float64)
        for j, name in enumerate(self._numeric):
            for i, rec in enumerate(records):
                v = rec[name]
                if v is None:
                    out[i, j] = math.nan
                elif _plain_number(v):
                    out[i, j] = v
                else:
                    return None
        return out

    def _category_indices(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
        """Category indices, or None when a value is neither text nor missing."""
        out = np.empty((len(records), len(self._categorical)), dtype=np.int64)
        for j, (name, index) in enumerate(zip(self._categorical, self._index, strict=True)):
            for i, rec in enumerate(records):
                v = rec[name]
                if type(v) is str:
                    out[i, j] = index.get(v, UNSEEN_INDEX)
                elif v is None or (type(v) is float and math.isnan(v)):
                    out[i, j] = MISSING_INDEX
                else:
                    return None
        return out
