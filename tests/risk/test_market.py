"""VaR / ES: closed forms, the historical quantile convention, Student t against scipy, FHS
on arch's S&P 500, horizons, portfolios, rolling forecasts without look-ahead, bad input."""

from __future__ import annotations

import math

import arch.data.sp500
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk.market import (
    METHODS,
    company_market_risk,
    estimate_risk,
    expected_shortfall,
    fit_student_t_dof,
    normal_es,
    normal_var,
    portfolio_returns,
    rolling_risk,
    rolling_var,
    student_t_es,
    student_t_var,
    value_at_risk,
)


@pytest.fixture(scope="module")
def sp500() -> pd.Series:
    """S&P 500 daily simple returns from arch's bundled adjusted closes (1999-2018)."""
    close = arch.data.sp500.load()["Adj Close"]
    return close.pct_change().dropna().rename("sp500")


def _standardised(n: int, sigma: float, seed: int = 0) -> np.ndarray:
    """A sample with mean exactly 0 and sample standard deviation exactly sigma."""
    z = np.random.default_rng(seed).standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return sigma * z


# --- closed forms --------------------------------------------------------------------


def test_gaussian_closed_forms_at_99_percent():
    # Hull, Risk Management and Financial Institutions: 2.326 sigma and 2.665 sigma
    assert normal_var(1.0, 0.99) == pytest.approx(2.3263, abs=5e-5)
    assert normal_es(1.0, 0.99) == pytest.approx(2.6652, abs=5e-5)
    assert normal_var(0.02, 0.99, mu=0.001) == pytest.approx(0.02 * 2.326348 - 0.001, abs=1e-7)


def test_normal_method_on_a_zero_mean_series_with_known_sigma():
    x = _standardised(1_000, 0.015)
    assert value_at_risk(x, 0.99, "normal") == pytest.approx(2.326348 * 0.015, rel=1e-6)
    assert expected_shortfall(x, 0.99, "normal") == pytest.approx(2.665214 * 0.015, rel=1e-6)


# --- historical convention -----------------------------------------------------------


def test_historical_quantile_convention_on_a_hand_made_series():
    # sorted: -0.10 -0.05 -0.03 -0.01 0 0.01 0.02 0.03 0.04 0.05; n = 10, alpha = 0.15
    x = np.array([0.02, -0.05, 0.0, 0.05, -0.10, 0.03, -0.01, 0.04, -0.03, 0.01])
    # linear (type 7): position 1 + 9 * 0.15 = 2.35 -> -0.05 + 0.35 * (-0.03 + 0.05)
    assert value_at_risk(x, 0.85) == pytest.approx(0.043, abs=1e-12)
    assert value_at_risk(x, 0.85) == pytest.approx(-pd.Series(x).quantile(0.15), abs=1e-12)
    # order statistic x(ceil(n alpha)) = x(2)
    assert value_at_risk(x, 0.85, quantile_method="inverted_cdf") == pytest.approx(0.05)
    # Acerbi-Tasche: k = 1.5 -> -(x(1) + 0.5 x(2)) / 1.5
    assert expected_shortfall(x, 0.85) == pytest.approx((0.10 + 0.5 * 0.05) / 1.5, abs=1e-12)


def test_historical_250_days_at_99_percent_uses_the_third_and_fourth_worst():
    x = np.linspace(-0.05, 0.05, 250)
    s = np.sort(x)
    linear = -(s[2] + 0.49 * (s[3] - s[2]))  # position 1 + 249 * 0.01 = 3.49
    assert value_at_risk(x, 0.99) == pytest.approx(linear, abs=1e-12)
    assert value_at_risk(x, 0.99, quantile_method="inverted_cdf") == pytest.approx(-s[2])
    assert expected_shortfall(x, 0.99) == pytest.approx(-(s[0] + s[1] + 0.5 * s[2]) / 2.5)
    assert expected_shortfall(x, 0.99) >= value_at_risk(x, 0.99)


# --- Student t -----------------------------------------------------------------------


@pytest.mark.parametrize(("nu", "level"), [(3.0, 0.99), (5.0, 0.975), (12.0, 0.95)])
def test_student_t_formulas_match_scipy(nu, level):
    sigma, mu = 0.02, 0.0005
    scale = sigma * math.sqrt((nu - 2) / nu)
    alpha = 1 - level
    q = stats.t.ppf(alpha, nu, loc=mu, scale=scale)
    tail_mean = stats.t.expect(lambda v: v, args=(nu,), loc=mu, scale=scale, ub=q, conditional=True)
    assert stats.t.var(nu, scale=scale) == pytest.approx(sigma**2)  # variance matched
    assert student_t_var(sigma, nu, level, mu) == pytest.approx(-q, rel=1e-10)
    assert student_t_es(sigma, nu, level, mu) == pytest.approx(-tail_mean, rel=1e-6)


