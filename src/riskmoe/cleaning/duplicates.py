"""Duplicate rows: exact duplicates, or duplicates on key columns with an explicit keep rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

from riskmoe.cleaning.step import Change, CleaningStep, require_columns

__all__ = ["DropDuplicates", "KeepRule"]

KeepRule = Literal["first", "last", "most_complete"]
_KEEP_RULES: tuple[str, ...] = get_args(KeepRule)


class DropDuplicates(CleaningStep):
    """Drop duplicate rows, exact or on key columns.

    Parameters
    ----------
    subset : sequence of str, optional
        Key columns. ``None`` (default) means exact duplicates: rows equal in every column.
    keep : {"first", "last", "most_complete"}, default "first"
        Which row of a group of duplicates survives: the first or last in frame order, or
        the one with the fewest missing cells over all columns (ties: the first).

    Notes
    -----
    Duplicates are found within the frame being transformed; nothing is learned in
    ``fit`` but the key columns, so ``transform`` may return fewer rows than it receives.
    Missing key values compare equal (pandas ``duplicated``).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"id": [1, 1, 2], "income": [None, 50.0, 40.0]})
    >>> DropDuplicates(subset=["id"], keep="most_complete").fit_transform(X)
       id  income
    1   1    50.0
    2   2    40.0
    """

    def __init__(self, subset: Sequence[str] | None = None, keep: KeepRule = "first") -> None:
        self.subset = subset
        self.keep = keep

    def _validate_arguments(self) -> None:
        if self.keep not in _KEEP_RULES:
            raise ValueError(f"unknown keep rule {self.keep!r}; choose one of {_KEEP_RULES}.")
        if self.subset is not None and len(self.subset) == 0:
            raise ValueError("subset must name at least one key column, or be None; got [].")

    def _learn(self, X: pd.DataFrame) -> None:
        self.subset_ = list(X.columns) if self.subset is None else list(self.subset)
        require_columns(X, self.subset_, type(self).__name__)

    def _change(self, X: pd.DataFrame) -> Change:
        keys = X[self.subset_]
        if self.keep == "most_complete":
            order = np.argsort(X.isna().sum(axis=1).to_numpy(), kind="stable")
            duplicated_sorted = keys.iloc[order].duplicated(keep="first").to_numpy()
            duplicated = np.empty(len(X), dtype=bool)
            duplicated[order] = duplicated_sorted
        else:
            duplicated = keys.duplicated(keep=self.keep).to_numpy()
        kept = ~duplicated
        details = {"keys": self.subset_, "keep": self.keep, "duplicates": int(duplicated.sum())}
        return Change(X.loc[kept], kept, details)
