"""The fixed tuning budget and the timing helpers (mechanics only: no timing thresholds)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from riskmoe.evaluation import predict_rows_per_second, single_row_latency_ms, tune
from riskmoe.exceptions import DataError


def frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series((X["a"] + rng.normal(scale=0.7, size=n) > 0).astype(int))
    return X, y


class Scored(ClassifierMixin, BaseEstimator):
    """Scores rows by ``quality * a`` plus noise; records fit sizes and predict batches."""

    def __init__(self, quality: float = 0.0, log: list[tuple[str, int]] | None = None):
        self.quality = quality
        self.log = log

    def fit(self, X: pd.DataFrame, y: Any) -> Scored:
        if self.log is not None:
            self.log.append(("fit", len(X)))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.log is not None:
            self.log.append(("predict", len(X)))
        noise = np.random.default_rng(0).normal(size=len(X))
        z = self.quality * X["a"].to_numpy() + noise
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1.0 - p, p])


def test_zero_budget_returns_the_defaults_without_fitting():
    def never(**params: Any) -> Scored:
        raise AssertionError("no fit expected")

    X, y = frame()
    res = tune(never, {"quality": [1.0]}, X, y, n_trials=0)
    assert dict(res.best_params) == {} and res.trials == () and res.n_trials == 0


def test_the_budget_is_defaults_plus_n_draws_and_the_best_inner_auc_wins():
    X, y = frame()
    res = tune(Scored, {"quality": [0.0, 0.5, 5.0, 50.0]}, X, y, n_trials=3, random_state=0)
    assert len(res.trials) == 4 and dict(res.trials[0].params) == {}
    scores = [t.score for t in res.trials]
    assert res.best_score == max(scores)
    assert dict(res.best_params) == dict(res.trials[int(np.argmax(scores))].params)
    assert res.best_params["quality"] >= 5.0
    assert res.to_dict()["n_trials"] == 3


def test_ties_keep_the_defaults():
    X, y = frame()
    res = tune(Scored, {"quality": [0.0]}, X, y, n_trials=1)
    assert dict(res.best_params) == {}


def test_max_rows_caps_the_rows_each_trial_sees():
    X, y = frame(1_000)
    log: list[tuple[str, int]] = []
    tune(
        lambda **p: Scored(log=log, **p),
        {"quality": [1.0, 2.0]},
        X,
        y,
        n_trials=2,
        max_rows=200,
        validation_fraction=0.25,
    )
    assert [n for kind, n in log if kind == "fit"] == [150, 150, 150]
    assert [n for kind, n in log if kind == "predict"] == [50, 50, 50]


def test_tune_works_with_a_real_estimator():
    X, y = frame()
    res = tune(LogisticRegression, {"C": [0.01, 1.0]}, X, y, n_trials=2)
    assert 0.5 < res.best_score <= 1.0


def test_tuning_bad_inputs_raise_specific_errors():
    X, y = frame()
    with pytest.raises(ValueError, match="n_trials must be an integer >= 0"):
        tune(Scored, {"quality": [1.0]}, X, y, n_trials=-1)
    with pytest.raises(ValueError, match="param_space is empty"):
        tune(Scored, {}, X, y, n_trials=2)
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 0.5\]"):
        tune(Scored, {"quality": [1.0]}, X, y, n_trials=1, validation_fraction=0.8)
    with pytest.raises(ValueError, match="max_rows must be >= 10"):
        tune(Scored, {"quality": [1.0]}, X, y, n_trials=1, max_rows=5)
    with pytest.raises(DataError, match="X has 400 rows but y has 3 labels"):
        tune(Scored, {"quality": [1.0]}, X, y.iloc[:3], n_trials=1)
    with pytest.raises(DataError, match=">= 2 rows of each of two classes"):
        tune(Scored, {"quality": [1.0]}, X, pd.Series(np.zeros(len(X))), n_trials=1)


def test_throughput_uses_a_batch_of_n_rows_even_from_a_small_fold():
    X, _ = frame(50)
    log: list[tuple[str, int]] = []
    rate = predict_rows_per_second(Scored(log=log), X, n_rows=10_000)
    assert log == [("predict", 10), ("predict", 10_000)]  # warm-up, then one timed batch
    assert np.isfinite(rate) and rate > 0


def test_latency_times_one_row_calls():
    X, _ = frame(30)
    log: list[tuple[str, int]] = []
    ms = single_row_latency_ms(Scored(log=log), X, n_calls=25)
    assert log == [("predict", 1)] * 26  # warm-up plus 25 timed calls
    assert np.isfinite(ms) and ms >= 0


def test_timing_bad_inputs_raise_specific_errors():
    X, _ = frame(10)
    with pytest.raises(ValueError, match="n_rows must be an integer >= 1"):
        predict_rows_per_second(Scored(), X, n_rows=0)
    with pytest.raises(ValueError, match="n_calls must be an integer >= 1"):
        single_row_latency_ms(Scored(), X, n_calls=0)
    with pytest.raises(DataError, match="no rows to time"):
        single_row_latency_ms(Scored(), X.iloc[:0])
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        predict_rows_per_second(Scored(), X.to_numpy())
