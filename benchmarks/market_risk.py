"""Benchmark: rolling VaR/ES backtests on real index history, and a nonlinear book.

1. Rolling 250-day, one-day 99 % VaR and ES forecasts of every method on S&P 500 daily
   returns (``arch.data.sp500``, 1999-2018) and CSI 300 index returns (``load_dataset(
   "csi300")``, 2010-2021), backtested with Kupiec, Christoffersen, the Basel traffic
   light (2008 for the S&P 500, the 2015 crash year for the CSI 300) and the
   Acerbi-Szekely Z2 test.
2. A nonlinear book (short S&P 500 straddle, long puts -- European and American --, a
   10-year bond, a GBP deposit) revalued under one-month factor moves from FRED-MD
   (S&P 500, 3-month and 10-year Treasury yields, USD/GBP): full revaluation versus
   delta-normal versus surrogate regressors trained on revaluations.
3. Market risk of each CSI 300 constituent (``cn_csi300_stocks``) as of its last date.

Writes ``benchmarks/results/market_risk.json``, ``.md`` and ``.png``.

Usage::

    .venv/bin/python benchmarks/market_risk.py
    .venv/bin/python benchmarks/market_risk.py --only-book   # part 2 only, merged in
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import arch
import arch.data.sp500
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from riskmoe.data import load_dataset
from riskmoe.models import MoERiskRegressor
from riskmoe.risk.backtest import backtest
from riskmoe.risk.market import company_market_risk, rolling_risk
from riskmoe.risk.portfolio import (
    Book,
    EquityOption,
    FixedRateBond,
    FXPosition,
    MarketState,
    delta_normal_var,
    full_revaluation_var,
    generate_scenarios,
    surrogate_var,
)

RESULTS = Path(__file__).resolve().parent / "results"
LEVEL = 0.99
WINDOW = 250
REFIT_EVERY = 20

# label -> (method, volatility)
METHODS: dict[str, tuple[str, str | None]] = {
    "HS-250": ("historical", None),
    "Normal-250": ("normal", None),
    "Student-t-250": ("student_t", None),
    "EWMA-0.94": ("normal", "ewma"),
    "MC-normal": ("monte_carlo", None),
    "GARCH-N": ("normal", "garch"),
    "GARCH-t": ("student_t", "garch"),
    "FHS": ("fhs", None),
}

CONVENTIONS = """\
## Conventions

* Returns: **simple** daily returns, `P_t / P_{{t-1}} - 1`, from the S&P 500 *adjusted*
  close (`arch.data.sp500`) and the CSI 300 close (`load_dataset("csi300")`; a price index,
  no adjustment; the close-to-close returns agree with the file's `p_change` to its two
  decimals -- max difference {csi_check:.4f} percentage points).
* VaR and ES are **losses as positive fractions** of value; level 99 %, one day. A hit
  (exception) is `r_t < -VaR_t`.
* Every forecast for day t uses the {window} returns of days t-{window} .. t-1 only.
  Historical quantile: numpy's linear interpolation (type 7) -- at 250 days and 99 % it
  sits between the 3rd and 4th worst return; ES is the Acerbi-Tasche tail mean.
* Student t: dof fitted by ML with the sample mean and variance (re-fitted every
  {refit} days). EWMA: RiskMetrics, lambda 0.94, zero mean, normal quantile. GARCH: arch
  GARCH(1,1) with constant mean on returns in percent, normal (GARCH-N), Student t
  (GARCH-t) or filtered historical simulation of the standardised residuals (FHS,
  Barone-Adesi et al. 1999); parameters re-estimated every {refit} days, the variance
  recursion re-run daily with the parameters fixed. MC: 10,000 normal draws a day (seeded).
* Traffic light: cumulative binomial probability of the year's exception count at p = 1 %
  (green < 95 %, red >= 99.99 %); plus factors from the Basel (1996) table. Kupiec and
  Christoffersen p-values are over the whole backtest; Z2 (Acerbi-Szekely 2014) tests the
  99 % ES forecasts with 10,000 simulated normal-null samples (reject when p < 0.05).