def test_student_t_dof_is_the_profile_likelihood_maximum():
    x = stats.t.rvs(5, size=20_000, random_state=np.random.default_rng(1)) * 0.01
    nu = fit_student_t_dof(x)
    assert 4.3 < nu < 5.8
    # independent check: the same likelihood on a grid with scipy's location-scale t
    mu, sd = x.mean(), x.std(ddof=1)
    grid = np.linspace(3.0, 9.0, 601)
    loglik = [stats.t.logpdf(x, g, loc=mu, scale=sd * math.sqrt((g - 2) / g)).sum() for g in grid]
    assert nu == pytest.approx(grid[int(np.argmax(loglik))], abs=0.02)


def test_student_t_method_uses_the_sample_moments_and_the_fitted_dof():
    x = stats.t.rvs(4, size=3_000, random_state=np.random.default_rng(2)) * 0.01
    est = estimate_risk(x, 0.99, "student_t")
    nu, mu, sd = est.details["dof"], x.mean(), x.std(ddof=1)
    assert nu == pytest.approx(fit_student_t_dof(x))
    assert est.var == pytest.approx(student_t_var(sd, nu, 0.99, mu))
    assert est.es == pytest.approx(student_t_es(sd, nu, 0.99, mu))
    fixed = estimate_risk(x, 0.99, "student_t", dof=6.0)
    assert fixed.var == pytest.approx(student_t_var(sd, 6.0, 0.99, mu))


# --- FHS and GARCH on real data ------------------------------------------------------


def test_fhs_on_the_sp500_gives_a_sensible_crisis_var(sp500):
    history = sp500.loc[:"2008-10-31"]
    fhs = estimate_risk(history, 0.99, "fhs", window=1000)
    hs = estimate_risk(history, 0.99, "historical", window=1000)
    # October 2008: daily volatility of 3-6 %; the filtered VaR is far above the
    # four-year historical one and below an implausible 20 %
    assert 0.04 < fhs.var < 0.20
    assert fhs.var > 1.5 * hs.var
    assert fhs.es > fhs.var
    assert 0.0 < fhs.details["garch_alpha[1]"] + fhs.details["garch_beta[1]"] < 1.0
    assert fhs.details["garch_scale"] == 100.0  # fractions -> percent for arch


def test_garch_t_reports_its_dof_and_exceeds_garch_normal(sp500):
    history = sp500.loc[:"2008-10-31"]
    t = estimate_risk(history, 0.99, "student_t", volatility="garch", window=1000)
    n = estimate_risk(history, 0.99, "normal", volatility="garch", window=1000)
    assert 3.0 < t.details["dof"] < 30.0
    assert t.var > 0.03 and n.var > 0.03


def test_ewma_uses_riskmetrics_weights():
    x = np.random.default_rng(4).normal(0, 0.01, 300)
    lam = 0.94
    w = (1 - lam) * lam ** np.arange(299, -1, -1)
    sigma = math.sqrt(np.sum(w * x**2) / w.sum())
    est = estimate_risk(x, 0.99, "normal", volatility="ewma")
    assert est.var == pytest.approx(2.326348 * sigma, rel=1e-6)


# --- horizons and portfolios ---------------------------------------------------------


def test_square_root_of_time_scales_var_and_es():
    x = np.random.default_rng(5).normal(0.0, 0.01, 500)
    one = estimate_risk(x, 0.99, "historical")
    ten = estimate_risk(x, 0.99, "historical", horizon=10)
    assert ten.var == pytest.approx(math.sqrt(10) * one.var)
    assert ten.es == pytest.approx(math.sqrt(10) * one.es)


def test_simulated_horizon_of_iid_normal_log_returns_matches_the_closed_form():
    x = _standardised(1_000, 0.01, seed=6)
    est = estimate_risk(
        x,
        0.99,
        "normal",
        horizon=10,
        horizon_method="simulation",
        kind="log",
        n_simulations=200_000,
        random_state=0,
    )
    assert est.var == pytest.approx(math.sqrt(10) * 2.326348 * 0.01, rel=0.02)


def test_simulated_horizons_are_seeded_for_bootstrap_and_fhs(sp500):
    x = sp500.loc["2005":"2007"]
    for method in ("historical", "fhs"):
        a = value_at_risk(
            x,
            0.99,
            method,
            horizon=10,
            horizon_method="simulation",
            n_simulations=5_000,
            random_state=3,
        )
        b = value_at_risk(
            x,
            0.99,
            method,
            horizon=10,
            horizon_method="simulation",
            n_simulations=5_000,
            random_state=3,
        )
        assert a == b
        assert a > value_at_risk(x, 0.99, method)


