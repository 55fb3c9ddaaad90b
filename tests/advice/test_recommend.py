"""Recommendations: pricing by grade, limit cuts, hedges, entities."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from riskmoe.advice.hedging import HedgeRatio
from riskmoe.advice.limits import Limit, LimitPolicy, check_limits
from riskmoe.advice.pricing import PricingTerms, price_by_grade
from riskmoe.advice.recommend import HedgePosition, Recommendation, recommend
from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk import MasterScale


def _book(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    pd_ = np.clip(rng.lognormal(np.log(0.02), 1.0, n), 0.0005, 0.6)
    segment = rng.choice(["car", "furniture", "education"], n)
    y = rng.random(n) < pd_
    y[segment == "education"] = rng.random((segment == "education").sum()) < 0.25
    return pd.DataFrame(
        {
            "pd": pd_,
            "ead": rng.uniform(1e3, 2e4, n),
            "lgd": 0.45,
            "segment": segment,
            "y": y.astype(int),
            "grade": MasterScale().grade(pd_),
            "expert": rng.choice(["routed_0[payment]", "routed_1[profile]"], n),
        }
    )


def test_underpriced_grade_gets_a_rate_rise_with_its_numbers() -> None:
    book = _book()
    recs = recommend(book, current_rate=0.04)
    table = price_by_grade(book).set_index("grade")
    g7 = [r for r in recs if r.kind == "pricing" and r.subject == "grade 7"]
    assert len(g7) == 1
    rec = g7[0]
    gap_bp = round((table.loc[7, "rate"] - 0.04) * 1e4)
    assert rec.action.startswith(f"raise the rate for grade 7 applicants by {gap_bp} bp")
    assert rec.drivers["grade"] == "7"
    assert rec.drivers["threshold"] == 25.0
    assert rec.drivers["expert"] in {"routed_0[payment]", "routed_1[profile]"}
    assert "grade 7" in rec.rationale and "hurdle" in rec.rationale and "expert" in rec.rationale
    assert rec.drivers["raroc_at_charged"] < 0.15
    # grades priced within 25 bp of 4 % get nothing; cheaper grades may be priced lower
    quiet = table.index[(table["rate"] - 0.04).abs() < 0.0025]
    assert len(quiet) >= 1
    assert any(r.action.startswith("lower the rate for grade 5") for r in recs)
    assert not any(r.subject == f"grade {g}" for g in quiet for r in recs)
    json.dumps([r.to_dict() for r in recs])


def test_segment_whose_default_rate_rose_gets_a_limit_cut() -> None:
    recs = recommend(_book(), current_rate=0.05)
    cuts = [r for r in recs if r.kind == "limit"]
    assert [r.subject for r in cuts] == ["segment=education"]
    cut = cuts[0]
    assert cut.action.startswith("cut the limit for segment 'education' by ")
    assert cut.drivers["value"] >= 1.5 * cut.drivers["reference"]
    assert cut.drivers["p_value"] < 0.01
    assert cut.confidence > 0.8
    # against a previous default rate as high as today's, nothing rose
    same = recommend(
        _book(),
        current_rate=0.05,
        reference_default_rates={"education": 0.25, "car": 0.1, "furniture": 0.1},
    )
    assert not [r for r in same if r.kind == "limit"]


def test_hedge_and_limit_breach_recommendations() -> None:
    book = _book()
    report = check_limits(
        book,
        LimitPolicy([Limit("exposure", 1e5, by="grade", group="8")]),
        as_of=datetime(2024, 1, 31),
        source="t",
    )
    # Hull's jet-fuel hedge (see test_hedging.py): h* = 0.7777, rho = 0.928, 15 months
    jet_fuel = HedgeRatio(0.7777, 0.928, 0.928**2, 0.0263, 0.0313, 15)
    hedge = HedgePosition("jet fuel purchase", 2_000_000, 42_000, jet_fuel)
    recs = recommend(book, current_rate=0.05, limits=report, hedges=[hedge])
    assert recs[0].kind == "limit"  # breaches and cuts first
    h = [r for r in recs if r.kind == "hedge"][0]
    assert h.action == "hedge 78% of jet fuel purchase: go short 37 futures contracts."
    assert h.drivers["contracts"] == 37
    breach = [r for r in recs if r.subject == "grade=8"][0]
    assert "reduce exposure to grade=8 by" in breach.action


def test_entity_recommendation_and_errors() -> None:
    recs = recommend(
        {"pd": 0.2, "name": "ACME", "expert": "routed_2[balance]"},
        current_rate=0.05,
        terms=PricingTerms(hurdle=0.12),
    )
    assert [r.kind for r in recs] == ["pricing", "review"]
    assert "ACME" in recs[0].action and "routed_2[balance]" in recs[0].rationale
    low = recommend({"pd": 0.001})
    assert [r.kind for r in low] == ["pricing"]
    assert low[0].action.startswith("price this applicant at ")
    with pytest.raises(SchemaError, match="'pd'"):
        recommend(pd.DataFrame({"ead": [1.0]}))
    with pytest.raises(DataError, match="ead must be finite and >= 0"):
        recommend(pd.DataFrame({"pd": [0.1], "ead": [-1.0]}))
    with pytest.raises(ValueError, match="confidence must be in"):
        Recommendation("pricing", "x", "a", "b", "c", 1.5)
