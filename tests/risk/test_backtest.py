"""Backtests: published reference values, vectorised counts against plain loops, the Basel
table, the Z2 test under H0 and H1, the full backtest on real S&P 500 history."""

from __future__ import annotations

import json
import math

import arch.data.sp500
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskmoe.exceptions import DataError
from riskmoe.risk.backtest import (
    BASEL_PLUS_FACTORS,
    acerbi_szekely_z2,
    backtest,
    christoffersen,
    kupiec_pof,
    kupiec_statistic,
    traffic_light,
    transition_counts,
)
from riskmoe.risk.market import rolling_risk

# --- reference values ----------------------------------------------------------------


def test_kupiec_reference_value():
    # 57 exceptions in 1,043 days at p = 5 %: LR = 0.46147, p-value 0.49694 (issue 4;
    # the MATLAB Risk Management Toolbox VaR backtesting example uses the same figures)
    res = kupiec_pof(57, 1043, 0.05)
    assert round(res.statistic, 5) == 0.46147
    assert round(res.p_value, 5) == 0.49694
    assert res.observed_rate == pytest.approx(57 / 1043)


def _hits_with_counts(n00: int, n01: int, n10: int, n11: int) -> np.ndarray:
    """A 0/1 sequence that starts and ends with 0 and has exactly these transition counts.

    Each 0 -> 1 transition starts a run of hits and each run ends with 1 -> 0, so there are
    ``n01 == n10`` runs; ``n11`` of them last two days. The ``n00 + n01 + 1`` zeros fill the
    ``runs + 1`` gaps around the runs, one per gap and the rest in front.
    """
    runs = n01
    assert n10 == runs and n11 <= runs
    lengths = [2] * n11 + [1] * (runs - n11)
    gaps = [n00 + n01 + 1 - runs] + [1] * runs
    seq: list[int] = [0] * gaps[0]
    for gap, length in zip(gaps[1:], lengths, strict=True):
        seq += [1] * length + [0] * gap
    return np.array(seq, dtype=bool)


def test_christoffersen_reference_values():
    hits = _hits_with_counts(932, 53, 53, 4)
    assert hits.size == 1043 and hits.sum() == 57
    res = christoffersen(hits, 0.05)
    assert (res.n00, res.n01, res.n10, res.n11) == (932, 53, 53, 4)
    assert round(res.lr_ind, 5) == 0.25866
    assert round(res.lr_cc, 5) == 0.72013
    assert res.lr_pof == pytest.approx(kupiec_pof(57, 1043, 0.05).statistic)
    assert res.p_value_ind == pytest.approx(stats.chi2.sf(0.25866, 1), abs=1e-5)
    assert res.p_value_cc == pytest.approx(stats.chi2.sf(0.72013, 2), abs=1e-5)


# --- vectorised against plain loops ---------------------------------------------------


def _loop_counts(hits) -> list[int]:
    counts = [0, 0, 0, 0]
    for prev, curr in zip(hits[:-1], hits[1:], strict=True):
        counts[2 * int(prev) + int(curr)] += 1
    return counts


def _loop_kupiec(x: int, n: int, p: float) -> float:
    def loglik(q: float) -> float:
        out = 0.0
        if n - x:
            out += (n - x) * math.log(1 - q)
        if x:
            out += x * math.log(q)
        return out

    return -2 * (loglik(p) - loglik(x / n))


def _loop_lr_ind(h) -> float:
    n00, n01, n10, n11 = _loop_counts(h)

    def ll(count0: int, count1: int, prob: float) -> float:
        out = 0.0
        if count0:
            out += count0 * math.log(1 - prob)
        if count1:
            out += count1 * math.log(prob)
        return out

    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    return -2 * (ll(n00 + n10, n01 + n11, pi) - ll(n00, n01, pi0) - ll(n10, n11, pi1))


def test_vectorised_counts_and_statistics_match_plain_loops():
    rng = np.random.default_rng(0)
    rates = np.linspace(0.0, 0.2, 25)[:, None]
    hits = rng.uniform(size=(25, 400)) < rates  # includes an all-zero row
    hits[3] = True  # and an all-one row
    counts = transition_counts(hits)
    for row, h in zip(counts, hits, strict=True):
        assert row.tolist() == _loop_counts(h.tolist())
    x = hits.sum(axis=1)
    lr, pv = kupiec_statistic(x, 400, 0.05)
    for i, xi in enumerate(x):
        assert lr[i] == pytest.approx(_loop_kupiec(int(xi), 400, 0.05), abs=1e-9)
        assert pv[i] == pytest.approx(stats.chi2.sf(lr[i], 1))
    for h in hits:
        res = christoffersen(h, 0.05)
        assert res.lr_ind == pytest.approx(max(_loop_lr_ind(h.tolist()), 0.0), abs=1e-9)
        assert res.lr_cc == pytest.approx(res.lr_ind + _loop_kupiec(int(h.sum()), 400, 0.05))


# --- traffic light ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptions", "zone", "cumulative", "plus"),
    [(4, "green", 0.8922, 0.0), (5, "yellow", 0.9588, 0.40), (10, "red", 0.9999, 1.00)],
)
def test_traffic_light_reference_values(exceptions, zone, cumulative, plus):
    res = traffic_light(exceptions, 250, 0.01)
    assert res.zone == zone
    assert round(res.cumulative_probability, 4) == cumulative
    assert res.plus_factor == plus and res.multiplier == 3.0 + plus


