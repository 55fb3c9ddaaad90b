"""Logic rules declared as data: ranges, non-negativity, sentinel codes, unique identifiers.

Rules are frozen, validated dataclasses (pydantic), so a rule set can live in a JSON file
next to the data it describes::

    [{"rule": "sentinel", "column": "NumberOfTimes90DaysLate", "values": [96, 98]},
     {"rule": "range", "column": "age", "min": 18, "max": 110, "action": "nan"},
     {"rule": "non_negative", "column": "MonthlyIncome"},
     {"rule": "unique", "column": "customer_id", "action": "raise"}]

:func:`parse_rules` turns that into rule objects; :class:`ApplyRules` is the cleaning
step that enforces them in order.

Actions
-------
``"nan"``
    Set violating cells to missing (to be imputed later).
``"clip"``
    Move violating values to the nearest bound (range rules only).
``"drop"``
    Drop violating rows; for :class:`Unique`, drop every occurrence after the first.
``"raise"``
    Raise :class:`~riskmoe.exceptions.DataError` naming the rule, the count and examples.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from riskmoe.cleaning.step import Change, CleaningStep, require_columns
from riskmoe.exceptions import DataError, SchemaError

__all__ = [
    "ApplyRules",
    "NonNegative",
    "Range",
    "Rule",
    "Sentinel",
    "Unique",
    "parse_rules",
]

_CONFIG = ConfigDict(extra="forbid")


class _RuleMethods:
    """Behaviour shared by the rule dataclasses (which hold the fields)."""

    kind: ClassVar[str]
    needs_numeric: ClassVar[bool] = False
    column: str
    action: str

    def violations(self, series: pd.Series) -> np.ndarray:
        """Boolean mask of the cells that break the rule (missing cells never do)."""
        raise NotImplementedError

    def repair(self, series: pd.Series, violations: np.ndarray) -> pd.Series:
        """The column with violating cells repaired by the rule's ``action``."""
        if self.action == "nan":
            return series.mask(violations)
        raise AssertionError(f"unhandled action {self.action!r}")  # pragma: no cover

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready data (``parse_rules`` reads it back)."""
        return {"rule": self.kind, **dataclasses.asdict(self)}  # type: ignore[call-overload]


class _Bounded(_RuleMethods):
    needs_numeric = True

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        raise NotImplementedError

    def violations(self, series: pd.Series) -> np.ndarray:
        values = series.to_numpy(dtype=float, na_value=np.nan)
        low, high = self.bounds
        out = np.zeros(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            if low is not None:
                out |= values < low
            if high is not None:
                out |= values > high
        return out

    def repair(self, series: pd.Series, violations: np.ndarray) -> pd.Series:
        if self.action == "clip":
            low, high = self.bounds
            return series.clip(lower=low, upper=high)
        return super().repair(series, violations)


@dataclass(frozen=True, config=_CONFIG)
class Range(_Bounded):
    """Values of ``column`` must lie in ``[min, max]`` (either bound may be omitted).

    Parameters
    ----------
    column : str
    min, max : float, optional
        Inclusive bounds; at least one is required and ``min <= max``.
    action : {"nan", "clip", "drop", "raise"}, default "nan"

    Examples
    --------
    >>> Range("age", 18, 110, "clip").to_dict()
    {'rule': 'range', 'column': 'age', 'min': 18.0, 'max': 110.0, 'action': 'clip'}
    """

    kind: ClassVar[str] = "range"
    column: str
    min: float | None = None
    max: float | None = None
    action: Literal["nan", "clip", "drop", "raise"] = "nan"

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ValueError(f"Range rule on {self.column!r} needs min, max or both; got neither.")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"Range rule on {self.column!r} needs min <= max; got min={self.min}, "
                f"max={self.max}."
            )

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return self.min, self.max


@dataclass(frozen=True, config=_CONFIG)
class NonNegative(_Bounded):
    """Values of ``column`` must be >= 0 (``clip`` moves negatives to 0).

    Parameters
    ----------
    column : str
    action : {"nan", "clip", "drop", "raise"}, default "nan"
    """

    kind: ClassVar[str] = "non_negative"
    column: str
    action: Literal["nan", "clip", "drop", "raise"] = "nan"

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return 0.0, None


@dataclass(frozen=True, config=_CONFIG)
class Sentinel(_RuleMethods):
    """Codes in ``column`` that mean "unknown" (e.g. 96 / 98 in Give Me Some Credit's
    past-due counts) are set to missing.

    Parameters
    ----------
    column : str
    values : sequence of number or str
        The sentinel codes (non-empty).
    action : {"nan", "drop", "raise"}, default "nan"
    """

    kind: ClassVar[str] = "sentinel"
    column: str
    values: tuple[float | str, ...]
    action: Literal["nan", "drop", "raise"] = "nan"

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"Sentinel rule on {self.column!r} needs at least one value; got ().")

    def violations(self, series: pd.Series) -> np.ndarray:
        return series.isin(list(self.values)).to_numpy(dtype=bool)


@dataclass(frozen=True, config=_CONFIG)
class Unique(_RuleMethods):
    """``column`` is an identifier: no value may appear twice (missing values are ignored).

    Parameters
    ----------
    column : str
    action : {"drop", "raise"}, default "drop"
        ``drop`` keeps the first occurrence of each identifier and drops the later ones.
    """

    kind: ClassVar[str] = "unique"
    column: str
    action: Literal["drop", "raise"] = "drop"

    def violations(self, series: pd.Series) -> np.ndarray:
        return (series.duplicated(keep="first") & series.notna()).to_numpy(dtype=bool)


Rule = Range | NonNegative | Sentinel | Unique
_RULE_TYPES: dict[str, type[Any]] = {
    cls.kind: cls for cls in (Range, NonNegative, Sentinel, Unique)
}


def _rule_from_mapping(item: Mapping[str, Any]) -> Rule:
    fields = dict(item)
    kind = fields.pop("rule", None)
    if kind not in _RULE_TYPES:
        raise ValueError(
            f"unknown rule kind {kind!r} in {dict(item)!r}; choose one of {sorted(_RULE_TYPES)} "
            f"under the key 'rule'."
        )
    return _RULE_TYPES[kind](**fields)


def parse_rules(source: str | Path | Mapping[str, Any] | Sequence[Any]) -> tuple[Rule, ...]:
    """Read a rule set from JSON text, a JSON file, a mapping or a sequence.

    Parameters
    ----------
    source : str, Path, mapping or sequence
        A ``str`` is JSON text; a ``Path`` is a JSON file; a mapping must hold the list
        under ``"rules"``; a sequence may mix rule objects and mappings with a ``"rule"``
        key (``"range"``, ``"non_negative"``, ``"sentinel"``, ``"unique"``).

    Returns
    -------
    tuple of Rule

    Raises
    ------
    ValueError
        For an unknown rule kind or invalid fields (pydantic's ``ValidationError``).

    Examples
    --------
    >>> parse_rules('[{"rule": "sentinel", "column": "late_90", "values": [96, 98]}]')
    (Sentinel(column='late_90', values=(96.0, 98.0), action='nan'),)
    """
    items: Any = source
    if isinstance(items, Path):
        items = items.read_text(encoding="utf-8")
    if isinstance(items, str):
        items = json.loads(items)
    if isinstance(items, Mapping):
        if "rules" not in items:
            raise ValueError(
                f"a rule mapping must hold the list under 'rules'; got keys {list(items)}."
            )
        items = items["rules"]
    rules: list[Rule] = []
    for item in items:
        if isinstance(item, Range | NonNegative | Sentinel | Unique):
            rules.append(item)
        elif isinstance(item, Mapping):
            rules.append(_rule_from_mapping(item))
        else:
            raise ValueError(f"a rule must be a rule object or a mapping; got {item!r}.")
    return tuple(rules)


class ApplyRules(CleaningStep):
    """Enforce a rule set, rule by rule, in the given order.

    Parameters
    ----------
    rules : sequence of Rule or mapping, or JSON text / Path
        Anything :func:`parse_rules` reads.

    Attributes
    ----------
    rules_ : tuple of Rule
        The parsed rules.

    Raises
    ------
    SchemaError
        In ``fit`` / ``transform``, when a rule names a column the frame lacks, or a range
        rule names a non-numeric column.
    DataError
        In ``transform``, when a rule with ``action="raise"`` is broken.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"late": [0, 96, 2], "age": [30, 17, 45]})
    >>> step = ApplyRules([Sentinel("late", [96, 98]), Range("age", min=18, action="drop")])
    >>> step.fit_transform(X)
       late  age
    0   0.0   30
    2   2.0   45
    """

    def __init__(self, rules: Any = None) -> None:
        self.rules = rules

    def _validate_arguments(self) -> None:
        if self.rules is None:
            raise ValueError("ApplyRules needs a rule set; got rules=None.")

    def _learn(self, X: pd.DataFrame) -> None:
        self.rules_ = parse_rules(self.rules)
        if not self.rules_:
            raise ValueError("ApplyRules needs at least one rule; got an empty rule set.")
        self._check_rule_columns(X)

    def _check_rule_columns(self, X: pd.DataFrame) -> None:
        for rule in self.rules_:
            if rule.column not in X.columns:
                raise SchemaError(
                    f"rule {rule!r} names column {rule.column!r}, which is not in the frame."
                )
            dtype = X[rule.column].dtype
            if rule.needs_numeric and (
                not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            ):
                raise SchemaError(
                    f"rule {rule!r} needs a numeric column; {rule.column!r} has dtype {dtype}."
                )

    def _change(self, X: pd.DataFrame) -> Change:
        require_columns(X, [r.column for r in self.rules_], type(self).__name__)
        out = X.copy()
        kept = np.ones(len(X), dtype=bool)
        counts: list[dict[str, Any]] = []
        for rule in self.rules_:
            series = out[rule.column]
            broken = rule.violations(series)
            n_broken = int(broken.sum())
            counts.append({"rule": rule.to_dict(), "violations": n_broken})
            if not n_broken:
                continue
            if rule.action == "raise":
                examples = series[broken].unique()[:5].tolist()
                raise DataError(
                    f"rule {rule!r} is broken by {n_broken} row(s) of column {rule.column!r}; "
                    f"example values: {examples}."
                )
            if rule.action == "drop":
                kept[np.flatnonzero(kept)[broken]] = False
                out = out.loc[~broken]
            else:
                out[rule.column] = rule.repair(series, broken)
        return Change(out, kept, {"rules": counts})
