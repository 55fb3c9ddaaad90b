"""The runner: the same folds for every model, every fitted step inside the training fold."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from riskmoe.evaluation import (
    FoldContext,
    ModelSpec,
    cross_validate_models,
    cv_splits,
    summarize,
)
from riskmoe.exceptions import DataError


def frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    # a non-default index: the probes record labels, so positions and labels must agree
    X.index = pd.Index(np.arange(n) * 10 + 7)
    y = pd.Series((X["a"] + rng.normal(scale=0.7, size=n) > 0.3).astype(int), index=X.index)
    return X, y


class ProbeClassifier(ClassifierMixin, BaseEstimator):
    """Records the index labels it is fitted on and asked to score; predicts a column."""

    def __init__(self, log: list[tuple[str, tuple[int, ...]]] | None = None, random_state=None):
        self.log = log
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> ProbeClassifier:
        assert self.log is not None
        self.log.append(("fit", tuple(X.index)))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        assert self.log is not None
        self.log.append(("predict", tuple(X.index)))
        p = 1.0 / (1.0 + np.exp(-X["a"].to_numpy()))
        return np.column_stack([1.0 - p, p])


class RecordingScaler(TransformerMixin, BaseEstimator):
    """A standardiser that remembers which rows set its statistics."""

    def __init__(self, seen: list[tuple[int, ...]] | None = None):
        self.seen = seen

    def fit(self, X: pd.DataFrame, y: Any = None) -> RecordingScaler:
        assert self.seen is not None
        self.seen.append(tuple(X.index))
        self.mean_ = X.mean()
        self.scale_ = X.std()
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return (X - self.mean_) / self.scale_


def _fits(log: list[tuple[str, tuple[int, ...]]]) -> list[tuple[int, ...]]:
    return [rows for kind, rows in log if kind == "fit"]


def test_every_model_gets_the_same_folds_and_is_fitted_on_the_training_fold_only():
    X, y = frame()
    logs: dict[str, list[tuple[str, tuple[int, ...]]]] = {"first": [], "second": []}
    specs = [
        ModelSpec("first", lambda: ProbeClassifier(logs["first"])),
        ModelSpec("second", lambda: ProbeClassifier(logs["second"])),
    ]
    res = cross_validate_models(
        X, y, specs, n_splits=4, n_repeats=2, throughput_rows=50, latency_calls=3
    )
    assert len(res.splits) == 8 and len(res.records) == 16
    expected = [tuple(X.index[s.train]) for s in res.splits]
    assert _fits(logs["first"]) == _fits(logs["second"]) == expected
    for split in res.splits:
        assert not set(split.train) & set(split.test)
    # every prediction (metrics, throughput, latency) is on rows of the fold's test set
    predicted = [rows for kind, rows in logs["first"] if kind == "predict"]
    per_fold = len(predicted) // len(res.splits)
    for k, split in enumerate(res.splits):
        test_rows = set(X.index[split.test])
        for rows in predicted[k * per_fold : (k + 1) * per_fold]:
            assert set(rows) <= test_rows
    # the records name the same folds for both models
    f = res.frame()
    assert (
        f[f.model == "first"][["fold", "n_test"]].to_numpy().tolist()
        == f[f.model == "second"][["fold", "n_test"]].to_numpy().tolist()
    )


def test_preprocessing_is_fitted_inside_the_fold():
    X, y = frame()
    seen: list[tuple[int, ...]] = []
    spec = ModelSpec(
        "pipeline",
        lambda: Pipeline([("scale", RecordingScaler(seen)), ("model", LogisticRegression())]),
    )
    res = cross_validate_models(X, y, [spec], n_splits=3, throughput_rows=20, latency_calls=2)
    assert seen == [tuple(X.index[s.train]) for s in res.splits]
    assert all(
        len(set(rows) & set(X.index[s.test])) == 0 for rows, s in zip(seen, res.splits, strict=True)
    )


def test_tuning_only_sees_training_rows_and_uses_the_same_budget():
    X, y = frame(300)
    logs: dict[str, list[tuple[str, tuple[int, ...]]]] = {"a": [], "b": []}
    space = {"random_state": [1, 2, 3, 4, 5, 6]}
    specs = [
        ModelSpec("a", lambda **p: ProbeClassifier(logs["a"], **p), space),
        ModelSpec("b", lambda **p: ProbeClassifier(logs["b"], **p), space),
        ModelSpec("untuned", lambda: ProbeClassifier([])),
    ]
    res = cross_validate_models(
        X, y, specs, n_splits=3, n_trials=2, throughput_rows=10, latency_calls=2
    )
    for name in ("a", "b"):
        fits = _fits(logs[name])
        assert len(fits) == 3 * (1 + 2 + 1)  # per fold: defaults + 2 draws, then the refit
        for k, split in enumerate(res.splits):
            train = set(X.index[split.train])
            assert all(set(rows) <= train for rows in fits[k * 4 : (k + 1) * 4])
        assert [len(t.trials) for t in res.tuning[name]] == [3, 3, 3]
    assert {r.n_trials for r in res.records if r.model == "untuned"} == {0}
    assert {r.n_trials for r in res.records if r.model != "untuned"} == {2}


def test_context_aware_factories_see_earlier_models_and_fold_seeds():
    X, y = frame()
    seen: list[FoldContext] = []

    def later(context: FoldContext) -> ProbeClassifier:
        seen.append(context)
        return ProbeClassifier([])

    specs = [
        ModelSpec("earlier", lambda: ProbeClassifier([])),
        ModelSpec("later", later, uses_context=True),
    ]
    cross_validate_models(X, y, specs, n_splits=2, random_state=40, dataset="toy", latency_calls=1)
    assert [c.fold for c in seen] == [0, 1]
    assert [c.random_state for c in seen] == [40, 41]
    assert all(set(c.fitted) == {"earlier"} and c.dataset == "toy" for c in seen)


def test_plain_factories_get_the_fold_seed():
    X, y = frame()
    models: list[ProbeClassifier] = []

    def factory() -> ProbeClassifier:
        models.append(ProbeClassifier([]))
        return models[-1]

    cross_validate_models(
        X, y, [ModelSpec("m", factory)], n_splits=2, random_state=5, latency_calls=1
    )
    assert [m.random_state for m in models] == [5, 6]


def test_folds_are_stratified_repeated_and_cover_every_row_once_per_repeat():
    _, y = frame(203)
    splits = cv_splits(y, n_splits=5, n_repeats=3, random_state=0)
    assert [s.fold for s in splits] == list(range(15))
    assert [s.repeat for s in splits] == [0] * 5 + [1] * 5 + [2] * 5
    rate = y.mean()
    for r in range(3):
        tests = np.concatenate([s.test for s in splits if s.repeat == r])
        assert sorted(tests) == list(range(203))
        for s in splits[r * 5 : (r + 1) * 5]:
            assert abs(y.iloc[s.test].sum() - rate * len(s.test)) <= 1
    assert not np.array_equal(splits[0].test, splits[5].test)  # repeats reshuffle


def test_out_of_fold_scores_and_summary():
    X, y = frame()
    res = cross_validate_models(
        X,
        y,
        [ModelSpec("m", lambda: ProbeClassifier([]))],
        n_splits=3,
        n_repeats=2,
        latency_calls=1,
    )
    assert not np.isnan(res.oof["m"]).any()  # repeat 0 scores every row once
    s = summarize(res.records)
    f = res.frame()
    assert s.loc[("data", "m"), ("auc", "mean")] == pytest.approx(f["auc"].mean())
    assert s.loc[("data", "m"), ("auc", "std")] == pytest.approx(f["auc"].std(ddof=1))
    assert s.loc[("data", "m"), ("folds", "n")] == 6


def test_bad_inputs_raise_specific_errors():
    X, y = frame()
    spec = [ModelSpec("m", lambda: ProbeClassifier([]))]
    with pytest.raises(DataError, match="X must be a pandas DataFrame"):
        cross_validate_models(X.to_numpy(), y, spec)
    with pytest.raises(DataError, match="y must be 0/1"):
        cross_validate_models(X, y * 2, spec)
    with pytest.raises(DataError, match="X has 240 rows but y has shape"):
        cross_validate_models(X, y.iloc[:10], spec)
    with pytest.raises(ValueError, match="models is empty"):
        cross_validate_models(X, y, [])
    with pytest.raises(ValueError, match=r"model names must be unique; repeated: \['m'\]"):
        cross_validate_models(X, y, spec * 2)
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        cross_validate_models(X, y, spec, n_splits=1)
    rare = pd.Series(np.r_[np.ones(3, dtype=int), np.zeros(len(X) - 3, dtype=int)], index=X.index)
    with pytest.raises(DataError, match="rarer class has 3 rows, fewer than n_splits=5"):
        cross_validate_models(X, rare, spec, n_splits=5)
    with pytest.raises(ValueError, match="no records to summarise"):
        summarize([])


def test_a_training_cap_subsamples_train_folds_only_and_identically_for_every_model():
    X, y = frame(400)
    logs: dict[str, list[tuple[str, tuple[int, ...]]]] = {"a": [], "b": []}
    specs = [
        ModelSpec("a", lambda: ProbeClassifier(logs["a"])),
        ModelSpec("b", lambda: ProbeClassifier(logs["b"])),
    ]
    res = cross_validate_models(
        X, y, specs, n_splits=4, max_train_rows=100, throughput_rows=10, latency_calls=1
    )
    assert _fits(logs["a"]) == _fits(logs["b"])
    assert all(len(rows) == 100 for rows in _fits(logs["a"]))
    assert sorted(np.concatenate([s.test for s in res.splits])) == list(range(400))
    for s in res.splits:
        assert abs(y.iloc[s.train].mean() - y.mean()) < 0.02  # stratified
    with pytest.raises(ValueError, match="max_train_rows must be >= 10"):
        cv_splits(y, max_train_rows=3)


def test_folds_in_worker_processes_give_the_serial_results():
    """n_jobs=2 runs folds in two processes; seeded folds give the same metrics, the same
    out-of-fold scores and the same per-fold order as the serial run."""
    X, y = frame(n=300, seed=4)
    specs = [
        ModelSpec("logistic", lambda: LogisticRegression()),
        ModelSpec("forest", lambda: RandomForestClassifier(n_estimators=20)),
    ]
    kwargs = dict(n_splits=3, n_repeats=2, latency_calls=1, throughput_rows=50)
    serial = cross_validate_models(X, y, specs, **kwargs)
    messages: list[str] = []
    parallel = cross_validate_models(
        X, y, specs, n_jobs=2, threads=1, on_progress=messages.append, **kwargs
    )
    cols = ["model", "fold", "repeat", "auc", "ks", "brier", "logloss", "ece"]
    pd.testing.assert_frame_equal(serial.frame()[cols], parallel.frame()[cols])
    for name in ("logistic", "forest"):
        np.testing.assert_array_equal(serial.oof[name], parallel.oof[name])
    assert sorted(messages) == sorted(
        f"data fold {f + 1}/6 {m} AUC {a:.3f}"
        for m, f, a in serial.frame()[["model", "fold", "auc"]].itertuples(index=False)
    )
    with pytest.raises(ValueError, match=r"n_jobs must be an integer >= 1; got 0\."):
        cross_validate_models(X, y, specs, n_jobs=0)
