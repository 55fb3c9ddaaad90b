"""Feature groups: explicit mappings validated against the frame, 'auto' by name stems."""

from __future__ import annotations

import pytest

from riskmoe.exceptions import SchemaError
from riskmoe.features import FeatureGroup, infer_feature_groups, resolve_feature_groups

COLUMNS = ["AGE", "PAY_STATUS_1", "PAY_STATUS_2", "BILL_AMT1", "BILL_AMT2", "BILL_AMT3", "SEX"]


def test_none_is_one_group_of_everything():
    assert resolve_feature_groups(None, COLUMNS, max_groups=4) == (
        FeatureGroup("all", tuple(COLUMNS)),
    )


def test_mapping_keeps_frame_order_and_drops_duplicates():
    groups = resolve_feature_groups(
        {"bills": ["BILL_AMT2", "BILL_AMT1", "BILL_AMT2"], "who": ("SEX", "AGE")},
        COLUMNS,
        max_groups=4,
    )
    assert groups == (
        FeatureGroup("bills", ("BILL_AMT1", "BILL_AMT2")),
        FeatureGroup("who", ("AGE", "SEX")),
    )


def test_auto_groups_by_name_stem():
    groups = infer_feature_groups(COLUMNS, max_groups=4)
    assert [(g.name, g.columns) for g in groups] == [
        ("PAY_STATUS", ("PAY_STATUS_1", "PAY_STATUS_2")),
        ("BILL_AMT", ("BILL_AMT1", "BILL_AMT2", "BILL_AMT3")),
        ("other", ("AGE", "SEX")),
    ]
    assert resolve_feature_groups("auto", COLUMNS, max_groups=4) == groups


def test_auto_respects_max_groups_by_pooling_small_stems():
    groups = infer_feature_groups(COLUMNS, max_groups=2)
    assert [g.name for g in groups] == ["BILL_AMT", "other"]
    assert sum(len(g.columns) for g in groups) == len(COLUMNS)


def test_auto_without_stems_is_one_group():
    assert infer_feature_groups(["a", "b", "c"], max_groups=4) == (
        FeatureGroup("all", ("a", "b", "c")),
    )


def test_unknown_columns_are_named():
    with pytest.raises(SchemaError, match=r"group 'x' names columns that are not in X: 'Q'"):
        resolve_feature_groups({"x": ["AGE", "Q"]}, COLUMNS, max_groups=4)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"x": []}, r"feature group 'x' is empty"),
        ({"x": "AGE"}, r"feature group 'x' must be a sequence of column names, not the string"),
        ("stems", r"feature_groups must be None, 'auto' or a mapping"),
        (["AGE"], r"feature_groups must be None, 'auto' or a mapping .* got list"),
        ({"a": ["AGE"], "b": ["SEX"], "c": ["BILL_AMT1"]}, r"n_experts must be >= the number"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_feature_groups(spec, COLUMNS, max_groups=2)
