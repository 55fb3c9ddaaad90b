"""Credit-portfolio stage of ``run``: the held-out cases as a scored portfolio.

PDs come from the calibrated MoE; each case is graded on the master scale and valued
with Basel IRB: EL = PD x LGD x EAD, capital = 8% of RWA. LGD is the Basel foundation
value for senior unsecured claims (45%). EAD is the dataset's loan amount where it has
one, else one unit per case; the asset class follows the product.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.risk import credit_portfolio_summary
from riskmoe.workflow.context import RunContext
from riskmoe.workflow.stages_models import PRIMARY_MODEL

__all__ = ["PORTFOLIO_TERMS", "stage_credit"]

_LGD = 0.45
# dataset -> (EAD column or None, Basel asset class, segment column or None)
PORTFOLIO_TERMS: dict[str, tuple[str | None, str, str | None]] = {
    "german_credit": ("credit_amount", "other_retail", "purpose"),
    "australian_credit": (None, "other_retail", None),
    "taiwan_credit_card": ("LIMIT_BAL", "qrre", None),
    "give_me_some_credit": (None, "qrre", None),
    "lending_club": ("loan_amnt", "other_retail", "purpose"),
    "polish_bankruptcy": (None, "corporate", None),
    "cn_distress": (None, "corporate", None),
}


def stage_credit(ctx: RunContext) -> None:
    """Grade the held-out portfolio and add EL, UL, RWA and capital by grade."""
    ctx.require("X_test", "y_test", "dataset")
    assert ctx.X_test is not None and ctx.dataset is not None and ctx.y_test is not None
    ead_col, asset_class, segment_col = PORTFOLIO_TERMS.get(
        ctx.dataset.name, (None, "other_retail", None)
    )
    X = ctx.X_test
    exposures = pd.DataFrame(
        {
            "pd": ctx.scores[PRIMARY_MODEL],
            "lgd": _LGD,
            "ead": X[ead_col].astype(float).to_numpy() if ead_col in X else 1.0,
            "asset_class": asset_class,
            "segment": X[segment_col].astype(str).to_numpy() if segment_col in X else "all",
        },
        index=X.index,
    )
    summary = credit_portfolio_summary(exposures)
    by_grade = summary.frame.groupby("grade", sort=False)[
        ["n", "ead", "el", "ul", "rwa", "capital"]
    ].sum()
    realised = ctx.y_test.groupby(summary.exposures["grade"].to_numpy()).mean()
    rows: list[list[Any]] = [
        [
            str(g),
            int(r["n"]),
            float(r["ead"]),
            float(r["el"]),
            float(r["rwa"]),
            float(r["capital"]),
            float(realised.get(g, float("nan"))),
        ]
        for g, r in by_grade.iterrows()
    ]
    graded = summary.exposures.assign(row=X.index.to_numpy(), y=ctx.y_test.to_numpy())
    graded["grade"] = graded["grade"].astype(str)
    ctx.versions["portfolio"] = ctx.store.ingest(
        f"{ctx.dataset.name}_portfolio", graded.reset_index(drop=True)
    )
    t = summary.totals
    ctx.results["credit"] = {k: float(v) for k, v in t.items()}
    grades = [r[0] for r in rows]
    ctx.sections.append(
        Section(
            "credit",
            "Credit portfolio: grades, expected loss and capital",
            summary=(
                f"The {int(t['n']):,} held-out cases scored by the MoE as a portfolio: EAD "
                f"{t['ead']:,.0f}, expected loss {t['el']:,.0f} ({t['el'] / t['ead']:.2%}), "
                f"IRB RWA {t['rwa']:,.0f}, capital {t['capital']:,.0f} (8% of RWA). "
                f"LGD {_LGD:.0%}, asset class {asset_class}, EAD "
                + (f"= {ead_col}." if ead_col else "= one unit per case.")
            ),
            tables=(
                Table(
                    "By master-scale grade",
                    ["grade", "cases", "EAD", "EL", "RWA", "capital", "realised default rate"],
                    rows,
                ),
            ),
            figures=(
                Figure(
                    "EL and capital by grade",
                    [
                        Trace("EL", grades, [r[3] for r in rows]),
                        Trace("capital", grades, [r[5] for r in rows]),
                    ],
                    x_label="grade",
                    y_label="amount",
                    kind="bar",
                ),
            ),
        )
    )