def test_traffic_light_reproduces_the_basel_table():
    # Basel Committee (1996), Table 2: zone and plus factor by exceptions in 250 days
    expected = {k: ("green", 0.0) for k in range(5)}
    expected.update(
        {
            5: ("yellow", 0.40),
            6: ("yellow", 0.50),
            7: ("yellow", 0.65),
            8: ("yellow", 0.75),
            9: ("yellow", 0.85),
        }
    )
    expected.update({k: ("red", 1.0) for k in range(10, 15)})
    for k, (zone, plus) in expected.items():
        res = traffic_light(k)
        assert (res.zone, res.plus_factor) == (zone, plus), k
        assert plus == BASEL_PLUS_FACTORS[min(k, 10)]


def test_traffic_light_on_other_lengths_uses_the_cumulative_probability():
    # 2008 had 253 trading days: 5 exceptions is still yellow, 13 red
    assert traffic_light(5, 253).zone == "yellow"
    assert traffic_light(13, 253).zone == "red"
    assert traffic_light(4, 500).zone == "green"


def test_traffic_light_refuses_bad_counts():
    with pytest.raises(ValueError, match=r"exceptions \(300\) cannot exceed observations \(250\)"):
        traffic_light(300)
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\); got 1.5"):
        traffic_light(3, 250, 1.5)
    with pytest.raises(ValueError, match="exceptions must be a non-negative integer; got -1"):
        kupiec_pof(-1, 250, 0.01)


# --- Z2 ---------------------------------------------------------------------------------


def test_z2_accepts_correct_forecasts_and_rejects_understated_es():
    level, n = 0.975, 1_000
    rng = np.random.default_rng(11)
    sigma = np.exp(rng.normal(-4.5, 0.3, n))  # a time-varying volatility
    z_var, es_fac = stats.norm.ppf(level), stats.norm.pdf(stats.norm.ppf(level)) / (1 - level)
    var, es = sigma * z_var, sigma * es_fac
    good = sigma * rng.standard_normal(n)
    res = acerbi_szekely_z2(good, var, es, level, random_state=0)
    assert res.p_value > 0.05 and abs(res.statistic) < 0.5
    # the true volatility is 40 % higher than forecast: VaR and ES are understated
    hot = 1.4 * sigma * rng.standard_normal(n)
    bad = acerbi_szekely_z2(hot, var, es, level, random_state=0)
    assert bad.statistic < bad.critical_value and bad.p_value < 0.01
    assert acerbi_szekely_z2(hot, var, es, level, random_state=0) == bad  # seeded


def test_z2_critical_value_is_near_the_published_one():
    # Acerbi & Szekely (2014): 5 % critical value about -0.70 for T = 250 at 97.5 %
    r = np.zeros(250)
    res = acerbi_szekely_z2(r, np.ones(250), np.ones(250), 0.975, n_simulations=20_000)
    assert -0.85 < res.critical_value < -0.55
    assert res.statistic == 1.0 and res.exceptions == 0


def test_z2_refuses_bad_forecasts():
    with pytest.raises(DataError, match="es_forecasts must be positive losses"):
        acerbi_szekely_z2([0.0, 0.1], [1.0, 1.0], [1.0, 0.0])
    with pytest.raises(DataError, match="equal lengths; got 2, 2, 1"):
        acerbi_szekely_z2([0.0, 0.1], [1.0, 1.0], [1.0])


# --- full backtest -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sp500() -> pd.Series:
    close = arch.data.sp500.load()["Adj Close"]
    return close.pct_change().dropna()


def test_backtest_reproduces_the_2008_anchor_for_historical_and_normal(sp500):
    # ANCHORS.md: 250-day HS ~13 exceptions in 2008 (red), normal-250 ~20 (red)
    for method, expected in (("historical", 13), ("normal", 20)):
        f = rolling_risk(sp500, 0.99, method, window=250)
        res = backtest(sp500, f["var"], f["es"], 0.99, traffic_light_year=2008)
        assert res.traffic_light.exceptions == expected
        assert res.traffic_light.observations == 253
        assert res.traffic_light.zone == "red"
        assert res.traffic_light_period == "2008"
        per_year = {y.year: y.exceptions for y in res.exceptions_per_year}
        assert per_year[2008] == expected
        assert sum(per_year.values()) == res.exceptions
        assert res.kupiec.p_value < 0.01  # too many exceptions over 1999-2018
        assert res.z2 is not None and res.z2.statistic < 0


def test_backtest_result_counts_hits_and_serialises(sp500):
    r = sp500.loc["2015":"2018"]
    f = rolling_risk(r, 0.99, "normal", volatility="ewma", window=250)
    res = backtest(r, f["var"], level=0.99)
    hits = r.loc[f.index] < -f["var"]
    assert res.exceptions == int(hits.sum()) and res.observations == len(f)
    assert res.hits.equals(hits.rename("hit"))
    assert res.traffic_light.observations == 250 and res.traffic_light_period == "last 250 days"
    assert res.z2 is None
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["exception_dates"][0] == hits[hits].index[0].date().isoformat()
    assert payload["christoffersen"]["n11"] == res.christoffersen.n11


def test_backtest_refuses_bad_input():
    idx = pd.bdate_range("2020-01-01", periods=5)
    r = pd.Series([0.01, -0.02, 0.0, 0.01, -0.01], index=idx)
    var = pd.Series([0.02, np.nan, 0.02, 0.02, 0.02], index=idx)
    with pytest.raises(
        DataError, match=r"var_forecasts contain 1 NaN values \(first at 2020-01-02\)"
    ):
        backtest(r, var)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\); got 1.2"):
        backtest(r, var.fillna(0.02), level=1.2)
    late = pd.Series([0.02], index=[pd.Timestamp("2021-01-01")])
    with pytest.raises(DataError, match="var_forecasts has 1 dates without a return"):
        backtest(r, late)
    with pytest.raises(ValueError, match="no forecast days in traffic_light_year=2008"):
        backtest(r, var.fillna(0.02), traffic_light_year=2008)
