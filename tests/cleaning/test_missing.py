"""Missing values: sparse rows / columns and imputation learned in fit only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.cleaning import DropMissingColumns, DropMissingRows, Imputer
from riskmoe.exceptions import DataError, NotFittedError, SchemaError


@pytest.fixture()
def sparse() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [1.0, None, None, None],  # 75 % missing
            "b": [1.0, 2.0, None, None],  # 50 % missing
            "c": [1.0, 2.0, 3.0, None],  # 25 % missing
        }
    )


def test_drop_missing_columns_uses_a_strict_threshold(sparse):
    step = DropMissingColumns(threshold=0.5).fit(sparse)
    assert step.missing_share_ == {"a": 0.75, "b": 0.5, "c": 0.25}
    assert step.columns_to_drop_ == ["a"]
    assert step.transform(sparse).columns.tolist() == ["b", "c"]


def test_drop_missing_columns_decides_in_fit_only(sparse):
    step = DropMissingColumns(threshold=0.5).fit(sparse)
    complete = pd.DataFrame({"a": [1.0], "b": [None], "c": [None]})
    # `a` is complete in the new frame but was sparse in training; `b` is empty here.
    assert step.transform(complete).columns.tolist() == ["b", "c"]


def test_drop_missing_columns_restricted_to_named_columns(sparse):
    step = DropMissingColumns(threshold=0.2, columns=["b", "c"]).fit(sparse)
    assert step.columns_to_drop_ == ["b", "c"]


def test_drop_missing_rows_by_row_share(sparse):
    out = DropMissingRows(threshold=0.5).fit_transform(sparse)
    # row shares: 0, 1/3, 2/3, 1
    assert out.index.tolist() == [0, 1]
    assert DropMissingRows(threshold=0.0).fit_transform(sparse).index.tolist() == [0]
    assert len(DropMissingRows(threshold=1.0).fit_transform(sparse)) == 4


def test_drop_missing_rows_kept_mask(sparse):
    outcome = DropMissingRows(threshold=0.5, columns=["b", "c"]).fit_apply(sparse)
    assert outcome.kept.tolist() == [True, True, True, False]
    assert outcome.report.rows_dropped == 1


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5", True])
def test_threshold_outside_unit_interval_is_refused(sparse, threshold):
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\]; got"):
        DropMissingColumns(threshold=threshold).fit(sparse)
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\]"):
        DropMissingRows(threshold=threshold).fit(sparse)


def test_median_imputation_gives_the_known_median():
    X = pd.DataFrame({"x": [1.0, 2.0, 10.0, None, 4.0]})
    step = Imputer().fit(X)
    assert step.statistics_ == {"x": 3.0}  # median of 1, 2, 4, 10
    assert step.transform(X)["x"].tolist() == [1.0, 2.0, 10.0, 3.0, 4.0]


def test_mean_and_mode_strategies_per_column():
    X = pd.DataFrame(
        {
            "x": [1.0, 2.0, 10.0, None],
            "y": [5, 5, 7, None],
            "c": pd.Categorical(["b", "a", "b", None]),
        }
    )
    step = Imputer(strategy={"x": "mean", "y": "mode"}).fit(X)
    assert step.strategy_ == {"x": "mean", "y": "mode", "c": "mode"}
    assert step.statistics_["x"] == pytest.approx(13 / 3)
    assert step.statistics_["y"] == 5.0
    assert step.statistics_["c"] == "b"
    out = step.transform(X)
    assert out.loc[3].tolist() == [pytest.approx(13 / 3), 5.0, "b"]
    assert isinstance(out["c"].dtype, pd.CategoricalDtype)


def test_mode_ties_go_to_the_smallest_value():
    X = pd.DataFrame({"s": ["b", "a", "b", "a", None]})
    assert Imputer().fit(X).statistics_ == {"s": "a"}


def test_imputer_uses_training_statistics_on_new_data():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, None]})
    test = pd.DataFrame({"x": [100.0, 200.0, None]})
    step = Imputer().fit(train)
    out = step.transform(test)
    assert out["x"].tolist() == [100.0, 200.0, 2.0]  # training median, not the test's 150
    assert step.statistics_ == {"x": 2.0}  # transform did not refit


def test_imputer_learns_a_statistic_for_complete_training_columns():
    step = Imputer().fit(pd.DataFrame({"x": [1.0, 3.0]}))
    assert step.transform(pd.DataFrame({"x": [None]}))["x"].tolist() == [2.0]


def test_imputer_casts_nullable_integers_for_a_fractional_median():
    X = pd.DataFrame({"n": pd.array([1, 2, None], dtype="Int64")})
    out = Imputer().fit_transform(X)
    assert str(out["n"].dtype) == "Float64"
    assert out["n"].tolist() == [1.0, 2.0, 1.5]


def test_imputer_adds_a_category_missing_from_new_data():
    train = pd.DataFrame({"c": pd.Categorical(["a", "a", "b"])})
    test = pd.DataFrame({"c": pd.Categorical(["b", None], categories=["b"])})
    out = Imputer().fit(train).transform(test)
    assert out["c"].tolist() == ["b", "a"]


def test_imputer_report_counts_filled_cells():
    X = pd.DataFrame({"x": [1.0, None, None], "s": ["a", None, "a"]})
    report = Imputer().fit_apply(X).report
    assert report.column("x").cells_changed == 2
    assert report.column("s").cells_changed == 1
    assert (report.rows_changed, report.cells_changed) == (2, 3)
    assert report.column("x").missing_before == 2 and report.column("x").missing_after == 0


def test_unknown_strategy_is_refused():
    X = pd.DataFrame({"x": [1.0, None]})
    with pytest.raises(ValueError, match=r"unknown imputation strategy 'average' for column 'x'"):
        Imputer(strategy={"x": "average"}).fit(X)
    with pytest.raises(ValueError, match=r"unknown numeric imputation strategy 'max'"):
        Imputer(numeric="max").fit(X)


def test_mean_of_a_text_column_is_refused():
    X = pd.DataFrame({"s": ["a", None]})
    with pytest.raises(SchemaError, match=r"column 's' has dtype .*needs a numeric column"):
        Imputer(strategy={"s": "median"}).fit(X)


def test_strategy_for_a_missing_column_is_refused():
    with pytest.raises(SchemaError, match=r"\['income'\] not found"):
        Imputer(strategy={"income": "median"}).fit(pd.DataFrame({"x": [1.0]}))


def test_all_missing_training_column_is_refused():
    X = pd.DataFrame({"x": [np.nan, np.nan], "y": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"column 'x' has no observed value"):
        Imputer().fit(X)


def test_transform_before_fit_and_changed_columns():
    with pytest.raises(NotFittedError, match=r"Imputer is not fitted yet"):
        Imputer().transform(pd.DataFrame({"x": [1.0]}))
    step = Imputer().fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(SchemaError, match=r"missing \['x'\], unexpected \['z'\]"):
        step.transform(pd.DataFrame({"z": [1.0]}))


def test_non_frame_input_is_refused():
    with pytest.raises(DataError, match=r"Imputer needs a pandas DataFrame; got ndarray"):
        Imputer().fit(np.zeros((2, 2)))
