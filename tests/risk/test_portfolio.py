"""Nonlinear book: textbook prices, parity, sensitivities against finite differences,
delta-normal = full revaluation for a linear book, scenarios, the surrogate hook."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import GradientBoostingRegressor

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk.portfolio import (
    Book,
    EquityOption,
    FixedRateBond,
    FXPosition,
    MarketState,
    Scenarios,
    StockPosition,
    binomial_option_price,
    black_scholes_delta,
    black_scholes_price,
    black_scholes_rho,
    bond_duration,
    bond_price,
    delta_normal_var,
    full_revaluation_var,
    generate_scenarios,
    surrogate_var,
)

STATE = MarketState(
    stocks={"SPX": 100.0, "ASML": 600.0}, rates={"USD": 0.04, "EUR": 0.03}, fx={"EUR": 1.10}
)


def _history(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cov = np.array(
        [[1.0, 0.5, 0.0, 0.1], [0.5, 1.5, 0.0, 0.2], [0, 0, 0.0025, 0], [0.1, 0.2, 0, 0.4]]
    )
    moves = rng.multivariate_normal(np.zeros(4), cov * 1e-4, size=n)
    return pd.DataFrame(
        {
            "stock:SPX": 100.0 * np.cumprod(1 + moves[:, 0]),
            "stock:ASML": 600.0 * np.cumprod(1 + moves[:, 1]),
            "rate:USD": 0.04 + np.cumsum(moves[:, 2]),
            "rate:EUR": 0.03 + np.cumsum(moves[:, 2]) * 0.5,
            "fx:EUR": 1.10 * np.cumprod(1 + moves[:, 3]),
        }
    )


# --- pricing formulas --------------------------------------------------------------------


def test_black_scholes_textbook_values():
    # Hull, Options, Futures, and Other Derivatives, example 15.6
    assert round(float(black_scholes_price(42, 40, 0.10, 0.20, 0.5, "call")), 2) == 4.76
    assert round(float(black_scholes_price(42, 40, 0.10, 0.20, 0.5, "put")), 2) == 0.81


def test_put_call_parity_holds_across_parameters():
    rng = np.random.default_rng(1)
    s, k = rng.uniform(50, 150, 200), rng.uniform(50, 150, 200)
    r, sig = rng.uniform(0.0, 0.1, 200), rng.uniform(0.05, 0.8, 200)
    t, q = rng.uniform(0.05, 3.0, 200), rng.uniform(0.0, 0.05, 200)
    c = black_scholes_price(s, k, r, sig, t, "call", q)
    p = black_scholes_price(s, k, r, sig, t, "put", q)
    np.testing.assert_allclose(c - p, s * np.exp(-q * t) - k * np.exp(-r * t), atol=1e-10)
    dc = black_scholes_delta(s, k, r, sig, t, "call", q)
    dp = black_scholes_delta(s, k, r, sig, t, "put", q)
    np.testing.assert_allclose(dc - dp, np.exp(-q * t), atol=1e-12)


def test_black_scholes_greeks_match_finite_differences():
    args = (42.0, 40.0, 0.10, 0.20, 0.5)
    for kind in ("call", "put"):
        h = 1e-4
        up = black_scholes_price(42.0 + h, *args[1:], kind)
        down = black_scholes_price(42.0 - h, *args[1:], kind)
        assert black_scholes_delta(*args, kind) == pytest.approx((up - down) / (2 * h), rel=1e-7)
        up = black_scholes_price(42.0, 40.0, 0.10 + h, 0.20, 0.5, kind)
        down = black_scholes_price(42.0, 40.0, 0.10 - h, 0.20, 0.5, kind)
        assert black_scholes_rho(*args, kind) == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_binomial_tree_textbook_value_and_convergence():
    # Hull, ch. 21: American put S=K=50, r=10 %, sigma=40 %, T=5 months, 5 steps -> 4.49
    assert round(float(binomial_option_price(50, 50, 0.1, 0.4, 5 / 12, steps=5)[0]), 2) == 4.49
    european = binomial_option_price(50, 50, 0.1, 0.4, 5 / 12, american=False, steps=500)[0]
    assert european == pytest.approx(
        float(black_scholes_price(50, 50, 0.1, 0.4, 5 / 12, "put")), abs=0.01
    )
    # no early exercise premium for a call without dividends
    call = binomial_option_price(50, 50, 0.1, 0.4, 5 / 12, "call", steps=500)[0]
    assert call == pytest.approx(float(black_scholes_price(50, 50, 0.1, 0.4, 5 / 12)), abs=0.01)


def test_bond_textbook_price_and_duration():
    # Hull, Risk Management and Financial Institutions, table 9.3: 94.213 and 2.653 years
    assert round(float(bond_price(100, 0.10, 3.0, 0.12, frequency=2)), 3) == 94.213
    assert round(bond_duration(100, 0.10, 3.0, 0.12, frequency=2), 3) == 2.653
    h = 1e-6
    slope = (bond_price(100, 0.1, 3.0, 0.12 + h, 2) - bond_price(100, 0.1, 3.0, 0.12 - h, 2)) / (
        2 * h
    )
    assert slope == pytest.approx(-2.653 * 94.213, rel=1e-3)


# --- the book ----------------------------------------------------------------------------


def _nonlinear_book() -> Book:
    return Book(
        (
            EquityOption("SPX", 100.0, 0.25, 0.2, "call", quantity=-50),
            EquityOption("SPX", 95.0, 0.25, 0.2, "put", quantity=-80),
            EquityOption("ASML", 620.0, 0.5, 0.35, "call", quantity=10, rate="EUR", currency="EUR"),
            FixedRateBond(1_000.0, 0.05, 7.0, frequency=2, quantity=20),
            FXPosition("EUR", 5_000.0),
        ),
        STATE,
    )


def test_book_factors_and_sensitivities_match_finite_differences():
    book = _nonlinear_book()
    assert book.factor_names == ("stock:SPX", "stock:ASML", "rate:USD", "rate:EUR", "fx:EUR")
    g = book.sensitivities()
    base = book.base_levels()
    relative = np.array([not f.startswith("rate:") for f in book.factor_names])
    for i, rel in enumerate(relative):
        h = 1e-5
        up, down = base.copy(), base.copy()
        up[i] = base[i] * (1 + h) if rel else base[i] + h
        down[i] = base[i] * (1 - h) if rel else base[i] - h
        fd = (book.value(up)[0] - book.value(down)[0]) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-6), book.factor_names[i]
    # the FX exposure is the domestic value of everything held in EUR
    eur = [i for i in book.instruments if getattr(i, "currency", None) == "EUR"]
    eur_value = sum(float(Book((i,), STATE).value()[0]) for i in eur)
    assert g[-1] == pytest.approx(eur_value)


def test_american_option_sensitivities_match_finite_differences():
    opt = EquityOption("SPX", 100.0, 0.5, 0.3, "put", quantity=1, exercise="american", steps=300)
    book = Book((opt,), STATE)
    g = book.sensitivities()
    base = book.base_levels()
    h = 1e-3
    up, down = base.copy(), base.copy()
    up[0], down[0] = base[0] * (1 + h), base[0] * (1 - h)
    fd = (book.value(up)[0] - book.value(down)[0]) / (2 * h)
    assert g[0] == pytest.approx(fd, rel=1e-3)
    assert g[0] < 0  # a long put


def test_delta_normal_equals_full_revaluation_for_a_linear_book():
    book = Book(
        (StockPosition("SPX", 30), StockPosition("ASML", -4), FXPosition("EUR", 2_000.0)), STATE
    )
    scenarios = generate_scenarios(
        book, _history(), "monte_carlo", n_scenarios=200_000, random_state=0
    )
    full_pnl = book.pnl(scenarios)
    # linear in the (relative) shocks: first order is exact, scenario by scenario
    np.testing.assert_allclose(book.delta_pnl(scenarios), full_pnl, rtol=1e-10, atol=1e-9)
    dn = delta_normal_var(book, scenarios, 0.99)
    z = stats.norm.ppf(0.99)
    assert dn.var == pytest.approx(z * full_pnl.std(ddof=1) - full_pnl.mean(), rel=1e-9)
    fr = full_revaluation_var(book, scenarios, 0.99)
    assert fr.var == pytest.approx(dn.var, rel=0.02)
    assert fr.es == pytest.approx(dn.es, rel=0.02)


def test_short_gamma_book_has_more_full_revaluation_risk_than_delta_normal():
    book = Book(
        (
            EquityOption("SPX", 100.0, 0.1, 0.25, "call", quantity=-100),
            EquityOption("SPX", 100.0, 0.1, 0.25, "put", quantity=-100),
        ),
        STATE,
    )
    scenarios = generate_scenarios(
        book, _history(), "monte_carlo", horizon=10, n_scenarios=50_000, random_state=1
    )
    assert abs(book.sensitivities()[0]) < 0.1 * 100 * 100  # a near delta-neutral straddle
    assert full_revaluation_var(book, scenarios).var > 3 * delta_normal_var(book, scenarios).var


# --- scenarios ---------------------------------------------------------------------------


def test_historical_scenarios_use_relative_and_absolute_changes():
    book = Book(
        (StockPosition("SPX"), FixedRateBond(100.0, 0.05, 5.0), FXPosition("EUR", 1.0)), STATE
    )
    history = pd.DataFrame(
        {
            "stock:SPX": [100.0, 110.0, 99.0],
            "rate:USD": [0.04, 0.05, 0.045],
            "fx:EUR": [1.0, 1.0, 1.2],
        }
    )
    sc = generate_scenarios(book, history)
    np.testing.assert_allclose(sc.shocks, [[0.1, 0.01, 0.0], [-0.1, -0.005, 0.2]])
    levels = sc.levels(book)
    np.testing.assert_allclose(levels[0], [110.0, 0.05, 1.1])  # applied to today's levels
    two_day = generate_scenarios(book, history, horizon=2)
    np.testing.assert_allclose(two_day.shocks, [[-0.01, 0.005, 0.2]])


def test_monte_carlo_scenarios_reproduce_the_historical_covariance():
    book = _nonlinear_book()
    hist = generate_scenarios(book, _history(2_000))
    mc = generate_scenarios(
        book, _history(2_000), "monte_carlo", n_scenarios=100_000, random_state=2
    )
    np.testing.assert_allclose(mc.shocks.var(axis=0), hist.shocks.var(axis=0), rtol=0.03)
    np.testing.assert_allclose(
        np.corrcoef(mc.shocks, rowvar=False), np.corrcoef(hist.shocks, rowvar=False), atol=0.02
    )
    again = generate_scenarios(
        book, _history(2_000), "monte_carlo", n_scenarios=100_000, random_state=2
    )
    np.testing.assert_array_equal(again.shocks, mc.shocks)


def test_scenarios_refuse_bad_history():
    book = _nonlinear_book()
    with pytest.raises(SchemaError, match=r"expected factor columns \['fx:EUR'\] are missing"):
        generate_scenarios(book, _history().drop(columns="fx:EUR"))
    bad = _history()
    bad.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match="history contains 1 NaN values"):
        generate_scenarios(book, bad)
    with pytest.raises(ValueError, match="unknown method 'bootstrap'; choose one of historical"):
        generate_scenarios(book, _history(), "bootstrap")  # type: ignore[arg-type]


def test_book_refuses_missing_factors_and_bad_levels():
    with pytest.raises(ValueError, match="the market state has no factor 'stock:AAPL'"):
        Book((StockPosition("AAPL"),), STATE)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\); got 1.2"):
        full_revaluation_var(
            _nonlinear_book(), generate_scenarios(_nonlinear_book(), _history()), 1.2
        )
    with pytest.raises(ValueError, match="kind must be 'call' or 'put'; got 'straddle'"):
        EquityOption("SPX", 100.0, 0.5, 0.2, "straddle")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="scenarios are empty"):
        Scenarios(("stock:SPX",), np.empty((0, 1)))


# --- surrogate hook ------------------------------------------------------------------------


def test_surrogate_var_with_gradient_boosting():
    book = _nonlinear_book()
    history = _history()
    evaluation = generate_scenarios(
        book, history, "monte_carlo", horizon=10, n_scenarios=20_000, random_state=3
    )
    # train on wider (Student t) scenarios so the tail is covered
    train = generate_scenarios(
        book, history, "monte_carlo", horizon=10, n_scenarios=3_000, dof=4.0, random_state=4
    )
    model = GradientBoostingRegressor(n_estimators=200, max_depth=3, random_state=0)
    res = surrogate_var(book, evaluation, train, model, level=0.99)
    full = full_revaluation_var(book, evaluation, 0.99)
    assert res.full_var == pytest.approx(full.var)
    assert abs(res.var_relative_error) < 0.10
    assert res.var_error == pytest.approx(res.surrogate_var - res.full_var)
    assert res.n_fit == 3_000 and res.n_scenarios == 20_000
    assert res.tail_rmse >= 0 and res.pnl_rmse >= 0
    assert set(res.to_dict()) >= {"surrogate_var", "full_var", "speedup", "var_relative_error"}


def test_surrogate_var_refuses_a_model_with_wrong_predictions():
    class Broken:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(3)

    book = _nonlinear_book()
    sc = generate_scenarios(book, _history())
    with pytest.raises(ValueError, match="model.predict returned 3 values for 599 scenarios"):
        surrogate_var(book, sc, sc, Broken())
    assert math.isfinite(full_revaluation_var(book, sc).var)
