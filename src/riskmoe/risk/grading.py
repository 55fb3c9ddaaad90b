"""Master scale, dynamic re-grading and migration (transition) matrices.

A :class:`MasterScale` maps a probability of default (PD) to one of ``n`` ordered grades
(1 = best) and to one of three tiers (``low`` / ``medium`` / ``high``). :func:`regrade`
grades newly scored entities and lists the upgrades and downgrades against their graded
history; :func:`migration_matrix` estimates a transition matrix from that history by the
cohort method. Everything here is pure: frames in, frames and frozen results out; the
store lives in ``workflow.py``.

Grades are the integers ``1 .. n``; a defaulted entity carries the grade ``"D"``
(:data:`DEFAULT_GRADE`), which ranks below grade ``n`` and is absorbing in a migration
matrix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, overload

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError, SchemaError

__all__ = [
    "BASEL_PD_FLOOR",
    "DEFAULT_BOUNDS",
    "DEFAULT_GRADE",
    "DEFAULT_TIER_CUTOFFS",
    "TIERS",
    "MasterScale",
    "MigrationMatrix",
    "Regrading",
    "migration_matrix",
    "regrade",
]

#: Basel II PD floor for corporate and retail exposures (paras 285 and 331): 0.03 %.
BASEL_PD_FLOOR = 0.0003

#: Upper PD bounds of the default 10-grade scale: ``numpy.geomspace(0.0003, 1, 10)``, i.e.
#: 0.03 %, 0.074 %, 0.18 %, 0.45 %, 1.10 %, 2.72 %, 6.69 %, 16.5 %, 40.6 %, 100 %.
DEFAULT_BOUNDS: tuple[float, ...] = tuple(float(b) for b in np.geomspace(BASEL_PD_FLOOR, 1.0, 10))

#: Last grade of the ``low`` and of the ``medium`` tier on the default scale: grades 1-4
#: (PD <= 0.45 %, roughly investment grade), 5-7 (<= 6.7 %, BB/B), 8-10 (CCC/C and worse).
DEFAULT_TIER_CUTOFFS: tuple[int, int] = (4, 7)

#: Grade label of a defaulted entity; worse than every PD grade, absorbing in migrations.
DEFAULT_GRADE = "D"

#: Tier names, best first; a defaulted entity's tier is ``"default"``.
TIERS: tuple[str, str, str] = ("low", "medium", "high")

# the PD arguments of grade() / tier() are named ``pd`` and shadow pandas there
_Series = pd.Series

_HISTORY_COLUMNS = ("entity", "as_of", "pd", "grade", "model_version")
_NEW_COLUMNS = ("entity", "as_of", "pd", "model_version")


# ---------------------------------------------------------------------------------------
# Validation and JSON helpers shared by the risk modules
# ---------------------------------------------------------------------------------------


def _float_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a float array; refuses text, booleans, ``None`` and NaN."""
    if isinstance(values, pd.Series | pd.Index):
        dtype = values.dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError(f"{name} must be numeric; got dtype {dtype}.")
        arr = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise DataError(
                f"{name} must be numeric; got dtype {arr.dtype} (text, booleans or None?)."
            )
        arr = arr.astype(float)
    nan = np.isnan(arr.ravel())
    if nan.any():
        raise DataError(
            f"{name} must not be NaN; found NaN at position {int(np.argmax(nan))}."
        )
    return arr


def _in_range(
    arr: np.ndarray, name: str, low: float, high: float, *, low_open: bool = False
) -> None:
    """Raise a :class:`DataError` naming the first value outside ``[low, high]``."""
    flat = arr.ravel()
    bad = (flat <= low if low_open else flat < low) | (flat > high)
    if bad.any():
        pos = int(np.argmax(bad))
        if math.isinf(high):
            allowed = f"{'>' if low_open else '>='} {low:g}"
        else:
            allowed = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
        raise DataError(f"{name} must be {allowed}; got {flat[pos]:g} at position {pos}.")


