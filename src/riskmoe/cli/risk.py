"""``riskmoe risk ...``: VaR, ES, backtests, IRB, grades."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe.cli._app import (
    JsonOpt,
    err,
    fail,
    handles_errors,
    load_settings,
    out,
    print_json,
    risk_app,
)
from riskmoe.workflow import risk_jobs

SourceArg = Annotated[
    str,
    typer.Argument(
        help="Returns: sp500, sp500:TICKER, csi300, cn:CODE (e.g. cn:600519.SH) or a file path."
    ),
]
LevelOpt = Annotated[float, typer.Option(help="Confidence level in (0, 1).")]
MethodOpt = Annotated[
    str, typer.Option(help="historical, normal, student_t, ewma, garch_t, fhs, monte_carlo.")
]
ColumnOpt = Annotated[str | None, typer.Option(help="Returns column when SOURCE is a file.")]


def _print_market(result: risk_jobs.MarketRiskResult, as_json: bool, what: str) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    e = result.estimate
    shown_vol = e.volatility not in ("sample", "none")
    label = e.method + (f" ({e.volatility} volatility)" if shown_vol else "")
    out.print(
        f"{result.source}, {result.first_date} to {result.last_date} ({e.n_observations:,} days), "
        f"{label}, {e.horizon}-day {e.level:.1%}:"
    )
    if what in ("var", "both"):
        out.print(f"  VaR = {e.var:.4%} of value (a loss)")
    out.print(f"  ES  = {e.es:.4%} of value (a loss)")


def _market_command(
    source: str,
    level: float,
    method: str,
    window: int,
    horizon: int,
    horizon_method: str,
    column: str | None,
    as_json: bool,
    what: str,
) -> None:
    """The shared body of ``risk var`` and ``risk es`` (they differ in default level)."""
    result = risk_jobs.market_risk(
        source,
        load_settings(),
        level=level,
        method=method,
        window=window or None,
        horizon=horizon,
        horizon_method=horizon_method,
        column=column,
    )
    _print_market(result, as_json, what)


HistoryOpt = Annotated[int, typer.Option("--window", help="Days of history (0 = all).")]
HorizonOpt = Annotated[int, typer.Option("--horizon", help="Horizon in days.")]
HorizonMethodOpt = Annotated[str, typer.Option("--horizon-method", help="sqrt or simulation.")]


@risk_app.command("var")
@handles_errors
def risk_var(
    source: SourceArg,
    level: LevelOpt = 0.99,
    method: MethodOpt = "historical",
    window: HistoryOpt = 250,
    horizon: HorizonOpt = 1,
    horizon_method: HorizonMethodOpt = "sqrt",
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Value at risk (and ES) of a return series as of its last day; losses are positive."""
    _market_command(source, level, method, window, horizon, horizon_method, column, as_json, "both")


