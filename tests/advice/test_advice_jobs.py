"""The advice jobs and the run stage over a real DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskmoe.advice import Limit, LimitPolicy, PricingTerms
from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store
from riskmoe.exceptions import ConfigError, StoreError
from riskmoe.monitoring import ALERT_TABLE
from riskmoe.workflow.advice_jobs import advise_portfolio, default_limit_policy, price_pds
from riskmoe.workflow.context import RunConfig, RunContext
from riskmoe.workflow.stages_advice import stage_advice

from .conftest import scored_german_portfolio, store_portfolio


def test_advise_portfolio_prices_limits_and_stores_alerts(isolated_settings: Settings) -> None:
    version = store_portfolio(isolated_settings)
    res = advise_portfolio(isolated_settings, "german_credit", current_rate=0.04)
    assert res.source == version.table_name
    assert res.pricing["n"].sum() == 300
    breaches = res.limits.breaches
    assert breaches, "the starting policy should find the high-risk share above 10 %"
    with Store(isolated_settings.resolved_store_path) as store:
        alerts = store.table(ALERT_TABLE)
    assert res.alerts_added == len(alerts) == len(breaches) + len(res.limits.warnings)
    assert set(alerts["rule"]) <= {"limit_breach", "limit_warning"}
    assert (alerts["source"] == version.table_name).all()
    # replaying the same book version adds no alert twice
    again = advise_portfolio(isolated_settings, "german_credit", current_rate=0.04)
    assert again.alerts_added == 0
    kinds = [r.kind for r in res.recommendations]
    assert kinds[0] == "limit" and "pricing" in kinds
    json.dumps(res.to_dict())


def test_segment_reference_is_the_previous_version(isolated_settings: Settings) -> None:
    store_portfolio(isolated_settings, seed=0)
    store_portfolio(isolated_settings, seed=1)
    res = advise_portfolio(isolated_settings, "german_credit")
    assert "previous version" in res.reference


def test_advice_job_errors(isolated_settings: Settings) -> None:
    with pytest.raises(StoreError, match="run `riskmoe run --dataset german_credit` first"):
        advise_portfolio(isolated_settings, "german_credit")
    store_portfolio(isolated_settings)
    # 10 purposes capped at 5 % each can hold at most half of any book
    bad = LimitPolicy([Limit("concentration", 0.05, by="segment")])
    with pytest.raises(ConfigError, match="infeasible limits"):
        advise_portfolio(isolated_settings, "german_credit", policy=bad)


def test_default_policy_skips_segment_cap_for_few_segments(isolated_settings: Settings) -> None:
    book = scored_german_portfolio(isolated_settings)
    assert "segment share" in [lim.name for lim in default_limit_policy(book).limits]
    two = book.assign(segment=["a", "b"] * (len(book) // 2))
    assert "segment share" not in [lim.name for lim in default_limit_policy(two).limits]
    assert "single-name share" in [lim.name for lim in default_limit_policy(book).limits]
    small = [lim.name for lim in default_limit_policy(book.head(60)).limits]
    assert "single-name share" not in small  # 60 names x 2 % < 100 %: would be infeasible


def test_price_pds_grades_and_rates() -> None:
    frame = price_pds([0.001, 0.05, 0.2], PricingTerms(hurdle=0.12))
    assert frame["grade"].tolist() == [3, 7, 9]  # MasterScale: grade 7 ends at PD 6.7 %
    assert frame["tier"].tolist() == ["low", "medium", "high"]
    assert frame["rate"].is_monotonic_increasing


def test_stage_adds_the_recommendations_section(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    isolated_settings.home.mkdir(parents=True, exist_ok=True)
    with Store(isolated_settings.resolved_store_path) as store:
        ctx = RunContext(settings=isolated_settings, config=RunConfig(), store=store)
        ctx.dataset = load_dataset("german_credit", settings=isolated_settings)
        ctx.versions["portfolio"] = store.ingest(
            "german_credit_portfolio", scored_german_portfolio(isolated_settings)
        )
        stage_advice(ctx)
    section = ctx.sections[-1]
    assert section.title == "Recommendations"
    assert [t.title for t in section.tables][:2] == ["Recommendations", "Risk-based rate by grade"]
    assert len(section.tables[0].rows) == len(ctx.results["advice"]["recommendations"])
    assert ctx.results["advice"]["limit_breaches"] >= 1


@pytest.mark.slow
def test_driving_experts_names_a_routed_expert_per_row(isolated_settings: Settings) -> None:
    from riskmoe.models import MoERiskClassifier
    from riskmoe.workflow.stages_advice import driving_experts

    data = load_dataset("german_credit", settings=isolated_settings)
    X = data.frame.drop(columns=[data.target]).iloc[:400]
    y = data.frame[data.target].astype(int).iloc[:400]
    groups = {g: cols for g, cols in data.feature_groups.items() if cols}
    small = MoERiskClassifier(
        n_experts=len(groups),
        top_k=2,
        expert_hidden=8,
        d_embedding=4,
        n_bins=8,
        max_epochs=2,
        patience=1,
        n_ensemble=2,
        random_state=0,
        feature_groups=groups,
    )
    model = small.fit(X, y)
    experts = driving_experts(model, X.iloc[:50])
    assert experts is not None and len(experts) == 50
    assert set(experts) <= {str(n) for n in model.expert_names_}
    # the named expert is the routed term with the largest summed contribution
    e = model.explain(X.iloc[:1], n_reasons=0, n_steps=1)
    per_expert: dict[str, float] = {}
    for name, c in zip(e.term_names, e.contributions[0], strict=True):
        local = name.split(".", 1)[1] if name.startswith("m") and "." in name else name
        if not local.startswith("shared_"):
            per_expert[local] = per_expert.get(local, 0.0) + float(c)
    assert experts[0] == max(per_expert, key=lambda k: per_expert[k])
    assert driving_experts(object(), X) is None