"""


# ---------------------------------------------------------------------------------------
# 1. Rolling backtests
# ---------------------------------------------------------------------------------------


def index_returns() -> tuple[dict[str, pd.Series], float]:
    """Daily simple returns of the two indices, and the CSI 300 check against p_change."""
    sp = arch.data.sp500.load()["Adj Close"].pct_change().dropna().rename("S&P 500")
    csi = load_dataset("csi300").frame.set_index("date")
    csi_r = csi["close"].pct_change().dropna().rename("CSI 300")
    check = float((csi_r * 100 - csi["p_change"].loc[csi_r.index]).abs().max())
    return {"S&P 500": sp, "CSI 300": csi_r}, check


def run_backtests(
    series: dict[str, pd.Series], years: dict[str, int]
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    out: dict[str, Any] = {}
    forecasts: dict[str, pd.DataFrame] = {}
    for name, r in series.items():
        out[name] = {}
        for label, (method, vol) in METHODS.items():
            start = time.perf_counter()
            f = rolling_risk(
                r,
                LEVEL,
                method,  # type: ignore[arg-type]
                window=WINDOW,
                refit_every=REFIT_EVERY,
                volatility=vol,  # type: ignore[arg-type]
                n_simulations=10_000,
                random_state=0,
            )
            seconds = time.perf_counter() - start
            res = backtest(r, f["var"], f["es"], LEVEL, traffic_light_year=years[name])
            last = backtest(r, f["var"], level=LEVEL)  # traffic light over the last 250 days
            forecasts[f"{name}|{label}"] = f
            out[name][label] = {
                "method": method,
                "volatility": f.attrs["volatility"],
                "seconds": round(seconds, 2),
                "refits": f.attrs["refits"],
                "failed_refits": f.attrs["failed_refits"],
                "first_forecast": f.index[0].date().isoformat(),
                "last_forecast": f.index[-1].date().isoformat(),
                "backtest": res.to_dict(),
                "traffic_light_last_250_days": last.traffic_light.to_dict(),
            }
            tl = res.traffic_light
            print(
                f"{name:8s} {label:14s} {seconds:6.1f}s exceptions {res.exceptions:4d}/"
                f"{res.observations} ({res.exception_rate:.2%}); {years[name]}: "
                f"{tl.exceptions} {tl.zone}; Kupiec p {res.kupiec.p_value:.3g}; "
                f"CC p {res.christoffersen.p_value_cc:.3g}"
            )
    return out, forecasts


def plot(series: dict[str, pd.Series], forecasts: dict[str, pd.DataFrame], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return False
    panels = [
        ("S&P 500", "1999-01-01", "2018-12-31"),
        ("S&P 500", "2007-07-01", "2009-06-30"),
        ("CSI 300", "2011-01-01", "2021-12-31"),
        ("CSI 300", "2015-01-01", "2016-06-30"),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(13, 4.2 * len(panels)))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
              "tab:pink", "black"]  # fmt: skip
    for ax, (name, start, end) in zip(axes, panels, strict=True):
        r = series[name].loc[start:end]
        ax.bar(r.index, r.to_numpy(), width=1.0, color="0.75", label="daily return")
        for i, label in enumerate(METHODS):
            f = forecasts[f"{name}|{label}"]["var"].loc[start:end]
            style = "--" if label == "MC-normal" else "-"
            ax.plot(f.index, -f.to_numpy(), style, lw=0.9, color=colors[i], label=f"-VaR {label}")
            hits = r.loc[f.index][r.loc[f.index] < -f]
            if label in ("HS-250", "FHS"):
                ax.scatter(hits.index, hits.to_numpy(), s=14, color=colors[i], zorder=3)
        ax.set_title(
            f"{name}: daily simple returns and -VaR (1 day, 99 %), {start[:7]} to {end[:7]}; "
            "dots: HS-250 (blue) and FHS (black) exceptions"
        )
        ax.set_ylabel("return")
        ax.axhline(0.0, color="k", lw=0.5)
    axes[0].legend(ncol=5, fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------------------
# 2. Nonlinear book
# ---------------------------------------------------------------------------------------


def fred_history() -> tuple[pd.DataFrame, str]:
    """Monthly factor levels from FRED-MD, floating-rate era (1973 on)."""
    frame = load_dataset("fred_md").frame.set_index("date")
    frame = frame.loc["1973-01-01":, ["S&P 500", "TB3MS", "GS10", "EXUSUKx"]]
    history = pd.DataFrame(
        {
            "stock:SPX": frame["S&P 500"],
            # percent -> fractions; the 10-year yield is bond-equivalent (semiannual), turned
            # continuous; the 3-month bill rate is taken as continuous (a small difference)
            "rate:USD3M": frame["TB3MS"] / 100.0,
            "rate:USD10Y": 2.0 * np.log1p(frame["GS10"] / 200.0),
            "fx:GBP": frame["EXUSUKx"],
        }
    )
    span = f"{history.index[0]:%Y-%m} to {history.index[-1]:%Y-%m}"
    return history, span


def make_books(history: pd.DataFrame) -> dict[str, Book]:
    last = history.iloc[-1]
    spot = float(last["stock:SPX"])
    state = MarketState(
        stocks={"SPX": spot},
        rates={"USD3M": float(last["rate:USD3M"]), "USD10Y": float(last["rate:USD10Y"])},
        fx={"GBP": float(last["fx:GBP"])},
    )
    common = (
        EquityOption("SPX", spot, 0.25, 0.15, "call", quantity=-3_000, rate="USD3M"),
        EquityOption("SPX", spot, 0.25, 0.15, "put", quantity=-3_000, rate="USD3M"),
        EquityOption("SPX", 0.9 * spot, 0.5, 0.20, "put", quantity=4_000, rate="USD3M"),
        FixedRateBond(10_000_000.0, 0.04, 10.0, frequency=2, rate="USD10Y"),
        FXPosition("GBP", 2_000_000.0),
    )
    american = EquityOption(
        "SPX", 0.95 * spot, 0.5, 0.18, "put", quantity=2_000, rate="USD3M",
        exercise="american", steps=100,
    )  # fmt: skip
    return {
        "european (Black-Scholes)": Book(common, state),
        "with American puts (CRR tree, 100 steps)": Book((*common, american), state),
    }


def surrogate_models() -> dict[str, Any]:
    mlp = TransformedTargetRegressor(
        regressor=make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=(64, 64),
                max_iter=2_000,
                early_stopping=True,
                n_iter_no_change=30,
                random_state=0,
            ),  # fmt: skip
        ),
        transformer=StandardScaler(),
    )
    # the classifier's MoE network with a squared-error head; quantile-binned
    # piecewise-linear tokens need no input scaling, the target is standardised inside
    moe = MoERiskRegressor(**MOE_SURROGATE, random_state=0)
    return {
        "GradientBoostingRegressor(300 trees, depth 3)": GradientBoostingRegressor(
            n_estimators=300, max_depth=3, learning_rate=0.05, random_state=0
        ),
        "MLPRegressor(64, 64), scaled": mlp,
        MOE_LABEL: moe,
    }


MOE_SURROGATE: dict[str, Any] = {
    "n_experts": 4,
    "top_k": 2,
    "n_shared_experts": 1,
    "expert_hidden": 64,
    "batch_size": 256,
    "max_epochs": 80,
    "patience": 10,
}
MOE_LABEL = "MoERiskRegressor(4 experts, top-2, 1 shared)"


def moe_regressor_note() -> str:
    params = ", ".join(f"{k}={v}" for k, v in MOE_SURROGATE.items())
    return (
        f"`riskmoe.models.MoERiskRegressor({params})` -- the credit MoE's network (quantile "
        "piecewise-linear tokens, routed + shared experts, noisy top-k router) with a "
        "squared-error head on the standardised P&L; 10 % of the training scenarios held out "
        "for early stopping; one torch thread. Its fit seconds include training only."
    )


def run_book(n_eval: int, n_fit: int) -> dict[str, Any]:
    history, span = fred_history()
    books = make_books(history)
    out: dict[str, Any] = {"history": span, "horizon": "1 month", "books": {}}
    for book_name, book in books.items():
        hist = generate_scenarios(book, history, "historical")
        mc = generate_scenarios(book, history, "monte_carlo", n_scenarios=n_eval, random_state=1)
        # training scenarios: Student t (4 dof) with the same covariance -- fatter tails, so
        # the surrogate sees moves as large as those in the evaluation tail
        fit = generate_scenarios(
            book, history, "monte_carlo", n_scenarios=n_fit, dof=4.0, random_state=2
        )
        entry: dict[str, Any] = {
            "factors": list(book.factor_names),
            "base_value": book.base_value(),
            "sensitivities": dict(
                zip(book.factor_names, book.sensitivities().tolist(), strict=True)
            ),
            "scenario_sets": {},
        }
        for set_name, scenarios in (
            (f"historical ({len(hist)} monthly moves, {span})", hist),
            (f"monte_carlo ({n_eval:,} normal draws)", mc),
        ):
            t0 = time.perf_counter()
            full = full_revaluation_var(book, scenarios, LEVEL)
            full_seconds = time.perf_counter() - t0
            delta = delta_normal_var(book, scenarios, LEVEL)
            rows: dict[str, Any] = {
                "full_revaluation": {**full.to_dict(), "seconds": full_seconds},
                "delta_normal": delta.to_dict(),
                "surrogates": {},
            }
            for model_name, model in surrogate_models().items():
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    res = surrogate_var(book, scenarios, fit, model, LEVEL)
                record = res.to_dict()
                record["convergence_warnings"] = sum(
                    issubclass(w.category, ConvergenceWarning) for w in caught
                )
                rows["surrogates"][model_name] = record
                print(
                    f"{book_name[:24]:24s} {set_name[:14]:14s} full {full.var:12,.0f} "
                    f"delta {delta.var:12,.0f} {model_name[:12]} {res.surrogate_var:12,.0f} "
                    f"({res.var_relative_error:+.2%}) speed-up x{res.speedup:.2f}"
                )
            entry["scenario_sets"][set_name] = rows
        out["books"][book_name] = entry
    out["fit_scenarios"] = f"{n_fit:,} multivariate-t(4) draws with the historical covariance"
    out["moe"] = moe_regressor_note()
    return out


# ---------------------------------------------------------------------------------------
# 3. CSI 300 constituents
# ---------------------------------------------------------------------------------------


def run_companies() -> dict[str, Any]:
    frame = load_dataset("cn_csi300_stocks").frame
    # unadjusted prices jump on ex-rights days: use baostock's pctChg (percent) as returns
    prices = frame[["code", "date"]].assign(ret=frame["pctChg"] / 100.0)
    table = company_market_risk(prices, LEVEL, WINDOW, returns_column="ret")
    ok = table[table["status"] == "ok"]
    cols = ["annualised_volatility", "var_historical", "es_historical", "var_normal",
            "max_drawdown"]  # fmt: skip
    summary = ok[cols].describe(percentiles=[0.1, 0.5, 0.9]).T
    top = ok.sort_values("var_historical", ascending=False).head(10)
    return {
        "companies": len(table),
        "ok": len(ok),
        "not_ok": table.loc[table["status"] != "ok", ["code", "status"]].to_dict("records"),
        "as_of": str(ok["as_of"].max().date()),
        "summary": summary.round(4).reset_index(names="measure").to_dict("records"),
        "top10_by_var": top.astype({"as_of": str}).round(4).to_dict("records"),
    }


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def _fmt_p(p: float, floor: float = 0.0) -> str:
    if p <= floor:
        return f"<={floor * 1.0001:.0e}"  # the smallest simulated p-value, 1 / (1 + M)
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def markdown(payload: dict[str, Any]) -> str:
    meta = payload["meta"]
    lines = [
        "# Market risk: rolling VaR/ES backtests on real index history, and a nonlinear book",
        "",
        f"Command: `{meta['command']}` -- {meta['seconds']:.0f} s on {meta['cpus']} "
        f"(arch {meta['arch']}, numpy {meta['numpy']}, scikit-learn {meta['sklearn']}).",
        "",
        CONVENTIONS.format(
            csi_check=payload["csi300_p_change_check"], window=WINDOW, refit=REFIT_EVERY
        ),
    ]
    for name, year in payload["traffic_light_years"].items():
        rows = payload["backtests"][name]
        any_row = next(iter(rows.values()))
        lines += [
            f"## {name}: {any_row['first_forecast']} to {any_row['last_forecast']}",
            "",
            f"Traffic light for {year}; whole-sample tests over "
            f"{any_row['backtest']['observations']} forecast days "
            f"(expected rate 1 %).",
            "",
            f"| method | {year} exceptions / days | {year} zone (cum. prob., plus) | "
            "all exceptions (rate) | Kupiec LR (p) | Christoffersen LR_ind (p) | "
            "LR_cc (p) | Z2 (p) | last 250 days | s |",
            "|---|---:|---|---:|---:|---:|---:|---:|---|---:|",
        ]
        for label, row in rows.items():
            bt = row["backtest"]
            tl, k, c, z = bt["traffic_light"], bt["kupiec"], bt["christoffersen"], bt["z2"]
            last = row["traffic_light_last_250_days"]
            lines.append(
                f"| {label} | {tl['exceptions']} / {tl['observations']} | **{tl['zone']}** "
                f"({tl['cumulative_probability']:.4%}, +{tl['plus_factor']:.2f}) | "
                f"{bt['exceptions']} ({bt['exception_rate']:.2%}) | "
                f"{k['statistic']:.2f} ({_fmt_p(k['p_value'])}) | "
                f"{c['lr_ind']:.2f} ({_fmt_p(c['p_value_ind'])}) | "
                f"{c['lr_cc']:.2f} ({_fmt_p(c['p_value_cc'])}) | "
                f"{z['statistic']:.2f} ({_fmt_p(z['p_value'], 1 / (1 + z['n_simulations']))}) | "
                f"{last['exceptions']} {last['zone']} | {row['seconds']:.1f} |"
            )
        lines += ["", f"Exceptions per year ({name}; days in the year in brackets):", ""]
        labels = list(rows)
        lines += ["| year | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        per: dict[int, dict[str, int]] = {}
        days: dict[int, int] = {}
        for label, row in rows.items():
            for y in row["backtest"]["exceptions_per_year"]:
                per.setdefault(y["year"], {})[label] = y["exceptions"]
                days[y["year"]] = y["observations"]
        for year_ in sorted(per):
            cells = " | ".join(str(per[year_].get(label, "")) for label in labels)
            lines.append(f"| {year_} ({days[year_]}) | {cells} |")
        lines.append("")
    book = payload["nonlinear_book"]
    lines += [
        "## Nonlinear book: full revaluation vs delta-normal vs surrogates",
        "",
        f"One-month 99 % VaR of a USD book under FRED-MD factor moves ({book['history']}): "
        "short 3,000 three-month at-the-money S&P 500 calls and puts (vol 15 %), long 4,000 "
        "six-month 90 % puts (vol 20 %), a 10-year 4 % semiannual bond (face 10 m) on the "
        "10-year yield, GBP 2 m cash; the second book adds 2,000 American six-month 95 % puts "
        "(CRR tree, 100 steps). Shocks: relative for the index and USD/GBP, absolute for the "
        "3-month and 10-year yields; instantaneous (no ageing, fixed option vols). "
        "FRED-MD's S&P 500 is a monthly average of daily closes, which damps monthly moves. "
        f"Surrogates are trained on {book['fit_scenarios']} (features: the factor shocks; "
        "target: full-revaluation P&L) and predict the evaluation scenarios. Speed-up = "
        "full-revaluation time / prediction time on the evaluation set (training and the "
        "training revaluations excluded; listed separately). Each row times its own full "
        "revaluation; on the 618 historical scenarios both paths take milliseconds and the "
        "ratio is overhead noise -- read the speed-up on the 20,000-scenario rows.",
        "",
        "| book | scenarios | full VaR | full ES | delta-normal VaR (err) | surrogate | "
        "surrogate VaR (err) | surrogate ES | tail RMSE | full s | predict s | speed-up | fit s |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for book_name, entry in book["books"].items():
        for set_name, rows in entry["scenario_sets"].items():
            full, delta = rows["full_revaluation"], rows["delta_normal"]
            d_err = delta["var"] / full["var"] - 1
            for model_name, s in rows["surrogates"].items():
                lines.append(
                    f"| {book_name} | {set_name} | {full['var']:,.0f} | {full['es']:,.0f} | "
                    f"{delta['var']:,.0f} ({d_err:+.1%}) | {model_name} | "
                    f"{s['surrogate_var']:,.0f} ({s['var_relative_error']:+.1%}) | "
                    f"{s['surrogate_es']:,.0f} | "
                    f"{s['tail_rmse']:,.0f} | {s['full_seconds']:.3f} | "
                    f"{s['predict_seconds']:.3f} | x{s['speedup']:.2f} | {s['fit_seconds']:.2f} |"
                )
    lines += ["", f"MoE surrogate: {book['moe']}", ""]
    rerun = payload["meta"].get("nonlinear_book_rerun")
    if rerun:
        lines += [
            f"This section was re-run on its own: `{rerun['command']}` -- "
            f"{rerun['seconds']:.0f} s (torch {rerun['torch']}); the other sections come "
            "from the full run above.",
            "",
        ]
    comp = payload["csi300_companies"]
    lines += [
        f"## CSI 300 constituents: one-day 99 % market risk as of {comp['as_of']}",
        "",
        f"{comp['ok']} of {comp['companies']} companies with >= 60 valid returns in the last "
        f"{WINDOW} days (returns: baostock `pctChg` / 100, because the prices are unadjusted). "
        "Daily price limits (10 % main board, 20 % ChiNext 300xxx / STAR 688xxx) cap single-day "
        "losses, so historical VaR near 0.10-0.12 sits at the limit.",
        "",
        "| measure | mean | 10 % | median | 90 % | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in comp["summary"]:
        lines.append(
            f"| {s['measure']} | {s['mean']:.4f} | {s['10%']:.4f} | {s['50%']:.4f} | "
            f"{s['90%']:.4f} | {s['max']:.4f} |"
        )
    lines += ["", "Highest historical VaR:", "", "| code | ann. vol | VaR HS | ES HS | max DD |",
              "|---|---:|---:|---:|---:|"]  # fmt: skip
    for row in comp["top10_by_var"]:
        lines.append(
            f"| {row['code']} | {row['annualised_volatility']:.3f} | {row['var_historical']:.4f} "
            f"| {row['es_historical']:.4f} | {row['max_drawdown']:.3f} |"
        )
    lines += ["", "Plot: `market_risk.png` (returns against each method's -VaR line).", ""]
    return "\n".join(lines)


def rerun_book(n_eval: int, n_fit: int) -> None:
    """Replace the nonlinear-book section of the committed results; keep parts 1 and 3."""
    path = RESULTS / "market_risk.json"
    payload = json.loads(path.read_text())
    start = time.perf_counter()
    payload["nonlinear_book"] = run_book(n_eval, n_fit)
    seconds = time.perf_counter() - start
    meta = payload["meta"]
    meta["nonlinear_book_rerun"] = {
        "command": "python benchmarks/market_risk.py --only-book "
        f"--n-eval {n_eval} --n-fit {n_fit}",
        "seconds": seconds,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "note": "parts 1 and 3 are from the earlier full run (meta.command)",
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (RESULTS / "market_risk.md").write_text(markdown(payload))
    print(f"{seconds:.0f} s; merged the nonlinear book into {RESULTS}/market_risk.{{json,md}}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-eval", type=int, default=20_000, help="MC evaluation scenarios")
    parser.add_argument("--n-fit", type=int, default=3_000, help="surrogate training scenarios")
    parser.add_argument(
        "--only-book",
        action="store_true",
        help="re-run only part 2 (the nonlinear book) and merge it into the existing results",
    )
    args = parser.parse_args()
    # 2 shared cores: one torch thread avoids oversubscription (MoE surrogate training)
    torch.set_num_threads(1)
    if args.only_book:
        rerun_book(args.n_eval, args.n_fit)
        return
    start = time.perf_counter()
    series, csi_check = index_returns()
    years = {"S&P 500": 2008, "CSI 300": 2015}
    backtests, forecasts = run_backtests(series, years)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plotted = plot(series, forecasts, RESULTS / "market_risk.png")
    book = run_book(args.n_eval, args.n_fit)
    companies = run_companies()
    seconds = time.perf_counter() - start
    payload = {
        "level": LEVEL,
        "window": WINDOW,
        "refit_every": REFIT_EVERY,
        "traffic_light_years": years,
        "csi300_p_change_check": csi_check,
        "backtests": backtests,
        "nonlinear_book": book,
        "csi300_companies": companies,
        "plot": "market_risk.png" if plotted else None,
        "meta": {
            "command": "python benchmarks/market_risk.py "
            f"--n-eval {args.n_eval} --n-fit {args.n_fit}",
            "seconds": seconds,
            "cpus": f"{os.cpu_count()} core(s), {platform.processor() or platform.machine()}",
            "arch": arch.__version__,
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
            "python": platform.python_version(),
        },
    }
    (RESULTS / "market_risk.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (RESULTS / "market_risk.md").write_text(markdown(payload))
    print(f"{seconds:.0f} s; wrote {RESULTS}/market_risk.{{json,md,png}}")


if __name__ == "__main__":
    main()
