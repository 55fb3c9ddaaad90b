"""Baseline wrappers: raw frames in (NaN, category, string), probabilities out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from riskmoe.exceptions import DataError, NotFittedError, SchemaError
from riskmoe.models.baselines import (
    LightGBMClassifier,
    ParameterMatchedMLP,
    make_lightgbm,
    make_logistic,
    make_mlp,
    make_random_forest,
    make_scorecard,
    mlp_parameter_count,
    positive_scores,
    solve_hidden_width,
)


def mixed_frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Numeric with NaN, a pandas category with nullable-integer levels and NA, strings."""
    rng = np.random.default_rng(seed)
    income = rng.normal(size=n)
    income_nan = income.copy()
    income_nan[rng.random(n) < 0.15] = np.nan
    grade = rng.choice(["A", "B", "C", "D"], n)
    grade_effect = pd.Series(grade).map({"A": -1.5, "B": -0.5, "C": 0.5, "D": 1.5}).to_numpy()
    region = pd.Series(rng.choice([1, 2, 3], n), dtype="Int64")
    region[rng.random(n) < 0.05] = pd.NA
    purpose = pd.Series(rng.choice(["car", "home", "debt", None], n), dtype="str")
    logit = -income + grade_effect + rng.normal(scale=0.5, size=n)
    X = pd.DataFrame(
        {
            "income": income_nan,
            "n_late": rng.poisson(0.3, n),  # few distinct values: bins collapse
            "grade": pd.Series(grade, dtype="category"),
            "region": region.astype("category"),
            "purpose": purpose,
        }
    )
    y = pd.Series((logit > 0).astype(int), name="default")
    return X, y


def unseen_rows(X: pd.DataFrame) -> pd.DataFrame:
    """Two rows with a level never seen in fit and a missing value where fit had none."""
    rows = X.head(2).copy()
    rows["purpose"] = pd.Series(["yacht", "yacht"], dtype="str", index=rows.index)
    rows.loc[rows.index[0], "n_late"] = np.nan
    return rows


FACTORIES = {
    "logistic": lambda: make_logistic(),
    "scorecard": lambda: make_scorecard(),
    "random_forest": lambda: make_random_forest(n_estimators=50),
    "lightgbm": lambda: make_lightgbm(n_estimators=200),
    "mlp": lambda: make_mlp(2_000, max_iter=20),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_baseline_takes_a_raw_frame_and_scores_unseen_levels(name):
    X, y = mixed_frame()
    model = FACTORIES[name]().fit(X, y)
    p = positive_scores(model, X)
    assert p.shape == (len(X),) and np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score(y, p) > 0.75  # the signal in income and grade is found
    q = positive_scores(model, unseen_rows(X))
    assert np.isfinite(q).all()


def test_make_logistic_keeps_its_contract():
    X, y = mixed_frame()
    model = make_logistic(random_state=0).fit(X, y)
    assert model.named_steps["model"].class_weight == "balanced"
    assert make_logistic(class_weight=None).named_steps["model"].class_weight is None
    with pytest.raises(ValueError, match="C must be > 0"):
        make_logistic(C=0)


def test_scorecard_is_one_woe_column_per_feature_plus_missing_flags():
    X, y = mixed_frame()
    model = make_scorecard(n_bins=5).fit(X, y)
    # 2 numeric + 3 categorical WoE columns, and a missing flag for income (the only
    # numeric column with NaN in fit): one coefficient each, as in a scorecard.
    assert model.named_steps["model"].coef_.shape == (1, 6)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        make_scorecard(n_bins=1)
    with pytest.raises(ValueError, match="C must be > 0"):
        make_scorecard(C=-1.0)


# --- LightGBM ------------------------------------------------------------------------


def test_lightgbm_uses_category_and_string_columns_natively():
    X, y = mixed_frame(1_000)
    # Only the string column carries signal here: LightGBM must use it as a categorical.
    rng = np.random.default_rng(1)
    X = X.assign(purpose=pd.Series(rng.choice(["car", "home", "debt"], len(X)), dtype="str"))
    y = pd.Series((X["purpose"] == "debt").astype(int) ^ (rng.random(len(X)) < 0.1))
    clf = LightGBMClassifier(random_state=0).fit(X, y)
    assert clf.string_levels_ == {"purpose": ["car", "debt", "home"]}
    encoded = clf._encode(X)
    assert isinstance(encoded["purpose"].dtype, pd.CategoricalDtype)
    assert isinstance(encoded["grade"].dtype, pd.CategoricalDtype)
    assert roc_auc_score(y, clf.predict_proba(X)[:, 1]) > 0.85
    assert clf.predict(X.head(3)).shape == (3,)


def test_lightgbm_stops_early_on_noise():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=800), "b": rng.normal(size=800)})
    y = pd.Series(rng.integers(0, 2, 800))  # pure noise: validation loss rises at once
    clf = LightGBMClassifier(
        n_estimators=500, learning_rate=0.3, early_stopping_rounds=10, random_state=0
    ).fit(X, y)
    assert clf.best_iteration_ < 500
    # training stopped `early_stopping_rounds` after the best round, not at n_estimators
    rounds = len(clf.model_.evals_result_["valid_0"]["binary_logloss"])
    assert rounds == clf.best_iteration_ + 10


