"""Advice stage of ``run``: price the scored portfolio, check limits, recommend.

Reads the portfolio the credit stage stored, prices each grade (funding + operating
cost + EL + IRB capital charge at the hurdle), checks the default limit policy (breaches
go to the ``alerts`` log) and adds the "Recommendations" section to the report.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from riskmoe.reporting import Section, Table
from riskmoe.workflow.advice_jobs import advise_portfolio
from riskmoe.workflow.context import RunContext
from riskmoe.workflow.stages_models import PRIMARY_MODEL

__all__ = ["driving_experts", "stage_advice"]


_MEMBER = re.compile(r"^m\d+\.")
_MAX_EXPLAINED = 20_000


def driving_experts(model: Any, X: pd.DataFrame) -> list[str] | None:
    """Per row, the routed expert with the largest contribution to the default logit.

    Uses the MoE's additive decomposition (``explain``; contributions only, one path
    step) and sums ensemble members; None for a model without ``explain`` or a test set
    too large to explain within a run.
    """
    if not hasattr(model, "explain") or len(X) == 0 or len(X) > _MAX_EXPLAINED:
        return None
    e = model.explain(X, n_reasons=0, n_steps=1)
    names = [_MEMBER.sub("", str(t)) for t in e.term_names]
    terms = pd.DataFrame(e.contributions, columns=names)
    routed = terms.loc[:, [not n.startswith("shared_") for n in names]]
    if routed.shape[1] == 0:
        return None
    summed = routed.T.groupby(level=0).sum().T
    return [str(x) for x in summed.idxmax(axis=1)]


def stage_advice(ctx: RunContext) -> None:
    """Add pricing by grade, limit checks and recommendations to the report."""
    ctx.require("dataset")
    assert ctx.dataset is not None
    if "portfolio" not in ctx.versions:
        raise RuntimeError("stage order: the advice stage needs the credit stage's portfolio.")
    experts = None
    if ctx.X_test is not None and PRIMARY_MODEL in ctx.models:
        experts = driving_experts(ctx.models[PRIMARY_MODEL], ctx.X_test)
    result = advise_portfolio(ctx.settings, ctx.dataset.name, experts=experts, store=ctx.store)
    terms = result.terms
    pricing_rows: list[list[Any]] = [
        [
            str(r["grade"]),
            str(r["tier"]),
            int(r["n"]),
            float(r["pd"]),
            float(r["el_rate"]),
            float(r["capital_ratio"]),
            float(r["capital_charge"]),
            float(r["rate"]),
            f"{r['rate_min']:.2%} - {r['rate_max']:.2%}",
        ]
        for _, r in result.pricing.iterrows()
    ]
    rec_rows: list[list[Any]] = [
        [r.kind, r.action, r.rationale, r.expected_effect, r.confidence]
        for r in result.recommendations
    ]
    limit_rows: list[list[Any]] = [
        [c.limit, c.subject, c.value, c.threshold, f"{c.utilisation:.0%}", c.status]
        for c in result.limits.checks
        if c.status != "ok"
    ]
    ctx.results["advice"] = {
        "recommendations": [r.to_dict() for r in result.recommendations],
        "limit_breaches": len(result.limits.breaches),
        "limit_warnings": len(result.limits.warnings),
        "alerts_added": result.alerts_added,
    }
    tables = [
        Table(
            "Recommendations",
            ["kind", "action", "rationale", "expected effect", "confidence"],
            rec_rows
            or [
                [
                    "-",
                    "no action: every grade is priced within the threshold and "
                    "no limit is breached",
                    "",
                    "",
                    "",
                ]
            ],
        ),
        Table(
            "Risk-based rate by grade",
            [
                "grade",
                "tier",
                "cases",
                "mean PD",
                "EL rate",
                "IRB capital / EAD",
                "capital charge",
                "rate",
                "applicant range",
            ],
            pricing_rows,
            note=(
                f"rate = funding {terms.funding_rate:.2%} + operating cost "
                f"{terms.operating_cost_rate:.2%} + EL + capital x (hurdle "
                f"{terms.hurdle:.0%} - capital return {terms.capital_return_rate:.0%})."
            ),
        ),
    ]
    if limit_rows:
        tables.append(
            Table(
                "Limits breached or at their warning level",
                ["limit", "subject", "value", "limit value", "utilisation", "status"],
                limit_rows,
            )
        )
    ctx.sections.append(
        Section(
            "advice",
            "Recommendations",
            summary=(
                f"{len(result.recommendations)} recommendations from the scored portfolio "
                f"({result.source}): pricing by grade at a {terms.hurdle:.0%} RAROC hurdle "
                "(grades compared with one flat rate for the book), segment default rates "
                f"against {result.reference}, and the default limit policy: "
                f"{len(result.limits.breaches)} breaches and {len(result.limits.warnings)} "
                f"warnings ({result.alerts_added} new alerts in the store)."
            ),
            tables=tuple(tables),
        )
    )
