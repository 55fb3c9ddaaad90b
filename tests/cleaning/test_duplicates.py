"""Duplicate rows: exact, and on key columns with an explicit keep rule."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmoe.cleaning import DropDuplicates
from riskmoe.exceptions import SchemaError


@pytest.fixture()
def loans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 3, 3],
            "income": [None, 50.0, 40.0, 30.0, 30.0, None],
            "age": [30, 30, 41, None, 52, 52],
        }
    )


def test_exact_duplicates_keep_the_first_copy():
    X = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "y", "z"]})
    outcome = DropDuplicates().fit_apply(X)
    assert outcome.frame.index.tolist() == [0, 2, 3]
    assert outcome.kept.tolist() == [True, False, True, True]
    assert outcome.report.rows_dropped == 1
    assert outcome.report.details["duplicates"] == 1


def test_exact_duplicates_treat_missing_values_as_equal():
    X = pd.DataFrame({"a": [None, None], "b": [1.0, 1.0]})
    assert len(DropDuplicates().fit_transform(X)) == 1


@pytest.mark.parametrize(
    ("keep", "expected"),
    [("first", [0, 2, 3]), ("last", [1, 2, 5]), ("most_complete", [1, 2, 4])],
)
def test_key_duplicates_keep_rule(loans, keep, expected):
    out = DropDuplicates(subset=["id"], keep=keep).fit_transform(loans)
    assert out.index.tolist() == expected


def test_most_complete_breaks_ties_by_order():
    X = pd.DataFrame({"id": [7, 7, 7], "v": [None, 1.0, 2.0]})
    assert DropDuplicates(["id"], keep="most_complete").fit_transform(X).index.tolist() == [1]


def test_duplicates_are_found_in_the_frame_being_transformed(loans):
    step = DropDuplicates(subset=["id"]).fit(loans.iloc[:1])
    assert step.transform(loans).index.tolist() == [0, 2, 3]


def test_unknown_keep_rule_is_refused(loans):
    with pytest.raises(ValueError, match=r"unknown keep rule 'best'; choose one of"):
        DropDuplicates(subset=["id"], keep="best").fit(loans)


def test_missing_key_column_is_refused(loans):
    with pytest.raises(SchemaError, match=r"\['customer'\] not found"):
        DropDuplicates(subset=["customer"]).fit(loans)


def test_empty_subset_is_refused(loans):
    with pytest.raises(ValueError, match=r"subset must name at least one key column"):
        DropDuplicates(subset=[]).fit(loans)