@risk_app.command("es")
@handles_errors
def risk_es(
    source: SourceArg,
    level: LevelOpt = 0.975,
    method: MethodOpt = "historical",
    window: HistoryOpt = 250,
    horizon: HorizonOpt = 1,
    horizon_method: HorizonMethodOpt = "sqrt",
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Expected shortfall (default 97.5%, the FRTB level) of a return series."""
    _market_command(source, level, method, window, horizon, horizon_method, column, as_json, "es")


@risk_app.command("backtest")
@handles_errors
def risk_backtest(
    source: SourceArg,
    level: LevelOpt = 0.99,
    method: MethodOpt = "historical",
    window: Annotated[int, typer.Option(help="Rolling window in days.")] = 250,
    year: Annotated[
        int | None, typer.Option(help="Traffic-light year (default: last 250 days).")
    ] = None,
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rolling out-of-sample VaR/ES, backtested: Kupiec, Christoffersen, traffic light, Z2."""
    with err.status(f"rolling {method} forecasts on {source}"):
        bt = risk_jobs.market_backtest(
            source,
            load_settings(),
            level=level,
            method=method,
            window=window,
            year=year,
            column=column,
        )
    if as_json:
        print_json(bt.to_dict())
        return
    r = bt.result
    tl = r.traffic_light
    colour = {"green": "green", "yellow": "yellow", "red": "red"}[tl.zone]
    out.print(
        f"{source}, {method}, {window}-day window, {level:.1%}: {r.exceptions} exceptions in "
        f"{r.observations:,} days ({r.exception_rate:.2%}, expected {1 - level:.2%})"
    )
    out.print(
        f"  Kupiec LR = {r.kupiec.statistic:.3f} (p = {r.kupiec.p_value:.4f}); "
        f"Christoffersen LR_cc = {r.christoffersen.lr_cc:.3f} "
        f"(p = {r.christoffersen.p_value_cc:.4f})"
    )
    out.print(
        f"  traffic light ({r.traffic_light_period}): [{colour}]{tl.zone}[/], {tl.exceptions} "
        f"exceptions, cumulative probability {tl.cumulative_probability:.2%}, "
        f"plus factor {tl.plus_factor:.2f}"
    )
    table = Table(title="exceptions per year")
    for col in ("year", "days", "exceptions"):
        table.add_column(col, justify="right")
    for y in r.exceptions_per_year:
        table.add_row(str(y.year), str(y.observations), str(y.exceptions))
    out.print(table)


@risk_app.command("irb")
@handles_errors
def risk_irb(
    pd_: Annotated[float, typer.Option("--pd", help="Probability of default in [0, 1].")],
    lgd: Annotated[float, typer.Option(help="Loss given default.")] = 0.45,
    maturity: Annotated[float, typer.Option(help="Effective maturity in years.")] = 2.5,
    asset_class: Annotated[
        str, typer.Option(help="corporate, mortgage, qrre, other_retail.")
    ] = "corporate",
    sales: Annotated[
        float | None, typer.Option(help="Annual sales in EUR m (SME adjustment).")
    ] = None,
    scaling: Annotated[float, typer.Option(help="IRB scaling factor (1.06 under Basel II).")] = 1.0,
    ead: Annotated[float, typer.Option(help="Exposure at default.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Basel IRB risk weight, RWA and capital for one exposure."""
    res = risk_jobs.irb_summary(
        pd_,
        lgd=lgd,
        maturity=maturity,
        asset_class=asset_class,
        sales_eur_m=sales,
        scaling=scaling,
        ead=ead,
    )
    if as_json:
        print_json(res)
        return
    out.print(
        f"{asset_class}, PD {pd_:.4%}, LGD {lgd:.0%}, M {maturity:g}: "
        f"K = {res['capital_requirement_k']:.4%}, risk weight = {res['risk_weight']:.2%}, "
        f"RWA = {res['rwa']:,.2f}, capital = {res['capital']:,.2f}"
    )


@risk_app.command("grade")
@handles_errors
def risk_grade(
    pds: Annotated[
        list[float] | None, typer.Option("--pd", help="PD(s) to grade (repeatable).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="Scores to re-grade against the stored history: "
            "entity, as_of, pd[, model_version]."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade PDs on the master scale, or re-grade scored entities and keep the history."""
    if (pds is None) == (file is None):
        fail("give either --pd (one or more) or --file, not both and not neither.")
    if pds is not None:
        rows = risk_jobs.grade_pds(pds)
        if as_json:
            print_json(rows)
            return
        table = Table(title="master scale")
        for col in ("PD", "grade", "tier"):
            table.add_column(col, justify="right")
        for r in rows:
            table.add_row(f"{r['pd']:.4%}", str(r["grade"]), r["tier"])
        out.print(table)
        return
    assert file is not None
    result = risk_jobs.grade_entities(file, load_settings())
    if as_json:
        print_json(result.to_dict())
        return
    out.print(f"graded {len(result.graded):,} rows; {len(result.changes):,} grade changes")
    for _, c in result.changes.iterrows():
        out.print(
            f"  {c['entity']}: {c['old_grade']} -> {c['new_grade']} ({c['direction']}) on "
            f"{str(c['as_of'])[:10]}"
        )
