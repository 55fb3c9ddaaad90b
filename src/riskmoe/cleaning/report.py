"""The cleaning report: what each step changed, per column, as frozen result objects.

A :class:`StepReport` is computed once, by :func:`build_step_report`, from the frame a
step received and the frame it returned; every step goes through that one function, so
the counts mean the same thing for every step:

* ``rows_dropped`` -- rows present before the step and absent after it;
* ``rows_changed`` -- kept rows with at least one changed cell (including a set cell of a
  column the step added, e.g. an outlier flag that is ``True``);
* ``rows_touched`` -- ``rows_dropped + rows_changed``;
* per column ``cells_changed`` -- kept cells whose value differs (two missing values are
  equal); for an added column, cells that are set (not missing, not ``False``).

``before`` statistics (missing count, min, max) describe every row the step received,
``after`` statistics every row it returned.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import jinja2
import numpy as np
import pandas as pd

__all__ = [
    "CleaningReport",
    "ColumnChange",
    "StepReport",
    "build_step_report",
    "to_builtin",
]

ColumnStatus = Literal["kept", "dropped", "added"]
Stage = Literal["fit", "transform"]


def to_builtin(value: Any) -> Any:
    """Convert ``value`` to plain JSON types (no numpy scalars, no NaN).

    Non-finite floats become ``None`` because JSON has no NaN; unknown objects become
    their ``str``.

    Examples
    --------
    >>> import numpy as np
    >>> to_builtin({"a": np.int64(3), "b": (np.float64(0.5), np.nan), "c": np.bool_(True)})
    {'a': 3, 'b': [0.5, None], 'c': True}
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, Sequence | np.ndarray | pd.Index | set | frozenset):
        return [to_builtin(v) for v in value]
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


