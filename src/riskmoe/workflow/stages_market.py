"""Market-risk stage of ``run``: VaR / ES of the S&P 500 today and how each method held up.

The S&P 500 daily series ships with ``arch`` (1999-2018), so this stage needs no shared
data and no network. Forecasts are out-of-sample (each day's VaR uses the 250 days
before it); the traffic light is read for the last 250 days and for 2008.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.risk import backtest
from riskmoe.workflow.context import RunContext
from riskmoe.workflow.returns import load_returns
from riskmoe.workflow.risk_jobs import rolling_forecasts

__all__ = ["MARKET_METHODS", "stage_market"]

MARKET_METHODS = ("historical", "ewma", "garch_t", "fhs")
_LEVEL = 0.99
_WINDOW = 250
_STRESS_YEAR = 2008


def _periods(returns: pd.Series) -> list[tuple[str, pd.Series]]:
    """The stress year and the last two years, each with a window of history before it."""
    idx = pd.DatetimeIndex(returns.index)
    stress = returns[(idx.year >= _STRESS_YEAR - 1) & (idx.year <= _STRESS_YEAR)]
    recent = returns.iloc[-(2 * 252 + _WINDOW) :]
    return [(str(_STRESS_YEAR), stress), ("last 250 days", recent)]


def stage_market(ctx: RunContext) -> None:
    """Add the market-risk section (S&P 500, 1-day 99% VaR and ES, four methods)."""
    returns = load_returns("sp500", ctx.settings)
    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    recent_lines: dict[str, pd.Series] = {}
    recent_returns: pd.Series | None = None
    for method in MARKET_METHODS:
        record: dict[str, Any] = {}
        for label, series in _periods(returns):
            fc = rolling_forecasts(
                series,
                level=_LEVEL,
                method=method,
                window=_WINDOW,
                random_state=ctx.settings.random_state,
            )
            realised = series.loc[fc.index]
            year = _STRESS_YEAR if label == str(_STRESS_YEAR) else None
            res = backtest(realised, fc["var"], fc["es"], _LEVEL, traffic_light_year=year)
            tl = res.traffic_light
            record[label] = {"exceptions": tl.exceptions, "zone": tl.zone}
            if year is None:
                record["var_today"] = float(fc["var"].iloc[-1])
                record["es_today"] = float(fc["es"].iloc[-1])
                recent_lines[method] = fc["var"].iloc[-504:]
                recent_returns = realised.iloc[-504:]
        summary[method] = record
        rows.append(
            [
                method,
                record["var_today"],
                record["es_today"],
                record["last 250 days"]["exceptions"],
                record["last 250 days"]["zone"],
                record[str(_STRESS_YEAR)]["exceptions"],
                record[str(_STRESS_YEAR)]["zone"],
            ]
        )
    ctx.results["market"] = {"source": "sp500", "level": _LEVEL, "methods": summary}
    assert recent_returns is not None
    dates = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(recent_returns.index)]
    traces = [Trace("daily return", dates, recent_returns.round(5).tolist())]
    traces += [
        Trace(f"−VaR {m}", dates, (-line).round(5).tolist(), dash="dash" if i else "solid")
        for i, (m, line) in enumerate(recent_lines.items())
    ]
    last = dates[-1]
    ctx.sections.append(
        Section(
            "market",
            "Market risk (S&P 500)",
            summary=(
                f"One-day 99% VaR and ES (latest forecast: {last}), losses as fractions of "
                f"value, from a {_WINDOW}-day window; each day's forecast uses only the days "
                "before it. "
                "Traffic light: Basel green (0-4 exceptions in 250 days), yellow (5-9), red (10+)."
            ),
            tables=(
                Table(
                    "VaR, ES and backtest zones by method",
                    [
                        "method",
                        "VaR today",
                        "ES today",
                        "exceptions (last 250 d)",
                        "zone",
                        f"exceptions ({_STRESS_YEAR})",
                        f"zone ({_STRESS_YEAR})",
                    ],
                    rows,
                    note="historical = 250-day historical simulation; ewma = normal with "
                    "EWMA(0.94) volatility; garch_t = GARCH(1,1) with Student t; fhs = "
                    "GARCH-filtered historical simulation.",
                ),
            ),
            figures=(
                Figure(
                    "Daily returns against −VaR (last two years)",
                    traces,
                    x_label="date",
                    y_label="return",
                ),
            ),
        )
    )