def test_portfolio_methods_agree_with_the_portfolio_series():
    rng = np.random.default_rng(7)
    cov = np.array([[1.0, 0.6], [0.6, 2.0]]) * 1e-4
    df = pd.DataFrame(rng.multivariate_normal([0, 0], cov, size=2_000), columns=["a", "b"])
    w = {"a": 0.7, "b": 0.3}
    series = portfolio_returns(df, w)
    assert value_at_risk(df, 0.99, weights=w) == value_at_risk(series, 0.99)
    wv = np.array([0.7, 0.3])
    sigma_p = math.sqrt(wv @ np.cov(df.to_numpy(), rowvar=False) @ wv)
    normal = value_at_risk(df, 0.99, "normal", weights=w, zero_mean=True)
    assert normal == pytest.approx(stats.norm.ppf(0.99) * sigma_p, rel=1e-12)
    mc = value_at_risk(
        df, 0.99, "monte_carlo", weights=w, zero_mean=True, n_simulations=400_000, random_state=1
    )
    assert mc == pytest.approx(normal, rel=0.02)
    again = value_at_risk(
        df, 0.99, "monte_carlo", weights=w, zero_mean=True, n_simulations=400_000, random_state=1
    )
    assert again == mc


def test_log_returns_aggregate_through_gross_returns():
    df = pd.DataFrame({"a": np.log([1.10, 0.95]), "b": np.log([1.00, 1.05])})
    out = portfolio_returns(df, [0.5, 0.5], kind="log")
    assert np.exp(out).tolist() == pytest.approx([1.05, 1.0])


# --- rolling forecasts ---------------------------------------------------------------


ROLLING_CASES = [
    ("historical", None),
    ("normal", None),
    ("normal", "ewma"),
    ("student_t", None),
    ("student_t", "garch"),
    ("fhs", None),
    ("monte_carlo", None),
]


@pytest.mark.parametrize(("method", "volatility"), ROLLING_CASES)
def test_rolling_forecasts_have_no_look_ahead(sp500, method, volatility):
    r = sp500.loc["2007-01-01":"2008-09-30"]  # ~440 days, 190 forecasts
    cut = 300  # change every return from position 300 on
    changed = r.copy()
    changed.iloc[cut:] = changed.iloc[cut:] * 3.0 + 0.01
    kw = {
        "window": 250,
        "refit_every": 20,
        "volatility": volatility,
        "random_state": 0,
        "n_simulations": 2_000,
    }
    a = rolling_risk(r, 0.99, method, **kw)
    b = rolling_risk(changed, 0.99, method, **kw)
    assert a.index[0] == r.index[250]
    # the forecast for day t uses returns up to t - 1: days up to the cut are untouched
    upto = r.index[cut]
    pd.testing.assert_frame_equal(a.loc[:upto], b.loc[:upto])
    assert not np.allclose(a.loc[upto:].iloc[1:], b.loc[upto:].iloc[1:])


@pytest.mark.parametrize(
    ("method", "volatility"),
    [
        ("historical", None),
        ("normal", None),
        ("normal", "ewma"),
        ("student_t", None),
        ("fhs", None),
        ("normal", "garch"),
    ],
)
def test_rolling_forecast_equals_the_point_estimate_on_the_preceding_window(
    sp500, method, volatility
):
    r = sp500.loc["2011-01-01":"2012-03-31"]
    f = rolling_risk(r, 0.99, method, window=250, refit_every=1, volatility=volatility)
    for day in (f.index[0], f.index[-1]):
        pos = r.index.get_loc(day)
        est = estimate_risk(r.iloc[pos - 250 : pos], 0.99, method, volatility=volatility)
        assert f.loc[day, "var"] == pytest.approx(est.var, rel=1e-9)
        assert f.loc[day, "es"] == pytest.approx(est.es, rel=1e-9)


def test_rolling_var_is_the_var_column(sp500):
    r = sp500.iloc[:400]
    s = rolling_var(r, 0.99, "normal", window=250)
    assert s.name == "var" and len(s) == 150
    assert s.attrs["method"] == "normal" and s.attrs["window"] == 250


# --- bad input -----------------------------------------------------------------------


def test_empty_returns_are_refused():
    with pytest.raises(DataError, match="returns are empty"):
        value_at_risk([], 0.99)
    with pytest.raises(DataError, match="returns are empty"):
        value_at_risk(pd.Series([], dtype=float), 0.99)


def test_nan_returns_are_refused_with_count_and_first_date():
    idx = pd.bdate_range("2008-01-01", periods=10)
    r = pd.Series(np.linspace(-0.02, 0.02, 10), index=idx)
    r.iloc[[3, 5, 8]] = np.nan
    with pytest.raises(DataError, match=r"^returns contain 3 NaN values \(first at 2008-01-04\)$"):
        value_at_risk(r, 0.99)
    with pytest.raises(DataError, match=r"first at position 1\)"):
        rolling_var(np.array([0.01, np.nan, 0.02]), 0.99, window=2)


