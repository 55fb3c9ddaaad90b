"""Outliers: z-score and IQR bounds, Minkowski kNN and LOF detectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.cleaning import IQROutliers, KNNOutliers, LOFOutliers, ZScoreOutliers
from riskmoe.cleaning.scaling import location_scale
from riskmoe.exceptions import DataQualityWarning, SchemaError


@pytest.fixture()
def gaussian() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])


# -- z-score ------------------------------------------------------------------------------


def test_zscore_flags_the_known_point():
    x = np.array([1.0] * 10 + [100.0])
    # mean 10, population std sqrt(810) = 28.46, so z(100) = 3.16 and z(1) = -0.32.
    step = ZScoreOutliers(threshold=3.0).fit(pd.DataFrame({"x": x}))
    assert step.mean_["x"] == pytest.approx(10.0)
    assert step.std_["x"] == pytest.approx(np.sqrt(810.0))
    assert step.bounds_["x"] == pytest.approx((x.mean() - 3 * x.std(), x.mean() + 3 * x.std()))
    flags = step.transform(pd.DataFrame({"x": x}))["outlier_zscore"]
    assert flags.tolist() == [False] * 10 + [True]


def test_zscore_bounds_are_used_unchanged_on_new_data():
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0]})  # mean 2, std sqrt(2)
    step = ZScoreOutliers(threshold=2.0, action="clip").fit(train)
    low, high = 2 - 2 * np.sqrt(2), 2 + 2 * np.sqrt(2)
    test = pd.DataFrame({"x": [100.0, 101.0, -50.0]})
    assert step.transform(test)["x"].tolist() == pytest.approx([high, high, low])
    assert step.mean_ == {"x": 2.0}  # transform did not refit on the test frame


def test_zscore_skips_constant_columns_and_ignores_missing():
    X = pd.DataFrame({"k": [5.0, 5.0, 5.0], "x": [1.0, None, None]})
    step = ZScoreOutliers(threshold=0.5).fit(X)
    assert step.skipped_ == {"k": "zero standard deviation", "x": "fewer than 2 observed values"}
    assert step.transform(X)["outlier_zscore"].tolist() == [False, False, False]


# -- IQR ----------------------------------------------------------------------------------


def test_iqr_bounds_equal_numpy_percentiles(gaussian):
    step = IQROutliers(factor=1.5).fit(gaussian)
    for column in gaussian.columns:
        q1, q3 = np.percentile(gaussian[column].to_numpy(), [25, 75])
        assert step.bounds_[column] == pytest.approx((q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)))


def test_iqr_actions_on_a_known_frame():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 50.0], "y": [0.0, 10.0, 20.0, 30.0, 40.0]})
    # x: Q1 = 2, Q3 = 4, fences (-1, 7); y: Q1 = 10, Q3 = 30, fences (-20, 60).
    flag = IQROutliers().fit_apply(X)
    assert flag.frame["outlier_iqr"].tolist() == [False, False, False, False, True]
    assert flag.report.details["outliers"] == {"x": 1, "y": 0}
    assert IQROutliers(action="clip").fit_transform(X)["x"].tolist() == [1, 2, 3, 4, 7]
    drop = IQROutliers(action="drop").fit_apply(X)
    assert drop.kept.tolist() == [True, True, True, True, False]
    assert drop.frame.index.tolist() == [0, 1, 2, 3]


def test_iqr_leaves_zero_iqr_columns_alone():
    counts = pd.DataFrame({"late": [0] * 8 + [3, 9]})
    step = IQROutliers(action="clip").fit(counts)
    assert step.skipped_ == {"late": "zero inter-quartile range"}
    assert step.transform(counts)["late"].tolist() == counts["late"].tolist()


def test_iqr_columns_and_exclude():
    X = pd.DataFrame({"id": [1, 2, 3, 1000], "x": [1.0, 2.0, 3.0, 4.0], "s": list("abcd")})
    assert IQROutliers(exclude=["id"]).fit(X).columns_ == ["x"]
    with pytest.raises(SchemaError, match=r"needs numeric columns; got non-numeric \{'s'"):
        IQROutliers(columns=["s"]).fit(X)


def test_statistical_argument_errors(gaussian):
    with pytest.raises(ValueError, match=r"unknown outlier action 'winsorize'"):
        IQROutliers(action="winsorize").fit(gaussian)
    with pytest.raises(ValueError, match=r"factor must be a non-negative number; got -1"):
        IQROutliers(factor=-1).fit(gaussian)
    with pytest.raises(ValueError, match=r"threshold must be a positive number; got 0"):
        ZScoreOutliers(threshold=0).fit(gaussian)
    with pytest.raises(SchemaError, match=r"flag column 'a' already exists"):
        ZScoreOutliers(flag_column="a").fit(gaussian)


# -- Minkowski distance detectors ---------------------------------------------------------


def _minkowski(u: np.ndarray, v: np.ndarray, p: float) -> float:
    total = 0.0
    for a, b in zip(u, v, strict=True):
        total += abs(a - b) ** p
    return total ** (1.0 / p)


def _kth_distance_loop(reference: np.ndarray, queries: np.ndarray, k: int, p: float, *, skip_self):
    scores = []
    for i, q in enumerate(queries):
        distances = sorted(
            _minkowski(q, r, p) for j, r in enumerate(reference) if not (skip_self and i == j)
        )
        scores.append(distances[k - 1])
    return np.array(scores)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_knn_scores_equal_a_plain_loop(gaussian, p):
    train, test = gaussian.iloc[:40], gaussian.iloc[40:]
    step = KNNOutliers(p=p, n_neighbors=3).fit(train)
    center, scale = location_scale(train.to_numpy(), "robust")
    assert step.center_ == pytest.approx(center) and step.scale_ == pytest.approx(scale)
    z_train = (train.to_numpy() - center) / scale
    z_test = (test.to_numpy() - center) / scale
    expected_train = _kth_distance_loop(z_train, z_train, 3, p, skip_self=True)
    expected_test = _kth_distance_loop(z_train, z_test, 3, p, skip_self=False)
    np.testing.assert_allclose(step.training_scores_, expected_train, rtol=1e-10)
    np.testing.assert_allclose(step.score_samples(test), expected_test, rtol=1e-10)


def test_knn_threshold_from_contamination(gaussian):
    outcome = KNNOutliers(contamination=0.05).fit_apply(gaussian)
    # 0.95 quantile of 60 distinct scores lies between the 57th and 58th: 3 rows above it.
    assert outcome.frame["outlier_knn"].sum() == 3
    assert outcome.report.details["outliers"] == 3


def test_knn_flags_and_drops_a_planted_point(gaussian):
    X = gaussian.copy()
    X.loc[60] = [9.0, -9.0, 9.0]
    step = KNNOutliers(p=1.5, contamination=1 / 61)
    out = step.fit_transform(X)
    assert out["outlier_knn"].tolist() == [False] * 60 + [True]
    dropped = KNNOutliers(p=1.5, contamination=1 / 61, action="drop").fit_apply(X)
    assert dropped.kept.tolist() == [True] * 60 + [False]
    assert step.transform(pd.DataFrame([[8.0, -8.0, 8.0]], columns=X.columns)).iloc[0, -1]


def test_knn_fixed_threshold_is_kept(gaussian):
    step = KNNOutliers(threshold=1e6).fit(gaussian)
    assert step.threshold_ == 1e6
    assert not step.transform(gaussian)["outlier_knn"].any()


def test_lof_finds_the_isolated_row():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
    X.loc[80] = [6.0, 6.0]
    step = LOFOutliers(p=1.0, n_neighbors=10, contamination=1 / 81).fit(X)
    assert int(np.argmax(step.training_scores_)) == 80
    assert np.median(step.training_scores_) == pytest.approx(1.0, abs=0.15)
    assert step.transform(X.iloc[:5])["outlier_lof"].tolist() == [False] * 5


def test_distance_detectors_warn_and_fill_missing_cells(gaussian):
    X = gaussian.copy()
    X.iloc[0, 0] = np.nan
    with pytest.warns(DataQualityWarning, match=r"1 missing cell\(s\) in \['a'\]"):
        step = KNNOutliers().fit(X)
    assert step.fill_[0] == pytest.approx(np.nanmedian(X["a"]))


@pytest.mark.parametrize("p", [0.5, 0, -1, float("inf"), float("nan"), "2"])
def test_p_outside_the_allowed_set_is_refused(gaussian, p):
    with pytest.raises(ValueError, match=r"p must be a finite number >= 1"):
        KNNOutliers(p=p).fit(gaussian)
    with pytest.raises(ValueError, match=r"p must be a finite number >= 1"):
        LOFOutliers(p=p).fit(gaussian)


def test_distance_argument_errors(gaussian):
    with pytest.raises(ValueError, match=r"contamination must be a number in \(0, 0.5\]; got 0.7"):
        KNNOutliers(contamination=0.7).fit(gaussian)
    with pytest.raises(ValueError, match=r"n_neighbors must be an integer >= 1; got 0"):
        KNNOutliers(n_neighbors=0).fit(gaussian)
    with pytest.raises(ValueError, match=r"n_neighbors must be smaller than the number of train"):
        KNNOutliers(n_neighbors=60).fit(gaussian)
    with pytest.raises(ValueError, match=r"unknown outlier action 'clip'; choose 'flag' or 'drop'"):
        LOFOutliers(action="clip").fit(gaussian)
    with pytest.raises(ValueError, match=r"unknown scaling 'minmax'"):
        LOFOutliers(scaling="minmax").fit(gaussian)
    with pytest.raises(SchemaError, match=r"found no numeric column"):
        KNNOutliers().fit(pd.DataFrame({"s": list("abcdefgh")}))
