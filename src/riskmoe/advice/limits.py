"""Exposure and concentration limits, per product and per grade, with each product's warning level.

A :class:`Limit` caps either an amount (``kind="exposure"``) or a share of the book
(``kind="concentration"``) for the exposures in one group (``by`` a column, e.g. ``grade``,
``industry``, ``region``, ``name``; one ``group`` or each group), optionally inside one
product. :func:`check_limits` measures every limit on a book and returns a
:class:`LimitReport`; its :meth:`LimitReport.alerts` are the monitoring room's
:class:`~riskmoe.monitoring.alerts.Alert` records, one per breach or warning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmoe.exceptions import ConfigError, DataError, SchemaError
from riskmoe.monitoring.alerts import Alert, alert_id_for

__all__ = [
    "LIMIT_KINDS",
    "Limit",
    "LimitCheck",
    "LimitPolicy",
    "LimitReport",
    "check_limits",
]

LimitKind = Literal["exposure", "concentration"]
LIMIT_KINDS: tuple[LimitKind, ...] = ("exposure", "concentration")
Status = Literal["ok", "warning", "breach"]


@dataclass(frozen=True)
class Limit:
    """One limit.

    Parameters
    ----------
    kind : {"exposure", "concentration"}
        ``exposure`` caps the summed EAD of the group; ``concentration`` caps its share of
        the EAD of the book (of the product's book when ``product`` is set).
    limit : float
        An amount (> 0) for ``exposure``; a share in ``(0, 1]`` for ``concentration``.
    by : str or None
        The column that forms the groups (``grade``, ``industry``, ``region``, ``name``...);
        None = the whole (product) book.
    group : str or None
        One group of ``by`` (e.g. grade ``"7"``); None = every group, each on its own
        (a single-name limit is ``by="name", group=None``).
    product : str or None
        Only the exposures whose ``product`` column equals this.
    name : str, optional
        A label; built from the other fields when empty.

    Examples
    --------
    >>> Limit("concentration", 0.25, by="industry").name
    'concentration[industry=*]'
    """

    kind: LimitKind
    limit: float
    by: str | None = None
    group: str | None = None
    product: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in LIMIT_KINDS:
            raise ConfigError(f"limit kind must be one of {list(LIMIT_KINDS)}; got {self.kind!r}.")
        try:
            value = float(self.limit)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"limit must be a number; got {self.limit!r}.") from exc
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(
                f"limit {self.kind} must be > 0 (a limit of {self.limit!r} can never be met)."
            )
        if self.kind == "concentration" and value > 1:
            raise ConfigError(f"a concentration limit is a share in (0, 1]; got {value:g}.")
        if self.group is not None and self.by is None:
            raise ConfigError(f"group={self.group!r} needs the column it belongs to (by=...).")
        object.__setattr__(self, "limit", value)
        if self.group is not None:
            object.__setattr__(self, "group", str(self.group))
        if not self.name:
            scope = (
                "" if self.by is None else f"{self.by}={'*' if self.group is None else self.group}"
            )
            prefix = f"{self.product}:" if self.product else ""
            object.__setattr__(self, "name", f"{prefix}{self.kind}[{scope}]")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; ``Limit(**d)`` reads it back."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LimitPolicy:
    """A set of limits and the warning level of each product.

    Parameters
    ----------
    limits : sequence of Limit
    warning_levels : mapping of product -> float
        Utilisation (value / limit) from which a product's limits warn, in ``(0, 1]``.
    default_warning : float, default 0.9
        For limits with no product, or a product without its own level.

    Raises
    ------
    ConfigError
        Warning levels outside ``(0, 1]``, duplicate limit names, or limits that contradict
        each other (see :meth:`check_feasible`).

    Examples
    --------
    >>> p = LimitPolicy([Limit("exposure", 1e6, product="qrre")], {"qrre": 0.8})
    >>> p.warning_level(p.limits[0])
    0.8
    """

    limits: Sequence[Limit]
    warning_levels: Mapping[str, float] = field(default_factory=dict)
    default_warning: float = 0.9

    def __post_init__(self) -> None:
        limits = tuple(self.limits)
        for lim in limits:
            if not isinstance(lim, Limit):
                raise ConfigError(f"limits must be Limit objects; got {type(lim).__name__}.")
        names = [lim.name for lim in limits]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"limit names must be unique; repeated: {dupes}.")
        levels = {str(k): float(v) for k, v in dict(self.warning_levels).items()}
        for product, level in [*levels.items(), ("default", float(self.default_warning))]:
            if not (0 < level <= 1):
                raise ConfigError(
                    f"warning level of {product!r} must be in (0, 1] (a share of the limit); "
                    f"got {level:g}."
                )
        object.__setattr__(self, "limits", limits)
        object.__setattr__(self, "warning_levels", levels)

    def warning_level(self, limit: Limit) -> float:
        """The utilisation at which ``limit`` warns."""
        if limit.product is not None and limit.product in self.warning_levels:
            return self.warning_levels[limit.product]
        return float(self.default_warning)

    def check_feasible(self, book: pd.DataFrame) -> None:
        """Refuse limits that no book with these groups could meet.

        A concentration limit on *every* group of a column caps the book at
        ``n_groups x share``; below 100 % the limits contradict each other.

        Raises
        ------
        ConfigError
            Naming the limit, the number of groups and the largest share they allow.
        """
        for lim in self.limits:
            if lim.kind != "concentration" or lim.by is None or lim.group is not None:
                continue
            scope = _scope(book, lim)
            if lim.by not in scope or scope.empty:
                continue
            k = int(scope[lim.by].nunique())
            if k * lim.limit < 1.0 - 1e-12:
                raise ConfigError(
                    f"infeasible limits: {lim.name} caps each of the {k} {lim.by} groups at "
                    f"{lim.limit:.1%}, so at most {k * lim.limit:.1%} of the book could be held; "
                    f"raise the share to at least {1.0 / k:.1%}."
                )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; :meth:`from_dict` reads it back."""
        return {
            "limits": [lim.to_dict() for lim in self.limits],
            "warning_levels": dict(self.warning_levels),
            "default_warning": float(self.default_warning),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LimitPolicy:
        """Read a policy from :meth:`to_dict` output (e.g. a JSON file).

        Raises
        ------
        ConfigError
            Unknown keys or bad limits.
        """
        allowed = {"limits", "warning_levels", "default_warning"}
        extra = sorted(set(data) - allowed)
        if extra or "limits" not in data:
            raise ConfigError(
                f"a limit policy has the keys {sorted(allowed)} ('limits' required); "
                f"got {sorted(data)}."
            )
        fields = {"kind", "limit", "by", "group", "product", "name"}
        limits = []
        for i, item in enumerate(data["limits"]):
            if not isinstance(item, Mapping) or not set(item) <= fields:
                raise ConfigError(
                    f"limits[{i}] must be an object with keys from {sorted(fields)}; got {item!r}."
                )
            limits.append(Limit(**item))
        return cls(limits, data.get("warning_levels", {}), data.get("default_warning", 0.9))

    @classmethod
    def from_json(cls, text: str) -> LimitPolicy:
        """Parse a JSON policy.

        Raises
        ------
        ConfigError
            Invalid JSON or policy.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"limit policy is not valid JSON: {exc}.") from exc
        if not isinstance(data, Mapping):
            raise ConfigError("a limit policy must be a JSON object.")
        return cls.from_dict(data)


@dataclass(frozen=True)
class LimitCheck:
    """One limit measured on one group."""

    limit: str
    kind: str
    subject: str
    product: str | None
    by: str | None
    group: str | None
    value: float
    threshold: float
    utilisation: float
    warning_level: float
    status: Status

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LimitReport:
    """Every limit measured on a book; breaches and warnings become alerts."""

    checks: tuple[LimitCheck, ...]
    as_of: datetime
    source: str
    total_exposure: float

    @property
    def breaches(self) -> tuple[LimitCheck, ...]:
        """Checks over their limit."""
        return tuple(c for c in self.checks if c.status == "breach")

    @property
    def warnings(self) -> tuple[LimitCheck, ...]:
        """Checks at or above their product's warning level but within the limit."""
        return tuple(c for c in self.checks if c.status == "warning")

    def frame(self) -> pd.DataFrame:
        """One row per check."""
        return pd.DataFrame([c.to_dict() for c in self.checks])

    def alerts(self) -> list[Alert]:
        """One :class:`~riskmoe.monitoring.alerts.Alert` per breach (critical) or warning."""
        out: list[Alert] = []
        for c in self.checks:
            if c.status == "ok":
                continue
            rule = "limit_breach" if c.status == "breach" else "limit_warning"
            shown = _shown(c.kind)
            verb = "exceeds" if c.status == "breach" else f"is at {c.utilisation:.0%} of"
            out.append(
                Alert(
                    alert_id=alert_id_for(
                        rule, c.limit, c.subject, self.as_of.isoformat(), self.source
                    ),
                    subject=c.subject,
                    rule=rule,
                    severity="critical" if c.status == "breach" else "warning",
                    message=(
                        f"{c.kind} of {c.subject}: {shown(c.value)} {verb} the limit "
                        f"{shown(c.threshold)} ({c.limit}"
                        + (
                            f"; warning level {c.warning_level:.0%}"
                            if c.status == "warning"
                            else ""
                        )
                        + ")."
                    ),
                    as_of=self.as_of,
                    source=self.source,
                    value=float(c.value),
                    threshold=float(c.threshold),
                    dimension=c.by,
                    details={
                        "limit": c.limit,
                        "kind": c.kind,
                        "product": c.product,
                        "by": c.by,
                        "group": c.group,
                        "utilisation": c.utilisation,
                        "warning_level": c.warning_level,
                    },
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "total_exposure": self.total_exposure,
            "n_breaches": len(self.breaches),
            "n_warnings": len(self.warnings),
            "checks": [c.to_dict() for c in self.checks],
        }


def _cell(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def _shown(kind: str) -> Any:
    if kind == "concentration":
        return lambda v: f"{v:.1%}"
    return lambda v: f"{v:,.0f}"


def _scope(book: pd.DataFrame, lim: Limit) -> pd.DataFrame:
    if lim.product is None:
        return book
    if "product" not in book:
        raise SchemaError(f"limit {lim.name} is per product but the book has no 'product' column.")
    return book[book["product"].astype(str) == lim.product]


def check_limits(
    book: pd.DataFrame,
    policy: LimitPolicy,
    *,
    as_of: datetime,
    source: str,
) -> LimitReport:
    """Measure every limit of ``policy`` on ``book``.

    Parameters
    ----------
    book : pandas.DataFrame
        One row per exposure: ``ead`` (>= 0) and the columns the limits group by
        (``product``, ``grade``, ``industry``, ``region``, ``name``...).
    policy : LimitPolicy
    as_of : datetime
        When the book was observed (goes into the alerts).
    source : str
        Where the book came from (a table version, a job).

    Returns
    -------
    LimitReport

    Raises
    ------
    SchemaError
        No ``ead`` column, or a column a limit groups by is missing.
    DataError
        An empty book, or a negative or missing exposure.
    ConfigError
        Contradictory limits (:meth:`LimitPolicy.check_feasible`).

    Examples
    --------
    >>> book = pd.DataFrame({"ead": [60.0, 30.0, 10.0], "industry": ["a", "a", "b"]})
    >>> r = check_limits(book, LimitPolicy([Limit("concentration", 0.8, by="industry")]),
    ...                  as_of=datetime(2024, 1, 31), source="doc")
    >>> [(c.group, round(c.value, 2), c.status) for c in r.checks]
    [('a', 0.9, 'breach'), ('b', 0.1, 'ok')]
    """
    if "ead" not in book:
        raise SchemaError(f"book needs an 'ead' column; columns: {list(book.columns)}.")
    if len(book) == 0:
        raise DataError("book is empty; there are no exposures to check against limits.")
    ead = pd.to_numeric(book["ead"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(ead) | (ead < 0)
    if bad.any():
        pos = int(np.argmax(bad))
        raise DataError(
            f"book.ead must be a finite amount >= 0; got {_cell(book['ead'].iloc[pos])} "
            f"at row {pos} "
            "(a negative exposure is not an exposure)."
        )
    for lim in policy.limits:
        if lim.by is not None and lim.by not in book:
            raise SchemaError(
                f"limit {lim.name} groups by {lim.by!r}, which the book lacks; columns: "
                f"{list(book.columns)}."
            )
    work = book.assign(ead=ead)
    policy.check_feasible(work)
    checks: list[LimitCheck] = []
    for lim in policy.limits:
        scope = _scope(work, lim)
        base = float(scope["ead"].sum())
        if lim.by is None:
            groups: list[tuple[str | None, float]] = [(None, base)]
        else:
            sums = scope.groupby(scope[lim.by].astype(str), sort=True)["ead"].sum()
            if lim.group is not None:
                groups = [(lim.group, float(sums.get(lim.group, 0.0)))]
            else:
                groups = [(str(g), float(v)) for g, v in sums.items()]
        level = policy.warning_level(lim)
        for group, amount in groups:
            value = amount if lim.kind == "exposure" else (amount / base if base > 0 else 0.0)
            use = value / lim.limit
            status: Status = (
                "breach" if value > lim.limit else ("warning" if use >= level else "ok")
            )
            parts = [p for p in (lim.product, None if lim.by is None else f"{lim.by}={group}") if p]
            checks.append(
                LimitCheck(
                    limit=lim.name,
                    kind=lim.kind,
                    subject=" ".join(parts) or "book",
                    product=lim.product,
                    by=lim.by,
                    group=group,
                    value=value,
                    threshold=lim.limit,
                    utilisation=use,
                    warning_level=level,
                    status=status,
                )
            )
    return LimitReport(tuple(checks), as_of, source, float(ead.sum()))