@dataclass(frozen=True)
class ColumnChange:
    """What one step did to one column.

    Attributes
    ----------
    column : str
        Column name.
    status : {"kept", "dropped", "added"}
        Whether the column survived the step, was removed by it or was created by it.
    cells_changed : int
        Kept cells whose value changed (for an added column: cells that are set).
    missing_before, missing_after : int or None
        Missing cells before / after the step (``None`` where the column did not exist).
    min_before, max_before, min_after, max_after : float or None
        Range of a numeric column before / after (``None`` for non-numeric columns,
        all-missing columns, or where the column did not exist).
    """

    column: str
    status: ColumnStatus
    cells_changed: int
    missing_before: int | None
    missing_after: int | None
    min_before: float | None
    max_before: float | None
    min_after: float | None
    max_after: float | None

    @property
    def touched(self) -> bool:
        """Whether anything about the column differs after the step."""
        return (
            self.status != "kept"
            or self.cells_changed > 0
            or self.missing_before != self.missing_after
            or self.min_before != self.min_after
            or self.max_before != self.max_after
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return to_builtin(dataclasses.asdict(self))


@dataclass(frozen=True)
class StepReport:
    """What one cleaning step did.

    Attributes
    ----------
    name : str
        The step's name in its pipeline (its class name when run alone).
    step : str
        The step's class name.
    rows_before, rows_after : int
        Rows received and returned.
    rows_dropped : int
        ``rows_before - rows_after``.
    rows_changed : int
        Kept rows with at least one changed or set cell.
    cells_changed : int
        Sum of ``cells_changed`` over columns.
    columns : tuple of ColumnChange
        One entry per column received or added, in frame order.
    details : dict
        Step-specific facts in plain-JSON form (learned bounds, statistics, rule counts).
    """

    name: str
    step: str
    rows_before: int
    rows_after: int
    rows_dropped: int
    rows_changed: int
    cells_changed: int
    columns: tuple[ColumnChange, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_touched(self) -> int:
        """Rows dropped plus rows changed."""
        return self.rows_dropped + self.rows_changed

    @property
    def columns_dropped(self) -> tuple[str, ...]:
        """Columns the step removed."""
        return tuple(c.column for c in self.columns if c.status == "dropped")

    @property
    def columns_added(self) -> tuple[str, ...]:
        """Columns the step created."""
        return tuple(c.column for c in self.columns if c.status == "added")

    def column(self, name: str) -> ColumnChange:
        """The entry of column ``name``.

        Raises
        ------
        KeyError
            If the step saw no such column.
        """
        for change in self.columns:
            if change.column == name:
                return change
        raise KeyError(f"step {self.name!r} saw no column {name!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "step": self.step,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "rows_dropped": self.rows_dropped,
            "rows_changed": self.rows_changed,
            "rows_touched": self.rows_touched,
            "cells_changed": self.cells_changed,
            "columns_dropped": list(self.columns_dropped),
            "columns_added": list(self.columns_added),
            "columns": [c.to_dict() for c in self.columns],
            "details": to_builtin(self.details),
        }


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
td.dropped { color: #a00; } td.added { color: #060; }
details { margin-bottom: 1em; } pre { background: #f7f7f7; padding: 0.5em; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>Stage: {{ report.stage }}. Rows: {{ report.rows_before }} &rarr; {{ report.rows_after }}.</p>
<table>
<tr><th>step</th><th>kind</th><th>rows before</th><th>rows after</th><th>rows dropped</th>
<th>rows changed</th><th>cells changed</th></tr>
{% for s in report.steps %}<tr>
<td>{{ s.name }}</td><td>{{ s.step }}</td><td>{{ s.rows_before }}</td>
<td>{{ s.rows_after }}</td><td>{{ s.rows_dropped }}</td><td>{{ s.rows_changed }}</td>
<td>{{ s.cells_changed }}</td></tr>
{% endfor %}</table>
{% for s in report.steps %}
<h2>{{ s.name }} <small>({{ s.step }})</small></h2>
{% set touched = s.columns | selectattr("touched") | list %}
{% if touched %}<table>
<tr><th>column</th><th>status</th><th>cells changed</th><th>missing before</th>
<th>missing after</th><th>min before</th><th>max before</th><th>min after</th>
<th>max after</th></tr>
{% for c in touched %}<tr>
<td class="{{ c.status }}">{{ c.column }}</td><td>{{ c.status }}</td>
<td>{{ c.cells_changed }}</td><td>{{ fmt(c.missing_before) }}</td>
<td>{{ fmt(c.missing_after) }}</td><td>{{ fmt(c.min_before) }}</td>
<td>{{ fmt(c.max_before) }}</td><td>{{ fmt(c.min_after) }}</td>
<td>{{ fmt(c.max_after) }}</td></tr>
{% endfor %}</table>{% endif %}
<p>{{ s.columns | length - touched | length }} column(s) unchanged.</p>
{% if s.details %}<details><summary>details</summary>
<pre>{{ details(s) }}</pre></details>{% endif %}
{% endfor %}
</body>
</html>
"""
_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_TEMPLATE)


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value)) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class CleaningReport:
    """What a :class:`~riskmoe.cleaning.CleaningPipeline` run did, step by step.

    Attributes
    ----------
    steps : tuple of StepReport
        In pipeline order.
    rows_before, rows_after : int
        Rows entering the first step and leaving the last.
    stage : {"fit", "transform"}
        Whether the run fitted the steps (``fit`` / ``fit_transform``) or applied
        fitted steps (``transform``).
    """

    steps: tuple[StepReport, ...]
    rows_before: int
    rows_after: int
    stage: Stage

    def step(self, name: str) -> StepReport:
        """The report of the step called ``name``.

        Raises
        ------
        KeyError
            If no step has that name (the message lists the names).
        """
        for report in self.steps:
            if report.name == name:
                return report
        names = ", ".join(r.name for r in self.steps)
        raise KeyError(f"no step named {name!r}; steps: {names}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``json.dumps`` works on it)."""
        return {
            "stage": self.stage,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per (step, column): the column changes in long form."""
        rows = [{"step": s.name, **dataclasses.asdict(c)} for s in self.steps for c in s.columns]
        return pd.DataFrame(rows)

    def to_html(self, title: str = "Cleaning report") -> str:
        """A self-contained HTML page (inline CSS, no scripts, no external assets).

        Each step gets a section with the columns it touched; untouched columns are
        counted, not listed.
        """
        return _HTML.render(
            title=title,
            report=self,
            fmt=_fmt,
            details=lambda s: json.dumps(to_builtin(s.details), indent=2, ensure_ascii=False),
        )


# -- building a step report from the frames ---------------------------------------------


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _range(series: pd.Series) -> tuple[float | None, float | None]:
    if not _is_numeric(series) or series.notna().sum() == 0:
        return None, None
    return to_builtin(float(series.min())), to_builtin(float(series.max()))


def _changed_cells(before: pd.Series, after: pd.Series) -> np.ndarray:
    """Cells whose value differs; two missing values count as equal."""
    na_before = before.isna().to_numpy()
    na_after = after.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(before.dtype) and pd.api.types.is_numeric_dtype(after.dtype):
        a = before.to_numpy(dtype=float, na_value=np.nan)
        b = after.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            differs = a != b
    else:
        # Object comparison with missing cells replaced by None: pd.NA refuses `==`.
        a = before.astype(object).to_numpy(copy=True)
        b = after.astype(object).to_numpy(copy=True)
        a[na_before] = None
        b[na_after] = None
        differs = np.asarray(a != b, dtype=bool)
    return (differs & ~(na_before & na_after)) | (na_before != na_after)


def _set_cells(series: pd.Series) -> np.ndarray:
    """Cells of an added column that carry information: not missing and not False."""
    present = series.notna().to_numpy()
    if pd.api.types.is_bool_dtype(series.dtype):
        return present & series.fillna(False).to_numpy(dtype=bool)
    return present


def build_step_report(
    *,
    name: str,
    before: pd.DataFrame,
    after: pd.DataFrame,
    kept: np.ndarray,
    details: Mapping[str, Any] | None = None,
) -> StepReport:
    """Compare the frame a step received with the frame it returned.

    Parameters
    ----------
    name : str
        The step's class name (the pipeline renames the report to the step's name).
    before : DataFrame
        The step's input.
    after : DataFrame
        The step's output; its rows are ``before``'s rows where ``kept`` is true, in order.
    kept : ndarray of bool, shape (len(before),)
        Which input rows survived.
    details : mapping, optional
        Step-specific facts; stored in plain-JSON form.

    Returns
    -------
    StepReport

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> before = pd.DataFrame({"x": [1.0, None, 3.0]})
    >>> after = pd.DataFrame({"x": [1.0, 2.0]}, index=[0, 1])
    >>> r = build_step_report(name="demo", before=before, after=after,
    ...                       kept=np.array([True, True, False]))
    >>> r.rows_dropped, r.rows_changed, r.column("x").cells_changed
    (1, 1, 1)
    """
    kept = np.asarray(kept, dtype=bool)
    if kept.shape != (len(before),) or int(kept.sum()) != len(after):
        raise ValueError(
            f"kept mask must have one entry per input row and as many true entries as "
            f"output rows; got {kept.shape[0]} entries, {int(kept.sum())} true, "
            f"{len(before)} input rows, {len(after)} output rows."
        )
    survivors = before.iloc[np.flatnonzero(kept)]
    row_changed = np.zeros(len(after), dtype=bool)
    changes: list[ColumnChange] = []
    for col in before.columns:
        b_min, b_max = _range(before[col])
        missing_before = int(before[col].isna().sum())
        if col not in after.columns:
            changes.append(
                ColumnChange(str(col), "dropped", 0, missing_before, None, b_min, b_max, None, None)
            )
            continue
        changed = _changed_cells(survivors[col], after[col])
        row_changed |= changed
        a_min, a_max = _range(after[col])
        changes.append(
            ColumnChange(
                str(col),
                "kept",
                int(changed.sum()),
                missing_before,
                int(after[col].isna().sum()),
                b_min,
                b_max,
                a_min,
                a_max,
            )
        )
    for col in after.columns:
        if col in before.columns:
            continue
        set_cells = _set_cells(after[col])
        row_changed |= set_cells
        a_min, a_max = _range(after[col])
        changes.append(
            ColumnChange(
                str(col),
                "added",
                int(set_cells.sum()),
                None,
                int(after[col].isna().sum()),
                None,
                None,
                a_min,
                a_max,
            )
        )
    return StepReport(
        name=name,
        step=name,
        rows_before=len(before),
        rows_after=len(after),
        rows_dropped=len(before) - len(after),
        rows_changed=int(row_changed.sum()),
        cells_changed=sum(c.cells_changed for c in changes),
        columns=tuple(changes),
        details=to_builtin(dict(details or {})),
    )
