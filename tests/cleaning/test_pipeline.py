"""CleaningPipeline: one loop over the steps, fitted on training data only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from riskmoe.cleaning import (
    ApplyRules,
    CleaningPipeline,
    DropDuplicates,
    DropMissingColumns,
    DropMissingRows,
    Imputer,
    IQROutliers,
    KNNOutliers,
    LOFOutliers,
    Range,
    Sentinel,
    ZScoreOutliers,
)
from riskmoe.data import load_dataset
from riskmoe.exceptions import NotFittedError

ESTIMATORS = [
    CleaningPipeline([Imputer()]),
    DropMissingColumns(),
    DropMissingRows(),
    Imputer(),
    DropDuplicates(),
    ApplyRules([Range("x", 0, 1)]),
    ZScoreOutliers(),
    IQROutliers(),
    KNNOutliers(),
    LOFOutliers(),
]


@pytest.fixture()
def train() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "late": [0, 96, 1, 0, 0, 2, 0, 0],
            "income": [3.0, 4.0, None, 5.0, 5.0, 6.0, 4.0, 90.0],
            "sparse": [None, None, None, None, None, 1.0, None, 2.0],
            "grade": ["a", "b", "b", "a", "a", None, "b", "a"],
        },
        index=[f"r{i}" for i in range(8)],
    )


def _pipeline() -> CleaningPipeline:
    return CleaningPipeline(
        [
            ApplyRules([Sentinel("late", [96, 98])]),
            DropDuplicates(),
            DropMissingColumns(threshold=0.5),
            Imputer(),
            IQROutliers(action="drop", columns=["income"]),
        ]
    )


def test_fit_transform_cleans_and_exposes_the_kept_rows(train):
    pipe = _pipeline()
    out = pipe.fit_transform(train)
    # r4 duplicates r3; sparse is 75 % missing; r1's 96 -> median of late;
    # income 90 is outside the fences (r7 dropped); r2's income -> training median 4.5.
    assert out.columns.tolist() == ["late", "income", "grade"]
    assert out.index.tolist() == ["r0", "r1", "r2", "r3", "r5", "r6"]
    assert pipe.kept_mask_.tolist() == [True, True, True, True, False, True, True, False]
    assert pipe.kept_index_.tolist() == out.index.tolist()
    assert out.loc["r2", "income"] == 4.5
    assert out.loc["r5", "grade"] == "a"
    assert out.loc["r1", "late"] == 0.0
    y = pd.Series(np.arange(8), index=train.index)
    assert pipe.align(y).index.tolist() == out.index.tolist()
    assert pipe.align(list(range(8))).tolist() == [0, 1, 2, 3, 5, 6]
    assert list(pipe.named_steps_) == [
        "apply_rules",
        "drop_duplicates",
        "drop_missing_columns",
        "imputer",
        "iqr_outliers",
    ]
    assert pipe.get_feature_names_out().tolist() == ["late", "income", "grade"]


def test_transform_uses_training_statistics_without_refitting(train):
    pipe = _pipeline().fit(train)
    imputer = pipe.named_steps_["imputer"]
    learned = dict(imputer.statistics_)
    bounds = dict(pipe.named_steps_["iqr_outliers"].bounds_)
    test = pd.DataFrame(
        {
            "late": [98, 1],
            "income": [None, 7.0],
            "sparse": [1.0, 2.0],
            "grade": [None, "b"],
        }
    )
    out = pipe.transform(test)
    assert out["income"].tolist() == [learned["income"], 7.0]
    assert out["late"].tolist() == [learned["late"], 1.0]
    assert out["grade"].tolist() == [learned["grade"], "b"]
    assert "sparse" not in out.columns  # dropped because it was sparse in training
    assert imputer.statistics_ == learned
    assert pipe.named_steps_["iqr_outliers"].bounds_ == bounds
    assert pipe.report_.stage == "transform" and pipe.kept_mask_.tolist() == [True, True]


def test_clean_returns_the_run_without_touching_attributes(train):
    pipe = _pipeline().fit(train)
    fit_report = pipe.report_
    result = pipe.clean(train.iloc[:3])
    assert pipe.report_ is fit_report
    assert result.kept.tolist() == [True, True, True]
    assert result.report.rows_before == 3


def test_fit_clones_the_steps(train):
    imputer = Imputer()
    pipe = CleaningPipeline([("impute", imputer)]).fit(train)
    assert not hasattr(imputer, "statistics_")
    assert pipe.named_steps_["impute"] is not imputer


def test_default_pipeline_on_real_german_credit():
    data = load_dataset("german_credit")
    X = data.frame.drop(columns=data.target)
    pipe = CleaningPipeline.default()
    out = pipe.fit_transform(X)
    assert out.shape == X.shape and not out.isna().any().any()
    assert [s.name for s in pipe.report_.steps] == [
        "duplicates",
        "sparse_columns",
        "impute",
        "winsorize",
    ]
    changed = int((out["credit_amount"] != X["credit_amount"]).sum())
    assert pipe.report_.step("winsorize").column("credit_amount").cells_changed == changed > 0
    json.dumps(pipe.report_.to_dict(), allow_nan=False)


def test_default_pipeline_with_rules_and_identifier(train):
    X = train.assign(customer=[1, 2, 3, 4, 5, 6, 7, 7])
    pipe = CleaningPipeline.default(rules=[Sentinel("late", [96])], id_column="customer")
    out = pipe.fit_transform(X)
    assert "rules" in pipe.named_steps_
    assert out["customer"].is_unique
    assert "customer" not in pipe.named_steps_["winsorize"].columns_


def test_step_errors():
    with pytest.raises(ValueError, match=r"needs at least one step; got steps=\[\]"):
        CleaningPipeline([]).fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match=r"step names must be unique; 'a' appears twice"):
        CleaningPipeline([("a", Imputer()), ("a", Imputer())]).fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(TypeError, match=r"is a StandardScaler, which lacks fit_apply / apply"):
        from sklearn.preprocessing import StandardScaler

        CleaningPipeline([StandardScaler()]).fit(pd.DataFrame({"x": [1.0]}))


def test_unnamed_repeats_get_numbered():
    pipe = CleaningPipeline([Imputer(), Imputer()]).fit(pd.DataFrame({"x": [1.0, None]}))
    assert list(pipe.named_steps_) == ["imputer", "imputer_2"]


def test_not_fitted():
    pipe = CleaningPipeline([Imputer()])
    with pytest.raises(NotFittedError, match=r"CleaningPipeline is not fitted yet"):
        pipe.transform(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(NotFittedError, match=r"CleaningPipeline is not fitted yet"):
        pipe.align([1])


def test_align_length_mismatch(train):
    pipe = _pipeline().fit(train)
    with pytest.raises(ValueError, match=r"y has 3 rows but the last cleaned frame had 8"):
        pipe.align([1, 2, 3])


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_scikit_learn_conventions(estimator):
    # check_estimator itself feeds numpy arrays and expects one output row per input row;
    # these transformers take DataFrames and may drop rows, so only the API checks apply.
    name = type(estimator).__name__
    check_no_attributes_set_in_init(name, estimator)
    check_get_params_invariance(name, estimator)
    check_parameters_default_constructible(name, estimator)
    check_mixin_order(name, estimator)
    assert repr(clone(estimator)) == repr(estimator)


@pytest.mark.skip(
    reason="check_estimator feeds numpy arrays; these steps need DataFrames and may drop rows, "
    "which the generic transformer checks do not allow"
)
def test_full_estimator_checks():  # pragma: no cover
    pass
