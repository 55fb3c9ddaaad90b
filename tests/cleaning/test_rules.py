"""Logic rules declared as data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskmoe.cleaning import ApplyRules, NonNegative, Range, Sentinel, Unique, parse_rules
from riskmoe.exceptions import DataError, SchemaError


@pytest.fixture()
def applicants() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [10, 11, 11, 12, None],
            "age": [25, 17, 40, 130, 33],
            "income": [3000.0, -5.0, None, 4200.0, 0.0],
            "late_90": [0, 96, 1, 98, 2],
            "region": ["n", "s", "s", "e", "w"],
        }
    )


def _apply(rules, frame):
    return ApplyRules(rules).fit_apply(frame)


def test_range_actions(applicants):
    nan = _apply([Range("age", 18, 100)], applicants).frame["age"]
    assert nan.isna().tolist() == [False, True, False, True, False]
    clip = _apply([Range("age", 18, 100, "clip")], applicants).frame["age"]
    assert clip.tolist() == [25, 18, 40, 100, 33]
    drop = _apply([Range("age", 18, 100, "drop")], applicants)
    assert drop.frame.index.tolist() == [0, 2, 4]
    assert drop.kept.tolist() == [True, False, True, False, True]
    with pytest.raises(DataError, match=r"broken by 2 row\(s\) of column 'age'.*\[17, 130\]"):
        _apply([Range("age", 18, 100, "raise")], applicants)


def test_one_sided_range(applicants):
    out = _apply([Range("age", max=99, action="clip")], applicants).frame
    assert out["age"].tolist() == [25, 17, 40, 99, 33]


def test_non_negative(applicants):
    out = _apply([NonNegative("income")], applicants).frame["income"]
    assert out.isna().tolist() == [False, True, True, False, False]  # row 2 was already missing
    clipped = _apply([NonNegative("income", action="clip")], applicants).frame["income"]
    assert clipped.iloc[1] == 0.0


def test_sentinel_codes_become_missing(applicants):
    outcome = _apply([Sentinel("late_90", [96, 98])], applicants)
    assert outcome.frame["late_90"].isna().tolist() == [False, True, False, True, False]
    assert outcome.report.column("late_90").cells_changed == 2
    assert outcome.report.details["rules"][0]["violations"] == 2


def test_sentinel_on_a_text_column(applicants):
    out = _apply([Sentinel("region", ["w"])], applicants).frame["region"]
    assert out.isna().tolist() == [False, False, False, False, True]


def test_unique_identifier_drops_later_duplicates_and_ignores_missing(applicants):
    outcome = _apply([Unique("id")], applicants)
    assert outcome.frame.index.tolist() == [0, 1, 3, 4]
    with pytest.raises(DataError, match=r"Unique\(column='id'.*broken by 1 row"):
        _apply([Unique("id", action="raise")], applicants)


def test_rules_apply_in_order_and_report_their_counts(applicants):
    rules = [Sentinel("late_90", [96, 98]), Range("late_90", max=1, action="drop")]
    outcome = _apply(rules, applicants)
    # 96 / 98 became missing first, so only the 2 in the last row breaks the range.
    assert outcome.frame.index.tolist() == [0, 1, 2, 3]
    assert [r["violations"] for r in outcome.report.details["rules"]] == [2, 1]


def test_rules_are_data_round_trip(tmp_path):
    rules = (
        Range("age", 18, 100, "clip"),
        NonNegative("income"),
        Sentinel("late_90", [96, 98]),
        Unique("id", "raise"),
    )
    text = json.dumps([r.to_dict() for r in rules])
    assert parse_rules(text) == rules
    assert parse_rules({"rules": json.loads(text)}) == rules
    path = tmp_path / "rules.json"
    path.write_text(text, encoding="utf-8")
    assert parse_rules(path) == rules
    frame = pd.DataFrame({rule.column: [1] for rule in rules})
    assert ApplyRules(json.loads(text)).fit(frame).rules_ == rules


def test_unknown_rule_kind_is_refused():
    with pytest.raises(ValueError, match=r"unknown rule kind 'between'.*choose one of"):
        parse_rules([{"rule": "between", "column": "age"}])


def test_invalid_rule_fields_are_refused():
    with pytest.raises(ValueError, match=r"needs min <= max; got min=5.0, max=1.0"):
        Range("age", 5, 1)
    with pytest.raises(ValueError, match=r"needs min, max or both"):
        Range("age")
    with pytest.raises(ValueError, match=r"Input should be 'nan', 'clip', 'drop' or 'raise'"):
        Range("age", 0, 1, action="explode")
    with pytest.raises(ValueError, match=r"Unexpected keyword argument"):
        parse_rules([{"rule": "non_negative", "column": "x", "minimum": 0}])


def test_rule_naming_a_missing_column_gives_a_schema_error(applicants):
    with pytest.raises(SchemaError, match=r"names column 'salary', which is not in the frame"):
        ApplyRules([NonNegative("salary")]).fit(applicants)


def test_range_on_a_text_column_gives_a_schema_error(applicants):
    with pytest.raises(SchemaError, match=r"needs a numeric column; 'region' has dtype"):
        ApplyRules([Range("region", 0, 1)]).fit(applicants)


def test_empty_or_missing_rule_set_is_refused(applicants):
    with pytest.raises(ValueError, match=r"needs a rule set; got rules=None"):
        ApplyRules().fit(applicants)
    with pytest.raises(ValueError, match=r"needs at least one rule"):
        ApplyRules([]).fit(applicants)
