"""``riskmoe ask``: resolve the company in a question, then answer from the store only.

Every figure in an :class:`Answer` is a :class:`Fact` naming the stored table (and its
version) it came from. Where the store lacks what a risk type needs, the answer says
which data is missing and the command that ingests it; nothing is estimated or invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.normalization import EntityResolver, Question, parse_question
from riskmoe.risk import MasterScale, company_market_risk, liquidity_ratios
from riskmoe.risk.liquidity import CN_FINANCIALS_INPUTS
from riskmoe.workflow.models import latest_model, load_registered

__all__ = ["Answer", "Fact", "Gap", "ask"]


@dataclass(frozen=True)
class Fact:
    """One figure in an answer, with where it came from."""

    risk_type: str
    label: str
    value: Any
    source: str
    period: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        v = self.value
        if isinstance(v, np.generic):
            v = v.item()
        return {**self.__dict__, "value": v}


@dataclass(frozen=True)
class Gap:
    """Data a risk type needs that the store does not hold, and how to get it."""

    risk_type: str
    missing: str
    command: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Answer:
    """The resolved question, the facts found and the gaps."""

    question: Question
    facts: tuple[Fact, ...] = ()
    gaps: tuple[Gap, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "question": self.question.to_dict(),
            "facts": [f.to_dict() for f in self.facts],
            "gaps": [g.to_dict() for g in self.gaps],
            "notes": list(self.notes),
        }


def _source(store: Store, table: str) -> str:
    v = store.latest(table)
    return f"{table} v{v.version}" if v else table


def _rows(store: Store, table: str, column: str, value: str) -> pd.DataFrame | None:
    if store.latest(table) is None:
        return None
    return store.query(f'SELECT * FROM "{table}" WHERE "{column}" = ?', [value])


def _years(q: Question, available: list[int]) -> list[int]:
    wanted = [y for y in q.period.fiscal_years if y in available]
    return wanted or available


def _liquidity(store: Store, code: str, q: Question) -> tuple[list[Fact], list[Gap]]:
    rows = _rows(store, "cn_financials", "code", code)
    if rows is None:
        return [], [
            Gap(
                "liquidity",
                "cn_financials (FY2019-2021 statements)",
                "riskmoe data ingest cn_financials",
            )
        ]
    if rows.empty:
        return [], [
            Gap(
                "liquidity",
                f"statements of {code} in cn_financials (none stored)",
                "only A-share companies in the FinGLM extraction are covered",
            )
        ]
    src = _source(store, "cn_financials")
    years = _years(q, sorted(int(y) for y in rows["fiscal_year"].unique()))
    rows = rows[rows["fiscal_year"].isin(years)]
    assessment = liquidity_ratios(rows, inputs=CN_FINANCIALS_INPUTS)
    facts = []
    for _, r in assessment.frame.iterrows():
        if not r["available"]:
            continue
        flag = " (breaches threshold)" if r["breached"] else ""
        facts.append(
            Fact(
                "liquidity",
                str(r["ratio"]),
                float(r["value"]),
                src,
                f"FY{int(r['fiscal_year'])}",
                f"threshold {r['direction']} {r['threshold']}{flag}",
            )
        )
    for _, r in rows.iterrows():
        if pd.notna(r["total_liabilities"]) and pd.notna(r["total_assets"]) and r["total_assets"]:
            facts.append(
                Fact(
                    "liquidity",
                    "liabilities_to_assets",
                    float(r["total_liabilities"] / r["total_assets"]),
                    src,
                    f"FY{int(r['fiscal_year'])}",
                    "leverage",
                )
            )
    missing = sorted(set(assessment.unavailable))
    notes = [f"unavailable from this source: {', '.join(missing)}"] if missing else []
    return facts, [
        Gap("liquidity", n, "not in the FinGLM balance sheet (four totals only)") for n in notes
    ]


def _credit(store: Store, code: str, q: Question) -> tuple[list[Fact], list[Gap]]:
    rows = _rows(store, "cn_distress", "code", code)
    if rows is None:
        return [], [
            Gap(
                "credit",
                "cn_distress (distress features from the statements)",
                "riskmoe data ingest cn_distress",
            )
        ]
    model_row = latest_model(store, "cn_distress")
    if model_row is None:
        return [], [
            Gap(
                "credit",
                "a trained cn_distress model in the model registry",
                "riskmoe train --dataset cn_distress --out models/cn_distress",
            )
        ]
    if rows.empty:
        return [], [
            Gap(
                "credit",
                f"distress features of {code} (not in the cn_distress sample)",
                "the task covers FY2019-2020 A-share firms not already ST",
            )
        ]
    model = load_registered(model_row)
    proba = model.predict_proba(rows[list(model.feature_names_in_)])[:, 1]
    scale = MasterScale()
    src = f"{_source(store, 'cn_distress')}, model {model_row['model_id']}"
    facts = []
    for fy, p in zip(rows["fiscal_year"], proba, strict=True):
        period = f"FY{int(fy)}"
        facts.append(
            Fact(
                "credit",
                "distress_pd",
                float(p),
                src,
                period,
                "probability of ST/*ST or delisting next season",
            )
        )
        facts.append(
            Fact(
                "credit",
                "grade",
                int(scale.grade(float(p))),
                src,
                period,
                f"tier {scale.tier(float(p))}",
            )
        )
    return facts, []


def _market(store: Store, code: str, q: Question) -> tuple[list[Fact], list[Gap]]:
    us = "." not in code
    table, key = ("sp500_stocks", "ticker") if us else ("cn_csi300_stocks", "code")
    rows = _rows(store, table, key, code)
    if rows is None:
        return [], [Gap("market", f"{table} (daily prices)", f"riskmoe data ingest {table}")]
    if rows.empty:
        return [], [
            Gap(
                "market",
                f"prices of {code} in {table} (not a constituent)",
                "prices are stored for the CSI 300 / S&P 500 panels only",
            )
        ]
    prices = rows.rename(columns={key: "code"}) if us else rows
    if q.period.end is not None:
        prices = prices[pd.to_datetime(prices["date"]) <= pd.Timestamp(q.period.end)]
    if not us:
        # the stored A-share prices are unadjusted; pctChg is the adjusted change in percent
        prices = prices.assign(adjusted_return=prices["pctChg"].astype(float) / 100.0)
    risk = company_market_risk(prices, returns_column=None if us else "adjusted_return")
    if risk.empty:
        return [], [Gap("market", f"enough price history of {code} before {q.period.end}", "")]
    r = risk.iloc[0]
    src = _source(store, table)
    as_of = str(pd.Timestamp(r.get("as_of", prices["date"].max())).date())
    facts = [
        Fact("market", name, float(r[name]), src, f"as of {as_of}")
        for name in risk.columns
        if name not in ("code", "as_of", "n_observations", "n_missing")
        and pd.api.types.is_number(r[name])
    ]
    return facts, []


def _events(store: Store, resolver: EntityResolver, code: str) -> tuple[list[Fact], list[Gap]]:
    if store.latest("cn_risk_events") is None:
        return [], [
            Gap(
                "operational",
                "cn_risk_events (news with risk-event types)",
                "riskmoe data ingest cn_risk_events",
            )
        ]
    names = resolver.base.mention_names(code)
    if not names:
        return [], []
    events = store.query('SELECT text, event_type FROM "cn_risk_events" WHERE is_risk_event = 1')
    pattern = "|".join(map(re.escape, names))
    hits = events[events["text"].str.contains(pattern, regex=True, na=False)]
    src = _source(store, "cn_risk_events")
    facts = [Fact("operational", "risk_event_mentions", len(hits), src, "undated news corpus")]
    for kind, n in hits["event_type"].value_counts().head(5).items():
        facts.append(Fact("operational", f"event:{kind}", int(n), src, "undated news corpus"))
    return facts, []


def ask(text: str, settings: Settings, *, reference_date: date | None = None) -> Answer:
    """Answer a risk question about one company from what the store holds."""
    with Store(settings.resolved_store_path) as store:
        resolver = EntityResolver.default(settings, store=store)
        q = parse_question(text, resolver, reference_date=reference_date)
        if q.entity.abstained or q.entity.code is None:
            return Answer(
                q,
                notes=("the company could not be identified with confidence; see the candidates",),
            )
        code = q.entity.code
        wanted = (
            set(q.risk_types)
            if q.risk_type != "overall"
            else {"credit", "market", "liquidity", "operational"}
        )
        facts: list[Fact] = []
        gaps: list[Gap] = []
        for kind, fn in (("liquidity", _liquidity), ("credit", _credit), ("market", _market)):
            if kind in wanted:
                f, g = fn(store, code, q)
                facts += f
                gaps += g
        if wanted & {"operational", "credit"}:
            f, g = _events(store, resolver, code)
            facts += f
            gaps += g
    return Answer(q, tuple(facts), tuple(gaps))
