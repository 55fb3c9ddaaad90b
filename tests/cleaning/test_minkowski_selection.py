"""Choosing the Minkowski p by injecting outliers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmoe.cleaning import inject_outliers, select_minkowski_p
from riskmoe.cleaning.scaling import location_scale
from riskmoe.data import load_dataset
from riskmoe.exceptions import DataError


def test_injection_moves_exactly_the_chosen_rows_by_shift_robust_sds():
    clean = np.random.default_rng(0).normal(size=(200, 5))
    injected = inject_outliers(clean, rate=0.02, shift=4.0, max_columns=2, random_state=3)
    assert injected.is_outlier.sum() == 4
    moved = injected.values != clean
    assert (moved.any(axis=1) == injected.is_outlier).all()
    assert (moved.sum(axis=1)[injected.is_outlier] <= 2).all()
    _, scale = location_scale(clean, "robust")
    rows, cols = np.nonzero(moved)
    np.testing.assert_allclose(np.abs(injected.values - clean)[rows, cols], 4.0 * scale[cols])


def test_injection_is_seeded():
    clean = np.random.default_rng(0).normal(size=(50, 3))
    a = inject_outliers(clean, random_state=11)
    b = inject_outliers(clean, random_state=11)
    np.testing.assert_array_equal(a.values, b.values)


def test_injection_argument_errors():
    clean = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"rate must be a number in \(0, 0.5\]; got 0.9"):
        inject_outliers(clean, rate=0.9)
    with pytest.raises(ValueError, match=r"shift must be a positive number"):
        inject_outliers(clean, shift=0)
    with pytest.raises(DataError, match=r"needs complete data"):
        inject_outliers(np.array([[np.nan], [1.0]]))


def test_large_shifts_are_found_for_every_p():
    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(300, 4)), columns=list("abcd"))
    result = select_minkowski_p(frame, shift=25.0, rate=0.02, n_repeats=1, winsorize=None)
    assert {s.recall_mean for s in result.summary} == {1.0}
    assert {s.auc_mean for s in result.summary} == {1.0}
    # all tied on recall and AUC: the smaller p wins
    assert result.chosen_p == 1.0


@pytest.fixture(scope="module")
def german_selection():
    german = load_dataset("german_credit").frame.drop(columns="bad")
    return select_minkowski_p({"german": german}, p_values=(1, 2, 3), n_repeats=2, random_state=5)


def test_selection_on_real_data_follows_the_stated_criterion(german_selection):
    result = german_selection
    assert len(result.runs) == 1 * 2 * 3 * 2  # datasets x methods x p x repeats
    assert result.datasets["german"]["n_rows"] == 1000
    assert result.datasets["german"]["n_injected"] == 20
    recall = {p: np.mean([r.recall for r in result.runs if r.p == p]) for p in (1.0, 2.0, 3.0)}
    auc = {p: np.mean([r.auc for r in result.runs if r.p == p]) for p in (1.0, 2.0, 3.0)}
    best = max(recall.values())
    expected = min((p for p in recall if recall[p] >= best - 1e-9), key=lambda p: (-auc[p], p))
    assert result.chosen_p == expected
    assert result.mean_recall_by_p == pytest.approx(recall)
    assert "recall" in result.criterion


def test_selection_is_reproducible_and_serialisable(german_selection):
    german = load_dataset("german_credit").frame.drop(columns="bad")
    again = select_minkowski_p({"german": german}, p_values=(1, 2, 3), n_repeats=2, random_state=5)
    assert again.runs == german_selection.runs
    payload = json.loads(json.dumps(german_selection.to_dict(), allow_nan=False))
    assert payload["chosen_p"] == german_selection.chosen_p
    assert payload["settings"]["p_values"] == [1.0, 2.0, 3.0]
    assert len(german_selection.to_frame()) == 2 * 3


def test_selection_argument_errors():
    frame = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) ** 2})
    with pytest.raises(ValueError, match=r"p must be a finite number >= 1"):
        select_minkowski_p(frame, p_values=(0.5, 2))
    with pytest.raises(ValueError, match=r"p_values must be non-empty and distinct"):
        select_minkowski_p(frame, p_values=(2, 2.0))
    with pytest.raises(ValueError, match=r"methods must be a non-empty subset"):
        select_minkowski_p(frame, methods=("iforest",))
    with pytest.raises(DataError, match=r"no non-constant numeric column"):
        select_minkowski_p({"text": pd.DataFrame({"s": list("abc")})})
