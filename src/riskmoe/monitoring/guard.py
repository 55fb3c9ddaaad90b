"""Input guard: validate a request or batch and refuse it whole when it is out of distribution.

:meth:`InputGuard.fit` learns from the training frame, per column: the kind (numeric or
categorical), whether missing values occurred, the 0.5 % and 99.5 % quantiles, the
levels, and decile bins for the PSI. :meth:`InputGuard.check` then validates a batch:

1. **schema** -- every training column present, numbers in numeric columns, no
   infinities (a :class:`~riskmoe.exceptions.SchemaError` naming the column and rows);
2. **distribution** -- the worst column by each stated statistic, against its limit:

   * ``out_of_range_share``: share of a numeric column's values outside the training
     0.5 %-99.5 % range (about 1 % for data like the training data), limit 0.25, from
     ``min_rows`` rows;
   * ``unseen_level_share``: share of a categorical column's values never seen in
     training, limit 0.25, from ``min_rows`` rows;
   * ``psi``: the population stability index of a column against its training bins,
     limit 0.25 (a *significant* shift), from ``min_rows_psi`` rows.

A batch over a limit is refused whole (:class:`BatchRefused`, a ``DataError``, with the
statistic, column, value and limit); nothing of it is scored. Crafted rows that push
many values to the edge of one feature group to steer the router's choice of expert are
caught by the same statistics.

The guard is plain data: :meth:`InputGuard.to_dict` / :meth:`InputGuard.from_dict` keep
it as JSON beside a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.monitoring.drift import bin_shares, population_stability_index

__all__ = ["BatchRefused", "ColumnProfile", "GuardDecision", "InputGuard"]

Statistic = Literal["out_of_range_share", "unseen_level_share", "psi"]


class BatchRefused(DataError):
    """A batch refused whole by the input guard; ``decision`` says why."""

    def __init__(self, decision: GuardDecision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


@dataclass(frozen=True)
class ColumnProfile:
    """What the guard learned about one training column."""

    name: str
    kind: Literal["numeric", "categorical"]
    q_low: float | None = None
    q_high: float | None = None
    levels: tuple[str, ...] = ()
    sample: tuple[Any, ...] = ()  # reference values for the PSI bins (at most 2,000)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "q_low": self.q_low,
            "q_high": self.q_high,
            "levels": list(self.levels),
            "sample": [None if _missing(v) else v for v in self.sample],
        }


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class GuardDecision:
    """The outcome of a check: accepted, or refused with the statistic that broke its limit."""

    accepted: bool
    n_rows: int
    statistic: Statistic | None = None
    column: str | None = None
    value: float | None = None
    limit: float | None = None
    worst: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """One sentence: why the batch was refused (or that it passed)."""
        if self.accepted:
            return f"batch of {self.n_rows} rows accepted."
        return (
            f"batch of {self.n_rows} rows refused as out of distribution: {self.statistic} of "
            f"column {self.column!r} is {self.value:.4f}, above the limit {self.limit:.4f}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {**self.__dict__, "reason": self.reason}


@dataclass(frozen=True)
class InputGuard:
    """Schema and distribution checks learned from the training frame (see the module doc).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame({"age": rng.normal(40, 10, 1000), "job": ["a", "b"] * 500})
    >>> guard = InputGuard.fit(train)
    >>> guard.check(train.sample(50, random_state=1)).accepted
    True
    >>> crafted = pd.DataFrame({"age": [99.0] * 50, "job": ["a"] * 50})
    >>> d = guard.check(crafted)
    >>> d.accepted, d.statistic, d.column, d.value, d.limit
    (False, 'out_of_range_share', 'age', 1.0, 0.25)
    """

    columns: tuple[ColumnProfile, ...]
    max_out_of_range_share: float = 0.25
    max_unseen_level_share: float = 0.25
    max_psi: float = 0.25
    min_rows: int = 10
    min_rows_psi: int = 100

    @classmethod
    def fit(cls, frame: pd.DataFrame, *, random_state: int = 0, **limits: Any) -> InputGuard:
        """Learn the column profiles from the training frame."""
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            raise DataError("InputGuard.fit needs a non-empty DataFrame of training rows.")
        rng = np.random.default_rng(random_state)
        take = rng.choice(len(frame), size=min(len(frame), 2000), replace=False)
        profiles = []
        sample: tuple[Any, ...]
        for col in frame.columns:
            s = frame[col]
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
                v = s.to_numpy(float)
                v = v[np.isfinite(v)]
                lo, hi = np.quantile(v, [0.005, 0.995]) if v.size else (np.nan, np.nan)
                sample = tuple(float(x) for x in s.to_numpy(float)[np.sort(take)])
                profiles.append(
                    ColumnProfile(str(col), "numeric", float(lo), float(hi), (), sample)
                )
            else:
                levels = tuple(sorted({str(x) for x in s.dropna()}))
                sample = tuple(
                    None if _missing(x) else str(x) for x in s.to_numpy(object)[np.sort(take)]
                )
                profiles.append(ColumnProfile(str(col), "categorical", None, None, levels, sample))
        return cls(tuple(profiles), **limits)

    @property
    def column_names(self) -> list[str]:
        """The columns a batch must have."""
        return [c.name for c in self.columns]

    # -- schema ------------------------------------------------------------------------
    def row_problems(self, record: Mapping[str, Any]) -> list[str]:
        """Schema problems of one record (a stream event's features); empty when fine."""
        problems = []
        missing = [c.name for c in self.columns if c.name not in record]
        if missing:
            problems.append(f"missing required fields {missing[:10]}")
        for c in self.columns:
            if c.name not in record or record[c.name] is None:
                continue
            v = record[c.name]
            if c.kind == "numeric":
                if isinstance(v, bool) or not isinstance(v, int | float):
                    problems.append(f"field {c.name!r} must be a number or null; got {v!r}")
                elif not np.isfinite(float(v)):
                    problems.append(f"field {c.name!r} must be finite; got {v!r}")
            elif not isinstance(v, str | int | float) or isinstance(v, bool):
                problems.append(f"field {c.name!r} must be text or null; got {v!r}")
        return problems

    def check_schema(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The batch's training columns with numeric columns as floats.

        Raises
        ------
        SchemaError
            For a missing column, text in a numeric column or an infinite value (the
            message names the column and the first offending rows).
        """
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise SchemaError(f"the batch lacks required columns {missing[:10]}.")
        out = frame[self.column_names].copy()
        for c in self.columns:
            if c.kind != "numeric":
                continue
            raw = out[c.name]
            num = pd.to_numeric(raw, errors="coerce")
            bad = num.isna() & raw.notna()
            if bad.any():
                rows = list(out.index[bad.to_numpy()][:5])
                raise SchemaError(
                    f"column {c.name!r} must be numeric; rows {rows} hold {[raw[r] for r in rows]}."
                )
            if np.isinf(num.to_numpy(float)).any():
                rows = list(out.index[np.isinf(num.to_numpy(float))][:5])
                raise SchemaError(f"column {c.name!r} holds infinite values in rows {rows}.")
            out[c.name] = num.astype(float)
        return out

    # -- distribution -------------------------------------------------------------------
    def check(self, frame: pd.DataFrame) -> GuardDecision:
        """Check a batch (schema first, then distribution) and return the decision."""
        batch = self.check_schema(frame)
        n = len(batch)
        worst: dict[str, dict[str, Any]] = {}
        candidates: list[tuple[float, Statistic, str, float, float]] = []

        def note(stat: Statistic, col: str, value: float, limit: float) -> None:
            if stat not in worst or value > worst[stat]["value"]:
                worst[stat] = {"column": col, "value": value, "limit": limit}
            if value > limit:
                candidates.append((value / limit, stat, col, value, limit))

        for c in self.columns:
            s = batch[c.name]
            present = s.dropna()
            if n >= self.min_rows and len(present):
                if c.kind == "numeric" and c.q_low is not None and c.q_high is not None:
                    v = present.to_numpy(float)
                    share = float(((v < c.q_low) | (v > c.q_high)).mean())
                    note("out_of_range_share", c.name, share, self.max_out_of_range_share)
                elif c.kind == "categorical":
                    share = float((~present.astype(str).isin(set(c.levels))).mean())
                    note("unseen_level_share", c.name, share, self.max_unseen_level_share)
            if n >= self.min_rows_psi and c.sample:
                ref = pd.Series(c.sample, dtype=float if c.kind == "numeric" else object)
                e, a, _ = bin_shares(ref, s if c.kind == "numeric" else s.astype(object), 10)
                note("psi", c.name, population_stability_index(e, a), self.max_psi)
        if not candidates:
            return GuardDecision(True, n, worst=worst)
        _, stat, col, value, limit = max(candidates, key=lambda t: t[0])
        return GuardDecision(False, n, stat, col, value, limit, worst)

    def enforce(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The checked batch, or :class:`BatchRefused` when it is out of distribution."""
        decision = self.check(frame)
        if not decision.accepted:
            raise BatchRefused(decision)
        return self.check_schema(frame)

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "max_out_of_range_share": self.max_out_of_range_share,
            "max_unseen_level_share": self.max_unseen_level_share,
            "max_psi": self.max_psi,
            "min_rows": self.min_rows,
            "min_rows_psi": self.min_rows_psi,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputGuard:
        """Rebuild from :meth:`to_dict`."""
        cols = tuple(
            ColumnProfile(
                c["name"],
                c["kind"],
                c["q_low"],
                c["q_high"],
                tuple(c["levels"]),
                tuple(np.nan if v is None and c["kind"] == "numeric" else v for v in c["sample"]),
            )
            for c in data["columns"]
        )
        limits = {k: v for k, v in data.items() if k != "columns"}
        return cls(cols, **limits)