def _probability_array(values: Any, name: str = "pd") -> np.ndarray:
    """Validated probabilities in ``[0, 1]`` as a float array."""
    arr = _float_array(values, name)
    _in_range(arr, name, 0.0, 1.0)
    return arr


def _to_builtin(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/NA -> None, dates -> ISO text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date):  # pd.Timestamp is a datetime
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, pd.DataFrame):
        return [_to_builtin(r) for r in value.to_dict(orient="records")]
    if isinstance(value, Mapping):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, pd.Series | np.ndarray | pd.Index | list | tuple | set | frozenset):
        return [_to_builtin(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _require_columns(frame: Any, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{name} lacks required columns {missing}; found {list(frame.columns)}."
        )


def _dates(values: pd.Series, name: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{name} must hold ISO 8601 dates or datetimes; {reason}") from exc
    if parsed.isna().any():
        pos = int(np.argmax(parsed.isna().to_numpy()))
        raise DataError(f"{name} must not be missing; found a missing date at row {pos}.")
    return parsed


# ---------------------------------------------------------------------------------------
# Master scale
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasterScale:
    """Map PDs to ordered grades ``1 .. n`` and to the tiers ``low`` / ``medium`` / ``high``.

    Parameters
    ----------
    bounds : sequence of float, default :data:`DEFAULT_BOUNDS`
        Upper PD bound of each grade, best grade first: strictly increasing, in ``(0, 1]``,
        the last equal to 1 so that every PD has a grade.
    tier_cutoffs : (int, int), default :data:`DEFAULT_TIER_CUTOFFS`
        Last grade of the ``low`` tier and last grade of the ``medium`` tier;
        ``1 <= low < medium < n_grades``. Later grades are ``high``.

    Raises
    ------
    ValueError
        Bounds that are not strictly increasing, outside ``(0, 1]``, not ending at 1, or
        tier cut-offs that are not ordered grades of the scale.

    Notes
    -----
    Grade :math:`g` covers :math:`b_{g-1} < PD \\le b_g` (with :math:`b_0 = 0`, so grade 1
    is :math:`0 \\le PD \\le b_1`): **a PD exactly on a bound belongs to the better grade**
    whose upper bound it is. With the default scale, a PD at the Basel floor of 0.03 % is
    therefore grade 1.

    The default bounds are geometric from the Basel II PD floor (0.03 %, paras 285 and 331)
    to 100 %: :math:`b_g = 0.0003 \\cdot (1/0.0003)^{(g-1)/9}`, a ratio of about 2.46 between
    consecutive bounds. Equal widths in log-PD give every grade the same relative PD range,
    which matches how default rates grow roughly geometrically from one agency rating to
    the next, and grade 1 collects every PD at the regulatory floor. Ten grades exceed the
    Basel II minimum of seven non-defaulted borrower grades (para 404). The default tier
    cut-offs (grades 1-4 / 5-7 / 8-10, i.e. PD up to 0.45 %, up to 6.7 %, above) put the
    ``low``/``medium`` boundary near the investment-grade line (BBB-/BB+ one-year default
    rates of a few tenths of a percent) and the ``medium``/``high`` boundary at the B/CCC
    line.

    References
    ----------
    .. [1] Basel Committee on Banking Supervision (2006), *International Convergence of
       Capital Measurement and Capital Standards: A Revised Framework -- Comprehensive
       Version*, paras 285, 331 (PD floor) and 403-404 (rating-system structure).

    Examples
    --------
    >>> scale = MasterScale()
    >>> scale.grade(0.0003), scale.grade(0.0004), scale.tier(0.002), scale.tier(0.25)
    (1, 2, 'low', 'high')
    >>> scale.grade([0.0, 0.01, 1.0]).tolist()
    [1, 5, 10]
    """

    bounds: tuple[float, ...] = DEFAULT_BOUNDS
    tier_cutoffs: tuple[int, int] = DEFAULT_TIER_CUTOFFS

    def __post_init__(self) -> None:
        try:
            bounds = tuple(float(b) for b in self.bounds)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bounds must be a sequence of numbers; got {self.bounds!r}.") from exc
        if len(bounds) < 2:
            raise ValueError(f"bounds must define at least 2 grades; got {len(bounds)}.")
        for i, b in enumerate(bounds):
            if not (0.0 < b <= 1.0):  # also refuses NaN
                raise ValueError(f"bounds must lie in (0, 1]; got {b:g} at position {i}.")
        for i in range(1, len(bounds)):
            if bounds[i] <= bounds[i - 1]:
                raise ValueError(
                    f"bounds must be strictly increasing; bounds[{i}]={bounds[i]:g} <= "
                    f"bounds[{i - 1}]={bounds[i - 1]:g}."
                )
        if bounds[-1] != 1.0:
            raise ValueError(
                f"the last bound must be 1 so that every PD has a grade; got {bounds[-1]:g}."
            )
        cutoffs = tuple(self.tier_cutoffs)
        n = len(bounds)
        if (
            len(cutoffs) != 2
            or not all(isinstance(c, int | np.integer) and not isinstance(c, bool)
                       for c in cutoffs)
            or not 1 <= cutoffs[0] < cutoffs[1] < n
        ):
            raise ValueError(
                "tier_cutoffs must be two grades (last low, last medium) with "
                f"1 <= low < medium < n_grades={n}; got {self.tier_cutoffs!r}."
            )
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "tier_cutoffs", (int(cutoffs[0]), int(cutoffs[1])))

    # -- structure ---------------------------------------------------------------------

    @property
    def n_grades(self) -> int:
        """Number of PD grades (the default grade ``"D"`` not counted)."""
        return len(self.bounds)

    @property
    def grades(self) -> tuple[int, ...]:
        """The grades ``1 .. n_grades``, best first."""
        return tuple(range(1, self.n_grades + 1))

    def table(self) -> pd.DataFrame:
        """One row per grade: ``grade``, ``pd_lower`` (exclusive), ``pd_upper``, ``tier``.

        Examples
        --------
        >>> MasterScale().table().iloc[0].to_dict()
        {'grade': 1, 'pd_lower': 0.0, 'pd_upper': 0.0003, 'tier': 'low'}
        """
        return pd.DataFrame({
            "grade": list(self.grades),
            "pd_lower": [0.0, *self.bounds[:-1]],
            "pd_upper": list(self.bounds),
            "tier": [self.tier_of_grade(g) for g in self.grades],
        })

    # -- mapping -----------------------------------------------------------------------

    @overload
    def grade(self, pd: float) -> int: ...
    @overload
    def grade(self, pd: pd.Series) -> pd.Series: ...
    @overload
    def grade(self, pd: Sequence[float] | np.ndarray) -> np.ndarray: ...

    def grade(self, pd: Any) -> Any:
        """Grade of each PD (1 = best).

        Parameters
        ----------
        pd : float, array-like or pandas.Series
            PDs in ``[0, 1]``.

        Returns
        -------
        int, numpy.ndarray of int64 or pandas.Series
            A scalar for a scalar; a Series keeps its index.

        Raises
        ------
        DataError
            A PD that is NaN, non-numeric or outside ``[0, 1]``.
        """
        arr = _probability_array(pd, "pd")
        # side="left": b[g-1] < pd <= b[g] -> grade g; a PD on a bound takes the better grade
        grades = np.searchsorted(np.asarray(self.bounds), arr, side="left").astype(np.int64) + 1
        if isinstance(pd, _Series):
            return _Series(grades, index=pd.index, name="grade")
        if arr.ndim == 0:
            return int(grades)
        return grades

    @overload
    def tier(self, pd: float) -> str: ...
    @overload
    def tier(self, pd: pd.Series) -> pd.Series: ...
    @overload
    def tier(self, pd: Sequence[float] | np.ndarray) -> np.ndarray: ...

    def tier(self, pd: Any) -> Any:
        """Tier (``low`` / ``medium`` / ``high``) of each PD, through its grade.

        Parameters
        ----------
        pd : float, array-like or pandas.Series
            PDs in ``[0, 1]``.

        Returns
        -------
        str, numpy.ndarray of str or pandas.Series
            A scalar for a scalar; a Series keeps its index.
        """
        grades = np.asarray(self.grade(pd))
        low, medium = self.tier_cutoffs
        tiers = np.asarray(TIERS)[(grades > low).astype(int) + (grades > medium).astype(int)]
        if isinstance(pd, _Series):
            return _Series(tiers, index=pd.index, name="tier", dtype="str")
        if tiers.ndim == 0:
            return str(tiers)
        return tiers

    def tier_of_grade(self, grade: int | str) -> str:
        """Tier of one grade; ``"default"`` for :data:`DEFAULT_GRADE`.

        Raises
        ------
        ValueError
            A grade that is not on the scale.
        """
        rank = _grade_rank(grade, self.n_grades)
        if rank > self.n_grades:
            return "default"
        low, medium = self.tier_cutoffs
        return TIERS[int(rank > low) + int(rank > medium)]

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; :meth:`from_dict` reads it back."""
        return {"bounds": list(self.bounds), "tier_cutoffs": list(self.tier_cutoffs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MasterScale:
        """Rebuild a scale from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            Missing or unknown keys, or invalid bounds / cut-offs.

        Examples
        --------
        >>> MasterScale.from_dict(MasterScale().to_dict()) == MasterScale()
        True
        """
        keys = set(data)
        if keys != {"bounds", "tier_cutoffs"}:
            raise ValueError(
                f"a master scale needs exactly the keys ['bounds', 'tier_cutoffs']; got "
                f"{sorted(keys)}."
            )
        cutoffs = tuple(data["tier_cutoffs"])
        if len(cutoffs) != 2:
            raise ValueError(f"tier_cutoffs must hold 2 grades; got {list(cutoffs)}.")
        return cls(bounds=tuple(data["bounds"]), tier_cutoffs=(cutoffs[0], cutoffs[1]))


def _grade_rank(grade: Any, n_grades: int) -> int:
    """Rank of one grade label: ``1 .. n`` for PD grades, ``n + 1`` for ``"D"``.

    Accepts ints, integral floats (a grade read back from a DOUBLE column) and digit
    strings (from a TEXT column that also holds ``"D"``).
    """
    if isinstance(grade, str):
        text = grade.strip()
        if text == DEFAULT_GRADE:
            return n_grades + 1
        if text.isdigit():
            grade = int(text)
    if isinstance(grade, int | np.integer) and not isinstance(grade, bool | np.bool_):
        value = int(grade)
    elif isinstance(grade, float | np.floating) and float(grade).is_integer():
        value = int(grade)
    else:
        value = -1
    if not 1 <= value <= n_grades:
        raise ValueError(
            f"grade {grade!r} is not on the scale; allowed: 1..{n_grades} or "
            f"{DEFAULT_GRADE!r}."
        )
    return value


def _normalise_grades(values: pd.Series, n_grades: int, name: str) -> tuple[list[Any], np.ndarray]:
    """Grade labels (int or ``"D"``) and their ranks; a bad label is a :class:`DataError`."""
    labels: list[Any] = []
    ranks = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values.tolist()):
        try:
            rank = _grade_rank(value, n_grades)
        except ValueError as exc:
            raise DataError(f"{name}: row {i}: {exc}") from exc
        ranks[i] = rank
        labels.append(DEFAULT_GRADE if rank > n_grades else rank)
    return labels, ranks


def _grade_column(labels: Sequence[Any]) -> pd.Series:
    """Ints as int64; with a ``"D"`` among them, an object column (ints and ``"D"``)."""
    if any(isinstance(v, str) for v in labels):
        return pd.Series(list(labels), dtype=object)
    return pd.Series(list(labels), dtype="int64")


# ---------------------------------------------------------------------------------------
# Dynamic re-grading
# ---------------------------------------------------------------------------------------


class Regrading(NamedTuple):
    """What :func:`regrade` returns; unpacks as ``history, changes = regrade(...)``.

    Attributes
    ----------
    history : pandas.DataFrame
        The old history plus the newly graded rows: ``entity``, ``as_of``, ``pd``,
        ``grade``, ``model_version``, sorted by (entity, as_of).
    changes : pandas.DataFrame
        One row per grade change among the new rows: ``entity``, ``as_of``,
        ``previous_as_of``, ``old_grade``, ``new_grade``, ``old_pd``, ``new_pd``,
        ``old_tier``, ``new_tier``, ``model_version``, ``direction`` (``upgrade`` /
        ``downgrade``) and ``notches`` (grades moved; positive = worse).
    """

    history: pd.DataFrame
    changes: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: both frames as lists of records."""
        return {"history": _to_builtin(self.history), "changes": _to_builtin(self.changes)}


def regrade(
    history: pd.DataFrame | None,
    new: pd.DataFrame,
    *,
    scale: MasterScale | None = None,
) -> Regrading:
    """Grade newly scored entities and list the upgrades and downgrades.

    Parameters
    ----------
    history : pandas.DataFrame or None
        Graded history with columns ``entity``, ``as_of``, ``pd``, ``grade``,
        ``model_version`` (extra columns are dropped). ``None`` or an empty frame for the
        first run.
    new : pandas.DataFrame
        New scores: ``entity``, ``as_of``, ``pd``, ``model_version`` and optionally a
        boolean ``defaulted`` (a default event: graded :data:`DEFAULT_GRADE` whatever the
        PD). An entity may have several new rows (different dates).
    scale : MasterScale, optional
        The master scale; :class:`MasterScale` defaults when omitted.

    Returns
    -------
    Regrading
        ``(history, changes)``: the updated history and the grade changes of the new rows,
        each compared with the entity's previous graded row (in history or earlier in
        ``new``). New entities and unchanged grades are not changes.

    Raises
    ------
    SchemaError
        Missing columns.
    DataError
        PDs outside ``[0, 1]`` or NaN, unparseable dates, duplicated (entity, as_of) rows,
        grades not on the scale, or a new row not later than the entity's latest graded
        row (history is appended to, never rewritten).

    Examples
    --------
    >>> hist = pd.DataFrame({"entity": ["A"], "as_of": ["2024-01-31"], "pd": [0.002],
    ...                      "grade": [3], "model_version": ["v1"]})
    >>> new = pd.DataFrame({"entity": ["A"], "as_of": ["2024-02-29"], "pd": [0.03],
    ...                     "model_version": ["v1"]})
    >>> updated, changes = regrade(hist, new)
    >>> changes[["entity", "old_grade", "new_grade", "direction", "notches"]].to_dict("records")
    [{'entity': 'A', 'old_grade': 3, 'new_grade': 7, 'direction': 'downgrade', 'notches': 4}]
    """
    scale = MasterScale() if scale is None else scale
    n = scale.n_grades
    if history is None:
        history = pd.DataFrame({c: [] for c in _HISTORY_COLUMNS})
    _require_columns(history, _HISTORY_COLUMNS, "history")
    _require_columns(new, _NEW_COLUMNS, "new")

    old = history[list(_HISTORY_COLUMNS)].reset_index(drop=True)
    old_as_of = _dates(old["as_of"], "history.as_of") if len(old) else pd.Series(
        [], dtype="datetime64[ns]"
    )
    old_pd = _probability_array(old["pd"], "history.pd") if len(old) else np.empty(0)
    old_labels, old_ranks = _normalise_grades(old["grade"], n, "history.grade")

    fresh = new.reset_index(drop=True)
    new_as_of = _dates(fresh["as_of"], "new.as_of")
    new_pd = _probability_array(fresh["pd"], "new.pd")
    new_ranks = np.asarray(scale.grade(new_pd), dtype=np.int64).reshape(-1)
    if "defaulted" in fresh.columns:
        defaulted = fresh["defaulted"]
        if not pd.api.types.is_bool_dtype(defaulted.dtype) or defaulted.isna().any():
            raise DataError(
                f"new.defaulted must be boolean without missing values; got dtype "
                f"{defaulted.dtype}."
            )
        new_ranks = np.where(defaulted.to_numpy(dtype=bool), n + 1, new_ranks)
    new_labels = [DEFAULT_GRADE if r > n else int(r) for r in new_ranks]

    for name, entities, dates in (
        ("history", old["entity"], old_as_of),
        ("new", fresh["entity"], new_as_of),
    ):
        dup = pd.DataFrame({"e": entities, "d": dates}).duplicated()
        if dup.any():
            i = int(np.argmax(dup.to_numpy()))
            raise DataError(
                f"{name} has {int(dup.sum())} duplicated (entity, as_of) rows, e.g. "
                f"({entities.iloc[i]!r}, {pd.Timestamp(dates.iloc[i]).date()})."
            )

    if len(old):
        latest = pd.Series(old_as_of.to_numpy(), index=old["entity"].to_numpy()).groupby(
            level=0
        ).max()
        first_new = pd.Series(new_as_of.to_numpy(), index=fresh["entity"].to_numpy()).groupby(
            level=0
        ).min()
        both = first_new.index.intersection(latest.index)
        stale = first_new[both] <= latest[both]
        if stale.any():
            entity = stale.index[int(np.argmax(stale.to_numpy()))]
            raise DataError(
                "new rows must be later than the entity's latest graded row (history is "
                f"appended to, never rewritten); entity {entity!r} has a new row at "
                f"{first_new[entity].date()} but history up to {latest[entity].date()}."
            )

    combined = pd.DataFrame({
        "entity": pd.concat([old["entity"], fresh["entity"]], ignore_index=True),
        "as_of": pd.concat([old_as_of, new_as_of], ignore_index=True),
        "pd": np.concatenate([old_pd.reshape(-1), new_pd.reshape(-1)]),
        "grade": _grade_column([*old_labels, *new_labels]),
        "model_version": pd.concat(
            [old["model_version"], fresh["model_version"]], ignore_index=True
        ),
        "_rank": np.concatenate([old_ranks, new_ranks]),
        "_new": np.r_[np.zeros(len(old), bool), np.ones(len(fresh), bool)],
    })
    combined = combined.sort_values(["entity", "as_of"], kind="stable").reset_index(drop=True)
    by_entity = combined.groupby("entity", sort=False)
    prev_rank = by_entity["_rank"].shift()
    is_change = combined["_new"] & prev_rank.notna() & (prev_rank != combined["_rank"])

    rows = combined.index[is_change.to_numpy()]
    prev_rows = rows - 1  # sorted by (entity, as_of): the previous row of the same entity
    old_rank = combined.loc[prev_rows, "_rank"].to_numpy()
    now_rank = combined.loc[rows, "_rank"].to_numpy()
    changes = pd.DataFrame({
        "entity": combined.loc[rows, "entity"].to_numpy(),
        "as_of": combined.loc[rows, "as_of"].to_numpy(),
        "previous_as_of": combined.loc[prev_rows, "as_of"].to_numpy(),
        "old_grade": _grade_column(combined.loc[prev_rows, "grade"].tolist()),
        "new_grade": _grade_column(combined.loc[rows, "grade"].tolist()),
        "old_pd": combined.loc[prev_rows, "pd"].to_numpy(),
        "new_pd": combined.loc[rows, "pd"].to_numpy(),
        "old_tier": [scale.tier_of_grade(g) for g in combined.loc[prev_rows, "grade"]],
        "new_tier": [scale.tier_of_grade(g) for g in combined.loc[rows, "grade"]],
        "model_version": combined.loc[rows, "model_version"].to_numpy(),
        "direction": np.where(now_rank > old_rank, "downgrade", "upgrade"),
        "notches": (now_rank - old_rank).astype(np.int64),
    })
    updated = combined.drop(columns=["_rank", "_new"])
    return Regrading(updated, changes)


# ---------------------------------------------------------------------------------------
# Migration matrix (cohort method)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MigrationMatrix:
    """A cohort transition matrix with the counts behind it.

    Attributes
    ----------
    start, end : pandas.Timestamp
        Cohort formation date and horizon date.
    counts : pandas.DataFrame
        Entities by start grade (rows) and end grade (columns); int64.
    probabilities : pandas.DataFrame
        ``counts`` divided by the row totals. A row without entities is NaN (no estimate);
        the default row, when present, is the absorbing state ``D -> D = 1``.
    row_totals : pandas.Series
        Entities per start grade (the denominators).
    n_entities : int
        Size of the cohort.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    counts: pd.DataFrame
    probabilities: pd.DataFrame
    row_totals: pd.Series
    n_entities: int

    @property
    def grades(self) -> list[Any]:
        """Row and column labels, best grade first (``"D"`` last when present)."""
        return list(self.counts.index)

    @property
    def empty_rows(self) -> list[Any]:
        """Start grades without entities (their probabilities are NaN)."""
        return [g for g, n in self.row_totals.items() if n == 0 and g != DEFAULT_GRADE]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (NaN probabilities as ``None``)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grades": [str(g) for g in self.grades],
            "counts": self.counts.to_numpy().tolist(),
            "probabilities": _to_builtin(self.probabilities.to_numpy()),
            "row_totals": [int(n) for n in self.row_totals],
            "n_entities": self.n_entities,
        }


def migration_matrix(
    history: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    grades: Sequence[int | str] | None = None,
    n_grades: int | None = None,
) -> MigrationMatrix:
    """Transition matrix from ``start`` to ``end`` by the cohort method.

    Parameters
    ----------
    history : pandas.DataFrame
        Graded history with at least ``entity``, ``as_of`` and ``grade`` (ints ``1..n``
        and optionally ``"D"``), as :func:`regrade` keeps it.
    start, end : date-like
        Cohort formation date and horizon date; ``start < end``.
    grades : sequence of int or str, optional
        Row/column labels, best first (e.g. ``MasterScale().grades``); ``"D"`` is appended
        when a default is observed. Default: the grades observed at either date.
    n_grades : int, optional
        Number of PD grades used to validate labels; default: the largest integer grade in
        ``grades`` or in ``history``.

    Returns
    -------
    MigrationMatrix

    Raises
    ------
    SchemaError
        Missing columns.
    DataError
        Bad dates, ``start >= end``, duplicated (entity, as_of) rows, unknown grades, or
        an observed grade missing from ``grades``.

    Notes
    -----
    The grade of an entity at date :math:`t` is its grade *in force*: the latest row with
    ``as_of <= t``. The cohort is every entity with a grade in force at ``start``; its end
    state is its grade in force at ``end``, except that an entity graded ``"D"`` at any
    time in ``(start, end]`` ends in ``"D"`` (default is absorbing, so a later re-grade
    does not undo it). With :math:`N_{ij}` entities moving from grade :math:`i` to
    :math:`j` and :math:`N_i = \\sum_j N_{ij}`, the cohort estimator is

    .. math:: \\hat p_{ij} = N_{ij} / N_i .

    References
    ----------
    .. [1] Lando, D. and Skodeberg, T. M. (2002), "Analyzing rating transitions and rating
       drift with continuous observations", *Journal of Banking & Finance* 26(2-3),
       423-444 (the cohort method and its alternatives).
    .. [2] Jafry, Y. and Schuermann, T. (2004), "Measurement, estimation and comparison of
       credit migration matrices", *Journal of Banking & Finance* 28(11), 2603-2639.

    Examples
    --------
    >>> hist = pd.DataFrame({
    ...     "entity": ["A", "A", "B", "B", "C"],
    ...     "as_of": ["2023-12-31", "2024-12-31", "2023-12-31", "2024-06-30", "2023-12-31"],
    ...     "grade": [1, 2, 2, "D", 2],
    ... })
    >>> m = migration_matrix(hist, "2023-12-31", "2024-12-31")
    >>> m.counts.to_dict("index")
    {1: {1: 0, 2: 1, 'D': 0}, 2: {1: 0, 2: 1, 'D': 1}, 'D': {1: 0, 2: 0, 'D': 0}}
    >>> m.probabilities.loc[2].tolist()
    [0.0, 0.5, 0.5]
    """
    _require_columns(history, ("entity", "as_of", "grade"), "history")
    start_ts, end_ts = (pd.Timestamp(_dates(pd.Series([d]), name).iloc[0])
                        for d, name in ((start, "start"), (end, "end")))
    if start_ts >= end_ts:
        raise DataError(f"start must be before end; got start={start_ts.date()}, "
                        f"end={end_ts.date()}.")
    frame = pd.DataFrame({
        "entity": history["entity"].to_numpy(),
        "as_of": _dates(history["as_of"], "history.as_of").to_numpy(),
    })
    if frame.duplicated().any():
        i = int(np.argmax(frame.duplicated().to_numpy()))
        raise DataError(
            f"history has duplicated (entity, as_of) rows, e.g. ({frame['entity'].iloc[i]!r}, "
            f"{pd.Timestamp(frame['as_of'].iloc[i]).date()}); the grade in force is ambiguous."
        )
    if n_grades is None:
        ints = [g for g in [*(grades or []), *history["grade"].tolist()]
                if not (isinstance(g, str) and g.strip() == DEFAULT_GRADE)]
        try:
            n_grades = max((int(float(g)) for g in ints), default=1)
        except (TypeError, ValueError) as exc:
            raise DataError(f"history.grade holds a label that is no grade: {exc}.") from exc
    _, ranks = _normalise_grades(history["grade"], n_grades, "history.grade")
    d_rank = n_grades + 1
    frame["rank"] = ranks
    frame = frame.sort_values(["entity", "as_of"], kind="stable")

    at_start = frame[frame["as_of"] <= start_ts].groupby("entity")["rank"].last()
    at_end = frame[frame["as_of"] <= end_ts].groupby("entity")["rank"].last()
    window = frame[(frame["as_of"] > start_ts) & (frame["as_of"] <= end_ts)]
    defaulted = set(window.loc[window["rank"] == d_rank, "entity"])
    cohort = at_start.index
    end_state = at_end.reindex(cohort).to_numpy().copy()
    in_default = cohort.isin(list(defaulted)) | (at_start.to_numpy() == d_rank)
    end_state[in_default] = d_rank

    observed = set(at_start.tolist()) | set(end_state.tolist())
    if grades is not None:
        order = [_grade_rank(g, n_grades) for g in grades]
        unknown = sorted(observed - set(order) - {d_rank})
        if unknown:
            raise DataError(f"grades {unknown} are observed but not among grades={list(grades)}.")
        if d_rank in observed and d_rank not in order:
            order.append(d_rank)
    else:
        order = sorted(observed)
    names: list[Any] = [DEFAULT_GRADE if r == d_rank else r for r in order]
    position = {r: i for i, r in enumerate(order)}

    counts = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(
        counts,
        (
            np.array([position[r] for r in at_start.tolist()], dtype=np.intp),
            np.array([position[r] for r in end_state.tolist()], dtype=np.intp),
        ),
        1,
    )
    totals = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.where(totals[:, None] > 0, counts / np.maximum(totals, 1)[:, None], np.nan)
    if d_rank in position:
        i = position[d_rank]
        probs[i, :] = 0.0
        probs[i, i] = 1.0
    index = pd.Index(names, dtype=object if DEFAULT_GRADE in names else "int64", name="from")
    columns = pd.Index(names, dtype=index.dtype, name="to")
    return MigrationMatrix(
        start=start_ts,
        end=end_ts,
        counts=pd.DataFrame(counts, index=index, columns=columns),
        probabilities=pd.DataFrame(probs, index=index, columns=columns),
        row_totals=pd.Series(totals, index=index, name="n"),
        n_entities=int(len(cohort)),
    )
