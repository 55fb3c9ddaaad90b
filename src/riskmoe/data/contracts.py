"""Schema contracts checked before a frame is stored or modelled.

A contract names what must hold (columns present, kinds, a binary target) and every
check raises :class:`~riskmoe.exceptions.SchemaError` naming the column, the problem and
what is allowed, so a bad file is refused whole with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from riskmoe.exceptions import SchemaError

__all__ = [
    "ColumnKind",
    "TableContract",
    "check_not_empty",
    "check_target",
    "check_text_in_numeric",
]

ColumnKind = Literal["numeric", "categorical", "text", "datetime", "any"]

# A text column is taken to be "numeric with stray text" when at least this share of
# its non-empty values parse as numbers: a typo ("12,5", "n/a ", "abc") in a number
# column, not a genuinely textual field.
_NUMERIC_SHARE = 0.95


def check_not_empty(frame: pd.DataFrame, *, where: str = "table") -> None:
    """Refuse a frame with no rows or with a column that is entirely empty."""
    if len(frame) == 0:
        raise SchemaError(f"{where} has no rows.")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise SchemaError(
            f"{where}: column(s) {empty} are entirely empty; drop them or fill them before ingest."
        )


def check_text_in_numeric(frame: pd.DataFrame, *, where: str = "table") -> None:
    """Refuse a text column whose values are numbers but for a few stray texts.

    Such a column is almost always a numeric field with typos; storing it as text would
    silently turn every number into a string downstream.
    """
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or not (
            pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)
        ):
            continue
        values = s.dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        parsed = pd.to_numeric(values, errors="coerce")
        bad = values[parsed.isna()]
        share = 1.0 - len(bad) / len(values)
        if len(bad) and share >= _NUMERIC_SHARE:
            examples = ", ".join(f"row {i}: {v!r}" for i, v in list(bad.items())[:3])
            raise SchemaError(
                f"{where}: column {col!r} is numeric in {share:.1%} of rows but has text values "
                f"({examples}); fix those cells or mark them missing."
            )


def check_target(frame: pd.DataFrame, target: str, *, where: str = "table") -> None:
    """Refuse a missing target column or one that is not a 0/1 outcome with both classes."""
    if target not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:20]))
        raise SchemaError(f"{where}: target column {target!r} not found; columns are: {cols}.")
    y = frame[target]
    if y.isna().any():
        raise SchemaError(f"{where}: target {target!r} has {int(y.isna().sum())} missing values.")
    values = set(pd.unique(y).tolist())
    if not values <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise SchemaError(f"{where}: target {target!r} must be 0/1; got values {shown}.")
    if len(values) < 2:
        raise SchemaError(f"{where}: target {target!r} has a single class {sorted(values)}.")


def _kind_of(s: pd.Series) -> ColumnKind:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return "numeric"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    return "text"


@dataclass(frozen=True)
class TableContract:
    """Columns and kinds a table must have.

    Parameters
    ----------
    columns : mapping of str to ColumnKind
        Required columns and their kinds (``"any"`` accepts every kind; a
        ``"categorical"`` column may also arrive as text).
    target : str or None
        A required 0/1 outcome column.

    Examples
    --------
    >>> import pandas as pd
    >>> TableContract({"income": "numeric"}).validate(pd.DataFrame({"income": ["a"]}))
    Traceback (most recent call last):
    ...
    riskmoe.exceptions.SchemaError: column 'income' must be numeric; it is text.
    """

    columns: Mapping[str, ColumnKind] = field(default_factory=dict)
    target: str | None = None

    def validate(self, frame: pd.DataFrame) -> None:
        """Raise :class:`SchemaError` for the first broken requirement."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise SchemaError(f"missing required column(s) {missing}.")
        for col, kind in self.columns.items():
            got = _kind_of(frame[col])
            ok = kind == "any" or got == kind or (kind == "categorical" and got == "text")
            if not ok:
                raise SchemaError(f"column {col!r} must be {kind}; it is {got}.")
        if self.target is not None:
            check_target(frame, self.target)