def test_lightgbm_bad_inputs_raise_specific_errors():
    X, y = mixed_frame(200)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        LightGBMClassifier().predict_proba(X)
    with pytest.raises(DataError, match="binary target with both classes"):
        LightGBMClassifier().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(DataError, match="empty frame"):
        LightGBMClassifier().fit(X.iloc[:0], y.iloc[:0])
    with pytest.raises(DataError, match="pandas DataFrame or a 2-d numpy array"):
        LightGBMClassifier().fit([[1, 2]], [0])
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 0.5\]"):
        LightGBMClassifier(validation_fraction=0.9).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping_rounds must be an integer >= 1"):
        LightGBMClassifier(early_stopping_rounds=0).fit(X, y)
    with pytest.raises(DataError, match="at least 2 rows of each class"):
        LightGBMClassifier().fit(X.head(5), pd.Series([0, 0, 0, 0, 1]))
    when = X.assign(when=pd.Timestamp("2024-01-01"))
    with pytest.raises(SchemaError, match="column 'when' has dtype datetime64"):
        LightGBMClassifier().fit(when, y)
    clf = LightGBMClassifier(n_estimators=20).fit(X, y)
    with pytest.raises(SchemaError, match=r"columns \['grade'\] seen in fit are missing"):
        clf.predict_proba(X.drop(columns="grade"))


# --- MLP with a parameter budget ------------------------------------------------------


@pytest.mark.parametrize("n_inputs", [3, 17, 61, 250])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
@pytest.mark.parametrize("target", [1_500, 10_000, 123_457])
def test_solve_hidden_width_matches_a_brute_force_search(n_inputs, n_layers, target):
    if target < mlp_parameter_count(n_inputs, (1,) * n_layers):
        pytest.skip("target below the width-1 network")
    h = solve_hidden_width(target, n_inputs, n_layers)
    best_error, w = None, 1
    while True:  # the count grows with the width: walk up until it passes the target
        error = abs(mlp_parameter_count(n_inputs, (w,) * n_layers) - target)
        best_error = error if best_error is None else min(best_error, error)
        if mlp_parameter_count(n_inputs, (w,) * n_layers) > target:
            break
        w += 1
    assert abs(mlp_parameter_count(n_inputs, (h,) * n_layers) - target) == best_error


@pytest.mark.parametrize("target", [2_000, 10_000, 40_000])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_make_mlp_hits_the_parameter_target(target, n_layers):
    X, y = mixed_frame(300)
    mlp = make_mlp(target, n_hidden_layers=n_layers, max_iter=3).fit(X, y)
    w = mlp.hidden_width_
    # counted from the fitted arrays, and equal to the closed form the width was solved with
    assert mlp.n_parameters_ == mlp_parameter_count(mlp.n_inputs_, (w,) * n_layers)
    # stated tolerance: at most half a width step, and within 3 % for targets >= 2,000
    step = mlp_parameter_count(mlp.n_inputs_, (w + 1,) * n_layers) - mlp.n_parameters_
    assert abs(mlp.n_parameters_ - target) <= step / 2
    assert abs(mlp.n_parameters_ - target) / target <= 0.03


def test_mlp_stops_on_validation_log_loss_and_keeps_the_best_epoch():
    X, y = mixed_frame(500)
    mlp = make_mlp(2_000, n_iter_no_change=3, max_iter=300).fit(X, y)
    losses = mlp.validation_loss_
    assert len(losses) < 300  # stopped early
    assert mlp.best_epoch_ == int(np.argmin(losses)) + 1
    assert len(losses) == mlp.best_epoch_ + 3
    # the kept weights are the best epoch's: its validation loss is reproduced
    pre = mlp.preprocess_.transform(X)
    assert pre.shape[1] == mlp.n_inputs_


def test_rare_defaults_do_not_stop_the_mlp_at_the_first_epoch():
    # 2 % positives: validation accuracy is flat, validation log loss is not
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=3_000), "b": rng.normal(size=3_000)})
    y = pd.Series((X["a"] + 0.3 * rng.normal(size=3_000) > 2.05).astype(int))
    mlp = make_mlp(2_000, max_iter=60).fit(X, y)
    assert mlp.best_epoch_ > 1
    assert roc_auc_score(y, mlp.predict_proba(X)[:, 1]) > 0.9


def test_make_mlp_rejects_an_impossible_budget():
    X, y = mixed_frame(200)
    with pytest.raises(ValueError, match="below the smallest MLP with 2 hidden layer"):
        make_mlp(10, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="n_parameters must be an integer"):
        make_mlp(1e4, max_iter=2).fit(X, y)  # type: ignore[arg-type]
    with pytest.raises(NotFittedError, match="ParameterMatchedMLP is not fitted yet"):
        make_mlp().predict_proba(X)
    with pytest.raises(ValueError, match="numeric must be 'quantile' or 'standard'"):
        make_mlp(numeric="robust").fit(X, y)
    with pytest.raises(DataError, match="at least 2 rows of each class"):
        make_mlp().fit(X.head(5), pd.Series([0, 0, 0, 0, 1]))


@pytest.mark.parametrize("estimator", [LightGBMClassifier(), ParameterMatchedMLP()])
def test_wrappers_follow_the_estimator_contract(estimator):
    name = type(estimator).__name__
    check_parameters_default_constructible(name, estimator)
    check_no_attributes_set_in_init(name, estimator)
    check_get_params_invariance(name, estimator)
