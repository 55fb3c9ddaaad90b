"""MoERiskRegressor: fits a known nonlinear function, validates input, saves and loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.linear_model import LinearRegression

from riskmoe.exceptions import DataError, NotFittedError
from riskmoe.models import MoERiskRegressor

STRIKE = 100.0


def _black_scholes_call(spot: np.ndarray, rate: np.ndarray, t: float = 0.5, vol: float = 0.3):
    # closed form (Hull, Options, Futures and Other Derivatives, eq. 15.20), written out
    # here independently of riskmoe.risk.portfolio
    d1 = (np.log(spot / STRIKE) + (rate + vol**2 / 2) * t) / (vol * np.sqrt(t))
    d2 = d1 - vol * np.sqrt(t)
    return spot * norm.cdf(d1) - STRIKE * np.exp(-rate * t) * norm.cdf(d2)


def _payoff_rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"spot": rng.uniform(50.0, 150.0, n), "rate": rng.uniform(0.0, 0.08, n)})
    return X, _black_scholes_call(X["spot"].to_numpy(), X["rate"].to_numpy())


@pytest.fixture(scope="module")
def fitted() -> MoERiskRegressor:
    X, y = _payoff_rows(1_200, seed=0)
    params = dict(n_experts=3, top_k=2, expert_hidden=32, d_embedding=8, batch_size=128)
    return MoERiskRegressor(**params, learning_rate=1e-2, max_epochs=60, random_state=0).fit(X, y)


@pytest.mark.slow  # shares the fitted fixture (about 10 s of CPU)
def test_fits_a_call_price_far_better_than_a_linear_model(fitted: MoERiskRegressor):
    X, y = _payoff_rows(2_000, seed=1)
    inside = (X["spot"].between(55, 145)).to_numpy()  # away from the sampled edges
    rmse = float(np.sqrt(np.mean((fitted.predict(X)[inside] - y[inside]) ** 2)))
    linear = LinearRegression().fit(X, y)
    linear_rmse = float(np.sqrt(np.mean((linear.predict(X)[inside] - y[inside]) ** 2)))
    # the price's curvature (convexity near the strike) is what a linear fit misses: the
    # MoE must capture it -- within 2 % of the price's spread, and 5x below the linear error
    assert rmse < 0.02 * float(y.std())
    assert rmse < linear_rmse / 5
    assert fitted.score(X, y) > 0.999
    assert fitted.expert_usage_.sum() == pytest.approx(2.0)
    assert len(fitted.expert_names_) == 3


@pytest.mark.slow  # shares the fitted fixture (about 10 s of CPU)
def test_save_load_round_trip_predicts_identically(fitted: MoERiskRegressor, tmp_path: Path):
    X, _ = _payoff_rows(50, seed=2)
    folder = fitted.save(tmp_path / "reg")
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "weights.safetensors",
        "preprocess.json",
        "manifest.json",
    }
    loaded = MoERiskRegressor.load(folder)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.target_mean_ == fitted.target_mean_
    assert list(loaded.feature_names_in_) == ["spot", "rate"]


@pytest.mark.slow  # shares the fitted fixture (about 10 s of CPU)
def test_load_refuses_a_tampered_folder(fitted: MoERiskRegressor, tmp_path: Path):
    folder = fitted.save(tmp_path / "reg")
    config = json.loads((folder / "config.json").read_text())
    config["fitted"]["target_mean"] = 0.0
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match="config.json failed its integrity check"):
        MoERiskRegressor.load(folder)
    with pytest.raises(DataError, match="does not exist"):
        MoERiskRegressor.load(tmp_path / "nowhere")


@pytest.mark.slow  # shares the fitted fixture (about 10 s of CPU)
def test_sparse_and_dense_dispatch_agree(fitted: MoERiskRegressor):
    X, _ = _payoff_rows(64, seed=3)
    sparse = fitted.predict(X)
    fitted.set_params(dispatch="dense")
    try:
        np.testing.assert_allclose(fitted.predict(X), sparse, rtol=1e-5, atol=1e-4)
    finally:
        fitted.set_params(dispatch="sparse")


def test_bad_input_gets_specific_errors():
    X = np.zeros((10, 2))
    with pytest.raises(NotFittedError, match="not fitted"):
        MoERiskRegressor().predict(X)
    with pytest.raises(
        DataError, match=r"y contains 1 NaN or infinite value\(s\) \(first at position 3\)"
    ):
        MoERiskRegressor(max_epochs=1).fit(X, np.r_[np.zeros(3), np.nan, np.zeros(6)])
    with pytest.raises(ValueError, match="y must be numeric for a regressor"):
        MoERiskRegressor(max_epochs=1).fit(X, np.array(["a"] * 10))
    with pytest.raises(ValueError, match="X has 10 rows but y has 9 values"):
        MoERiskRegressor(max_epochs=1).fit(X, np.zeros(9))
    with pytest.raises(ValueError, match="n_experts must be >= top_k; got n_experts=1, top_k=2"):
        MoERiskRegressor(n_experts=1).fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="random_state must be None or an integer >= 0"):
        MoERiskRegressor(random_state=-1).fit(X, np.zeros(10))
