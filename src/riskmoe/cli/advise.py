"""``riskmoe advise ...``: RAROC, risk-based prices, limits, hedges, allocation, recommendations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe.advice import AllocationConstraints, PricingTerms, Recommendation
from riskmoe.cli._app import JsonOpt, app, err, handles_errors, load_settings, out, print_json
from riskmoe.workflow import advice_jobs

advise_app = typer.Typer(
    help="Advise: RAROC, risk-based pricing, limits, hedging, allocation, recommendations.",
    no_args_is_help=True,
)
app.add_typer(advise_app, name="advise")

HurdleOpt = Annotated[float, typer.Option(help="Required RAROC.")]
FundingOpt = Annotated[float, typer.Option(help="Funding rate on the full exposure.")]
OpexOpt = Annotated[float, typer.Option(help="Operating cost rate.")]
CapReturnOpt = Annotated[float, typer.Option(help="Return earned on the capital held.")]
TaxOpt = Annotated[float, typer.Option(help="Tax rate.")]


def _terms(
    hurdle: float,
    funding: float,
    opex: float,
    cap_return: float,
    tax: float,
    lgd: float = 0.45,
    asset_class: str = "other_retail",
) -> PricingTerms:
    return PricingTerms(
        funding_rate=funding,
        operating_cost_rate=opex,
        hurdle=hurdle,
        capital_return_rate=cap_return,
        tax_rate=tax,
        lgd=lgd,
        asset_class=asset_class,
    )


def _print_recs(recs: list[Recommendation]) -> None:
    if not recs:
        out.print("no recommendation: nothing crosses its threshold.")
        return
    for i, r in enumerate(recs, 1):
        out.print(
            f"[bold]{i}. [{r.kind}] {r.action}[/]  (confidence {r.confidence:.2f})", highlight=False
        )
        out.print(f"   why: {r.rationale}", highlight=False, soft_wrap=True)
        out.print(f"   effect: {r.expected_effect}", highlight=False, soft_wrap=True)


@advise_app.command("raroc")
@handles_errors
def advise_raroc(
    exposure: Annotated[float, typer.Option(help="Amount lent.")],
    rate: Annotated[float, typer.Option(help="Interest rate charged.")],
    el_rate: Annotated[float, typer.Option(help="Expected loss / exposure (PD x LGD).")],
    capital_ratio: Annotated[float, typer.Option(help="Economic capital / exposure.")],
    funding_rate: FundingOpt = 0.015,
    opex_rate: OpexOpt = 0.01,
    capital_return_rate: CapReturnOpt = 0.0,
    tax_rate: TaxOpt = 0.0,
    hurdle: HurdleOpt = 0.15,
    as_json: JsonOpt = False,
) -> None:
    """RAROC of one loan and its break-even rate at the hurdle."""
    res, breakeven = advice_jobs.loan_raroc(
        exposure,
        rate,
        funding_rate,
        el_rate,
        opex_rate,
        capital_ratio,
        capital_return_rate,
        tax_rate,
        hurdle,
    )
    if as_json:
        print_json({**res.to_dict(), "hurdle": hurdle, "break_even_rate": breakeven})
        return
    out.print(
        f"net income {res.net_income:,.2f} on capital {res.economic_capital:,.2f}: "
        f"RAROC {res.raroc:.2%}"
    )
    out.print(f"break-even rate for a {hurdle:.0%} hurdle: {breakeven:.2%}")


@advise_app.command("price")
@handles_errors
def advise_price(
    pds: Annotated[list[float] | None, typer.Argument(help="PDs to price (0-1).")] = None,
    dataset: Annotated[
        str | None, typer.Option(help="Price the stored portfolio of this dataset by grade.")
    ] = None,
    lgd: Annotated[float, typer.Option(help="LGD for the PDs.")] = 0.45,
    asset_class: Annotated[
        str, typer.Option(help="corporate, mortgage, qrre or other_retail.")
    ] = "other_retail",
    hurdle: HurdleOpt = 0.15,
    funding_rate: FundingOpt = 0.015,
    opex_rate: OpexOpt = 0.01,
    capital_return_rate: CapReturnOpt = 0.03,
    tax_rate: TaxOpt = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Risk-based rate = funding + operating cost + EL + IRB capital charge at the hurdle."""
    terms = _terms(hurdle, funding_rate, opex_rate, capital_return_rate, tax_rate, lgd, asset_class)
    if dataset is not None:
        res = advice_jobs.advise_portfolio(load_settings(), dataset, terms=terms)
        frame = res.pricing
        title = f"risk-based rate by grade, {res.source}"
    else:
        frame = advice_jobs.price_pds(pds or [], terms)
        title = "risk-based rate per PD"
    if as_json:
        print_json(
            {
                "terms": terms.to_dict(),
                "rows": [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")],
            }
        )
        return
    table = Table(title=title)
    cols = [
        c
        for c in ("grade", "tier", "n", "pd", "el_rate", "capital_ratio", "capital_charge", "rate")
        if c in frame
    ]
    for c in cols:
        table.add_column(c, justify="right")
    for _, r in frame.iterrows():
        table.add_row(
            *[
                f"{r[c]:.2%}"
                if c in ("pd", "el_rate", "capital_ratio", "capital_charge", "rate")
                else str(r[c])
                for c in cols
            ]
        )
    out.print(table)


@advise_app.command("portfolio")
@handles_errors
def advise_portfolio(
    dataset: Annotated[str, typer.Argument(help="Dataset whose `riskmoe run` portfolio to use.")],
    limits: Annotated[
        Path | None, typer.Option(help="JSON limit policy (default: a starting policy).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Rate charged today (default: one flat break-even rate).")
    ] = None,
    hurdle: HurdleOpt = 0.15,
    funding_rate: FundingOpt = 0.015,
    opex_rate: OpexOpt = 0.01,
    capital_return_rate: CapReturnOpt = 0.03,
    tax_rate: TaxOpt = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Price by grade, check limits (breaches -> alerts) and recommend for a scored portfolio."""
    settings = load_settings()
    policy = advice_jobs.load_policy(limits) if limits is not None else None
    terms = _terms(hurdle, funding_rate, opex_rate, capital_return_rate, tax_rate)
    res = advice_jobs.advise_portfolio(
        settings, dataset, terms=terms, policy=policy, current_rate=rate
    )
    if as_json:
        print_json(res.to_dict())
        return
    lim = res.limits
    out.print(
        f"{res.source}: {len(lim.checks)} limit checks, {len(lim.breaches)} breaches, "
        f"{len(lim.warnings)} warnings; {res.alerts_added} new alerts stored."
    )
    _print_recs(res.recommendations)


@advise_app.command("entity")
@handles_errors
def advise_entity(
    pd_: Annotated[float, typer.Option("--pd", help="Probability of default (0-1).")],
    name: Annotated[str, typer.Option(help="Who is being priced.")] = "this applicant",
    rate: Annotated[float | None, typer.Option(help="Rate offered today.")] = None,
    lgd: Annotated[float | None, typer.Option(help="LGD (default 45%).")] = None,
    hurdle: HurdleOpt = 0.15,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for one applicant from its PD."""
    terms = PricingTerms(hurdle=hurdle)
    recs = advice_jobs.advise_entity(pd_, name=name, current_rate=rate, lgd=lgd, terms=terms)
    if as_json:
        print_json([r.to_dict() for r in recs])
        return
    _print_recs(recs)


@advise_app.command("hedge")
@handles_errors
def advise_hedge(
    tickers: Annotated[list[str], typer.Argument(help="S&P 500 tickers of the basket.")],
    value: Annotated[float, typer.Option(help="Basket value in USD.")] = 10_000_000.0,
    fit_share: Annotated[float, typer.Option(help="Share of history used to fit.")] = 0.4,
    as_json: JsonOpt = False,
) -> None:
    """Hedge an equal-weighted S&P 500 basket with the index (E-mini contracts)."""
    with err.status("fitting the hedge"):
        res = advice_jobs.hedge_basket(
            load_settings(), tickers, position_value=value, fit_share=fit_share
        )
    if as_json:
        print_json(res.to_dict())
        return
    h = res.hedge
    out.print(
        f"fit {res.fit_period}: h* = {h.ratio:.4f}, rho = {h.correlation:.3f}, "
        f"effectiveness {h.effectiveness:.1%}; out of sample {res.test_period}: "
        f"variance reduction {res.variance_reduction_out_of_sample:.1%}"
    )
    _print_recs(res.recommendations)


@advise_app.command("allocate")
@handles_errors
def advise_allocate(
    tickers: Annotated[
        list[str] | None, typer.Argument(help="S&P 500 tickers (default: all with full history).")
    ] = None,
    method: Annotated[str, typer.Option(help="mean_cvar, risk_parity or equal_weight.")] = (
        "mean_cvar"
    ),
    max_weight: Annotated[float, typer.Option(help="Largest weight of one stock.")] = 0.10,
    high_cap: Annotated[float, typer.Option(help="Largest total weight of high-risk names.")] = (
        0.10
    ),
    window: Annotated[int, typer.Option(help="Days of history to fit on.")] = 252,
    as_json: JsonOpt = False,
) -> None:
    """Allocate across S&P 500 stocks with the risk tier as a constraint (skfolio)."""
    constraints = AllocationConstraints(max_weight=max_weight, high_cap=high_cap)
    with err.status(f"optimising ({method})"):
        alloc = advice_jobs.allocate_stocks(
            load_settings(), tickers, method=method, window=window, constraints=constraints
        )
    if as_json:
        print_json(alloc.to_dict())
        return
    tw = alloc.tier_weights()
    out.print(
        f"{alloc.method}: {len(alloc.weights)} stocks; weight by tier: "
        + ", ".join(f"{t} {w:.1%}" for t, w in tw.items())
    )
    table = Table(title="largest weights")
    table.add_column("ticker")
    table.add_column("tier")
    table.add_column("weight", justify="right")
    top = alloc.weights.sort_values(ascending=False).head(15)
    tiers = alloc.tiers.reindex(top.index)
    for t, w, tier in zip(top.index, top.to_numpy(), tiers.to_numpy(), strict=True):
        table.add_row(str(t), str(tier), f"{w:.2%}")
    out.print(table)
