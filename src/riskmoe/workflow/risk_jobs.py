"""Risk jobs behind ``riskmoe risk ...``: VaR/ES, backtests, IRB, grading with history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from riskmoe.config import Settings
from riskmoe.data.readers import read_table
from riskmoe.data.store import Store, TableVersion
from riskmoe.exceptions import SchemaError
from riskmoe.risk import (
    ASSET_CLASSES,
    BacktestResult,
    MasterScale,
    RiskEstimate,
    backtest,
    estimate_risk,
    irb_capital_requirement,
    irb_risk_weight,
    regrade,
    rolling_risk,
)
from riskmoe.risk.credit import AssetClass
from riskmoe.workflow.returns import load_returns

__all__ = [
    "GRADE_CHANGES_TABLE",
    "GRADE_HISTORY_TABLE",
    "GradingResult",
    "MarketRiskResult",
    "MarketBacktest",
    "grade_entities",
    "irb_summary",
    "market_backtest",
    "market_risk",
    "rolling_forecasts",
]

GRADE_HISTORY_TABLE = "grade_history"
GRADE_CHANGES_TABLE = "grade_changes"

# Method names a user types -> estimate_risk arguments. EWMA and GARCH are volatility
# models on top of the normal / Student t quantile.
_METHODS: dict[str, dict[str, Any]] = {
    "historical": {"method": "historical"},
    "normal": {"method": "normal"},
    "student_t": {"method": "student_t"},
    "ewma": {"method": "normal", "volatility": "ewma"},
    "garch_t": {"method": "student_t", "volatility": "garch"},
    "fhs": {"method": "fhs"},
    "monte_carlo": {"method": "monte_carlo"},
}
METHOD_NAMES = tuple(_METHODS)


def _method(name: str) -> dict[str, Any]:
    try:
        return dict(_METHODS[name])
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; choose one of {', '.join(METHOD_NAMES)}."
        ) from None


@dataclass(frozen=True)
class MarketRiskResult:
    """VaR and ES of one return series, with where the returns came from."""

    source: str
    first_date: str
    last_date: str
    estimate: RiskEstimate

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "source": self.source,
            "first_date": self.first_date,
            "last_date": self.last_date,
            **self.estimate.to_dict(),
        }


def _span(r: pd.Series) -> tuple[str, str]:
    return str(pd.Timestamp(r.index[0]).date()), str(pd.Timestamp(r.index[-1]).date())


def market_risk(
    source: str,
    settings: Settings,
    *,
    level: float = 0.99,
    method: str = "historical",
    window: int | None = 250,
    horizon: int = 1,
    horizon_method: str = "sqrt",
    column: str | None = None,
) -> MarketRiskResult:
    """VaR and ES (losses as positive fractions) of ``source`` as of its last day."""
    returns = load_returns(source, settings, column=column)
    est = estimate_risk(
        returns,
        level,
        window=window,
        horizon=horizon,
        horizon_method=horizon_method,  # type: ignore[arg-type]
        random_state=settings.random_state,
        **_method(method),
    )
    first, last = _span(returns.iloc[-window:] if window else returns)
    return MarketRiskResult(source, first, last, est)


def rolling_forecasts(
    returns: pd.Series, *, level: float, method: str, window: int, random_state: int
) -> pd.DataFrame:
    """Out-of-sample one-day VaR / ES forecasts (no look-ahead) for one method name."""
    return rolling_risk(
        returns, level, window=window, refit_every=20, random_state=random_state, **_method(method)
    )


@dataclass(frozen=True)
class MarketBacktest:
    """A VaR/ES backtest of one method on one source."""

    source: str
    method: str
    window: int
    result: BacktestResult

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "source": self.source,
            "method": self.method,
            "window": self.window,
            **self.result.to_dict(),
        }


def market_backtest(
    source: str,
    settings: Settings,
    *,
    level: float = 0.99,
    method: str = "historical",
    window: int = 250,
    year: int | None = None,
    column: str | None = None,
) -> MarketBacktest:
    """Rolling VaR/ES forecasts and their backtest (Kupiec, Christoffersen, traffic light,
    Acerbi-Szekely Z2) on ``source``; the traffic light covers ``year`` or the last 250 days.
    """
    returns = load_returns(source, settings, column=column)
    years = sorted(set(pd.DatetimeIndex(returns.index).year))
    if year is not None and year not in years:
        raise ValueError(f"{source} has no returns in {year}; it covers {years[0]}-{years[-1]}.")
    fc = rolling_forecasts(
        returns, level=level, method=method, window=window, random_state=settings.random_state
    )
    res = backtest(
        returns.loc[fc.index],
        fc["var"],
        fc["es"],
        level,
        traffic_light_year=year,
        random_state=settings.random_state,
    )
    return MarketBacktest(source, method, window, res)


def irb_summary(
    pd_: float,
    *,
    lgd: float = 0.45,
    maturity: float = 2.5,
    asset_class: str = "corporate",
    sales_eur_m: float | None = None,
    scaling: float = 1.0,
    ead: float = 1.0,
) -> dict[str, Any]:
    """Basel IRB capital requirement, risk weight, RWA and capital for one exposure."""
    if asset_class not in ASSET_CLASSES:
        raise ValueError(
            f"unknown asset class {asset_class!r}; choose one of {', '.join(ASSET_CLASSES)}."
        )
    cls = cast(AssetClass, asset_class)
    k = irb_capital_requirement(
        pd_,
        lgd,
        maturity,
        asset_class=cls,
        sales_eur_m=sales_eur_m,
    )
    rw = irb_risk_weight(
        pd_,
        lgd,
        maturity,
        asset_class=cls,
        sales_eur_m=sales_eur_m,
        scaling=scaling,
    )
    return {
        "pd": pd_,
        "lgd": lgd,
        "maturity": maturity,
        "asset_class": asset_class,
        "sales_eur_m": sales_eur_m,
        "scaling": scaling,
        "ead": ead,
        "capital_requirement_k": float(k),
        "risk_weight": float(rw),
        "rwa": float(rw) * ead,
        "capital": float(rw) * ead * 0.08,
    }


@dataclass(frozen=True)
class GradingResult:
    """New grades, the changes against the stored history, and the stored versions."""

    graded: pd.DataFrame
    changes: pd.DataFrame
    versions: dict[str, TableVersion]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "graded": self.graded.astype({"as_of": str}).to_dict(orient="records"),
            "changes": self.changes.astype(str).to_dict(orient="records"),
            "versions": {k: v.to_dict() for k, v in self.versions.items()},
        }


def _as_text_grades(frame: pd.DataFrame) -> pd.DataFrame:
    # grades are 1..10 or "D": stored as text so one column holds both
    return frame.assign(grade=frame["grade"].astype(str)) if "grade" in frame else frame


def grade_entities(
    new: pd.DataFrame | str | Path, settings: Settings, *, scale: MasterScale | None = None
) -> GradingResult:
    """Re-grade newly scored entities against the stored grade history.

    ``new`` has ``entity``, ``as_of``, ``pd`` and optionally ``model_version`` and
    ``defaulted``. The updated history and the list of changes are written to the store
    in one transaction (tables ``grade_history`` and ``grade_changes``).
    """
    frame = read_table(new) if isinstance(new, str | Path) else new.copy()
    missing = [c for c in ("entity", "as_of", "pd") if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"scores to grade need columns entity, as_of, pd; missing {missing}; "
            f"got {list(frame.columns)}."
        )
    if "model_version" not in frame.columns:
        frame["model_version"] = "unknown"
    frame["entity"] = frame["entity"].astype(str)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    with Store(settings.resolved_store_path) as store:
        history = store.table(GRADE_HISTORY_TABLE) if store.latest(GRADE_HISTORY_TABLE) else None
        old_changes = (
            store.table(GRADE_CHANGES_TABLE) if store.latest(GRADE_CHANGES_TABLE) else None
        )
        result = regrade(history, frame, scale=scale)
        changes = _as_text_grades(result.changes)
        for col in ("old_grade", "new_grade"):
            if col in changes:
                changes[col] = changes[col].astype(str)
        all_changes = (
            changes
            if old_changes is None or old_changes.empty
            else pd.concat([old_changes, changes], ignore_index=True)
        )
        tables = {GRADE_HISTORY_TABLE: _as_text_grades(result.history)}
        if not all_changes.empty:
            tables[GRADE_CHANGES_TABLE] = all_changes.reset_index(drop=True)
        versions = store.ingest_many(tables)
    key = frame[["entity", "as_of"]]
    graded = result.history.merge(key, on=["entity", "as_of"], how="inner")
    return GradingResult(graded=graded, changes=result.changes, versions=versions)


def grade_pds(pds: list[float], scale: MasterScale | None = None) -> list[dict[str, Any]]:
    """Grade and tier for each PD on the master scale."""
    scale = scale or MasterScale()
    arr = np.asarray(pds, dtype=float)
    grades = np.atleast_1d(scale.grade(arr))
    tiers = np.atleast_1d(scale.tier(arr))
    return [
        {"pd": float(p), "grade": int(g), "tier": str(t)}
        for p, g, t in zip(arr, grades, tiers, strict=True)
    ]
