"""Exposure and concentration limits, warning levels per product, alerts."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from riskmoe.advice.limits import Limit, LimitPolicy, check_limits
from riskmoe.exceptions import ConfigError, DataError, SchemaError
from riskmoe.monitoring.alerts import Alert

AS_OF = datetime(2024, 3, 31)


def _book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ead": [500.0, 300.0, 100.0, 60.0, 40.0],
            "product": ["mortgage", "mortgage", "qrre", "qrre", "qrre"],
            "grade": [2, 7, 7, 8, 3],
            "industry": ["retail", "energy", "energy", "energy", "tech"],
            "name": ["a", "b", "c", "d", "e"],
        }
    )


def test_exposure_concentration_and_product_warning_levels() -> None:
    policy = LimitPolicy(
        [
            Limit("exposure", 350.0, by="grade", group="7"),  # 400 -> breach
            Limit("concentration", 0.6, by="industry"),  # energy 46 %, retail 50 % -> ok
            Limit("exposure", 220.0, product="qrre"),  # 200/220 = 91 % -> warning
            Limit("concentration", 0.6, by="name", product="mortgage"),  # a = 62.5 % -> breach
        ],
        warning_levels={"qrre": 0.9, "mortgage": 0.95},
    )
    report = check_limits(_book(), policy, as_of=AS_OF, source="test")
    by = {(c.limit, c.group): c for c in report.checks}
    assert by[("exposure[grade=7]", "7")].value == 400.0
    assert by[("exposure[grade=7]", "7")].status == "breach"
    assert by[("concentration[industry=*]", "energy")].value == pytest.approx(0.46)
    assert by[("concentration[industry=*]", "energy")].status == "ok"
    assert by[("qrre:exposure[]", None)].status == "warning"
    assert by[("qrre:exposure[]", None)].warning_level == 0.9
    assert by[("mortgage:concentration[name=*]", "a")].value == pytest.approx(0.625)
    assert {c.limit for c in report.breaches} == {
        "exposure[grade=7]",
        "mortgage:concentration[name=*]",
    }
    assert len(report.warnings) == 1
    assert report.total_exposure == 1000.0


def test_breaches_become_alerts_with_stable_ids() -> None:
    policy = LimitPolicy(
        [Limit("exposure", 350.0, by="grade", group="7"), Limit("exposure", 220.0, product="qrre")],
        {"qrre": 0.9},
    )
    report = check_limits(_book(), policy, as_of=AS_OF, source="v3")
    alerts = report.alerts()
    assert [type(a) for a in alerts] == [Alert, Alert]
    breach, warning = alerts
    assert (breach.rule, breach.severity, breach.value, breach.threshold) == (
        "limit_breach",
        "critical",
        400.0,
        350.0,
    )
    assert "400 exceeds the limit 350" in breach.message
    assert (warning.rule, warning.severity) == ("limit_warning", "warning")
    again = check_limits(_book(), policy, as_of=AS_OF, source="v3").alerts()
    assert [a.alert_id for a in again] == [a.alert_id for a in alerts]
    other_day = check_limits(_book(), policy, as_of=datetime(2024, 4, 30), source="v3").alerts()
    assert other_day[0].alert_id != breach.alert_id
    json.dumps(report.to_dict())
    json.dumps([a.to_dict() for a in alerts])


def test_infeasible_limits_are_refused() -> None:
    # three industries each capped at 30 % can hold at most 90 % of any book
    policy = LimitPolicy([Limit("concentration", 0.3, by="industry")])
    with pytest.raises(ConfigError, match=r"infeasible limits: .* 3 industry groups at 30.0%"):
        check_limits(_book(), policy, as_of=AS_OF, source="t")
    with pytest.raises(ConfigError, match="must be > 0"):
        Limit("exposure", -10.0)
    with pytest.raises(ConfigError, match=r"share in \(0, 1\]"):
        Limit("concentration", 1.5, by="industry")
    with pytest.raises(ConfigError, match="warning level of 'qrre' must be in"):
        LimitPolicy([Limit("exposure", 1.0)], {"qrre": 1.2})
    with pytest.raises(ConfigError, match="unique"):
        LimitPolicy([Limit("exposure", 1.0), Limit("exposure", 2.0)])


def test_bad_books_are_refused_without_partial_results() -> None:
    policy = LimitPolicy([Limit("exposure", 1.0)])
    with pytest.raises(DataError, match="got -5 at row 1 .a negative exposure"):
        check_limits(pd.DataFrame({"ead": [1.0, -5.0]}), policy, as_of=AS_OF, source="t")
    with pytest.raises(SchemaError, match="groups by 'region', which the book lacks"):
        check_limits(
            _book(), LimitPolicy([Limit("exposure", 1.0, by="region")]), as_of=AS_OF, source="t"
        )
    with pytest.raises(DataError, match="book is empty"):
        check_limits(pd.DataFrame({"ead": []}), policy, as_of=AS_OF, source="t")


def test_policy_json_round_trip() -> None:
    policy = LimitPolicy(
        [Limit("concentration", 0.5, by="industry", product="qrre")], {"qrre": 0.8}, 0.85
    )
    assert LimitPolicy.from_json(json.dumps(policy.to_dict())) == policy
    with pytest.raises(ConfigError, match="not valid JSON"):
        LimitPolicy.from_json("{nope")
    with pytest.raises(ConfigError, match=r"limits\[0\] must be an object"):
        LimitPolicy.from_dict({"limits": [{"kind": "exposure", "limit": 1, "colour": "red"}]})