@pytest.mark.parametrize("level", [1.2, 0.0, 1.0, -0.5, 99])
def test_level_outside_the_unit_interval_is_refused(level):
    with pytest.raises(ValueError, match=rf"^level must be in \(0, 1\); got {level}\.$"):
        value_at_risk([0.01, -0.02, 0.0], level)


def test_unknown_method_is_refused_with_the_choices():
    msg = "unknown method 'foo'; choose one of historical, normal, student_t, fhs, monte_carlo"
    assert ", ".join(METHODS) in msg
    with pytest.raises(ValueError, match=f"^{msg}$"):
        value_at_risk([0.01, -0.02, 0.0], 0.99, "foo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"^{msg}$"):
        rolling_var([0.01, -0.02, 0.0], 0.99, "foo", window=2)  # type: ignore[arg-type]


def test_other_bad_arguments_get_specific_messages():
    df = pd.DataFrame({"a": [0.01, 0.02, -0.01], "b": [0.0, 0.01, -0.02]})
    with pytest.raises(ValueError, match=r"weights are required for a DataFrame of 2 asset"):
        value_at_risk(df, 0.99)
    with pytest.raises(ValueError, match=r"missing \['b'\], unknown \['c'\]"):
        value_at_risk(df, 0.99, weights={"a": 1.0, "c": 0.0})
    with pytest.raises(ValueError, match="volatility 'ewma' is not available for method 'fhs'"):
        value_at_risk(df["a"], 0.99, "fhs", volatility="ewma")
    with pytest.raises(ValueError, match="window=10 exceeds the 3 observations"):
        value_at_risk(df["a"], 0.99, window=10)
    with pytest.raises(ValueError, match="horizon must be a positive integer; got 0"):
        value_at_risk(df["a"], 0.99, horizon=0)
    with pytest.raises(DataError, match="GARCH\\(1,1\\) needs at least 100 returns; got 3"):
        value_at_risk(df["a"], 0.99, "fhs")
    with pytest.raises(ValueError, match=r"dof must be > 2 \(a finite variance\); got 2"):
        student_t_var(0.01, 2, 0.99)


# --- company market risk -------------------------------------------------------------


def _prices() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    dates = pd.bdate_range("2023-01-02", periods=300)
    frames = []
    for code, vol in (("600000.SH", 0.01), ("000001.SZ", 0.03)):
        close = 10.0 * np.cumprod(1.0 + rng.normal(0.0, vol, dates.size))
        frames.append(pd.DataFrame({"code": code, "date": dates, "close": close}))
    short = pd.DataFrame({"code": "688999.SH", "date": dates[-30:], "close": 5.0})
    return pd.concat([*frames, short], ignore_index=True).sample(frac=1.0, random_state=0)


def test_company_market_risk_matches_direct_computation():
    prices = _prices()
    out = company_market_risk(prices, 0.99, window=250).set_index("code")
    assert list(out.index) == ["000001.SZ", "600000.SH", "688999.SH"]
    one = prices[prices["code"] == "600000.SH"].sort_values("date")
    r = one["close"].pct_change().dropna().iloc[-250:]
    row = out.loc["600000.SH"]
    assert row["as_of"] == one["date"].iloc[-1]
    assert row["n_observations"] == 250 and row["n_missing"] == 0
    assert row["annualised_volatility"] == pytest.approx(r.std() * math.sqrt(252))
    assert row["var_historical"] == pytest.approx(value_at_risk(r, 0.99))
    assert row["es_normal"] == pytest.approx(expected_shortfall(r, 0.99, "normal"))
    wealth = np.cumprod(np.r_[1.0, 1.0 + r.to_numpy()])
    assert row["max_drawdown"] == pytest.approx(np.max(1 - wealth / np.maximum.accumulate(wealth)))
    assert out.loc["000001.SZ", "var_normal"] > 2 * row["var_normal"]
    assert out.loc["688999.SH", "status"] == "insufficient history (29 < 60 returns)"
    assert np.isnan(out.loc["688999.SH", "var_historical"])


def test_company_market_risk_refuses_bad_frames():
    prices = _prices()
    with pytest.raises(SchemaError, match=r"expected columns \['close'\] are missing"):
        company_market_risk(prices.drop(columns="close"))
    with pytest.raises(SchemaError, match="duplicated \\(code, date\\) rows"):
        company_market_risk(pd.concat([prices, prices.iloc[:1]]))
    bad = prices.copy()
    bad.loc[bad.index[0], "close"] = 0.0
    with pytest.raises(DataError, match="close prices must be positive"):
        company_market_risk(bad)
