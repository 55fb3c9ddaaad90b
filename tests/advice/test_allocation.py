"""Allocation: bounds, the risk-tier cap, infeasible constraints, walk-forward on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.advice.allocation import (
    AllocationConstraints,
    allocate,
    performance,
    volatility_tiers,
    walk_forward,
)
from riskmoe.config import Settings
from riskmoe.exceptions import ConfigError, DataError


def _returns(n_days: int = 300, seed: int = 0) -> pd.DataFrame:
    # synthetic returns: mechanics only (claims about performance come from the benchmark)
    rng = np.random.default_rng(seed)
    vols = np.array([0.006, 0.008, 0.010, 0.012, 0.014, 0.016, 0.025, 0.030, 0.035, 0.040])
    market = rng.normal(0.0003, 0.008, n_days)
    data = market[:, None] * 0.8 + rng.normal(0.0002, 1.0, (n_days, len(vols))) * vols
    return pd.DataFrame(
        data,
        columns=[f"s{i}" for i in range(len(vols))],
        index=pd.bdate_range("2020-01-01", periods=n_days),
    )


@pytest.mark.parametrize("method", ["mean_cvar", "risk_parity"])
def test_weights_sum_to_one_and_respect_bounds_and_tier_cap(method: str) -> None:
    r = _returns()
    tiers = volatility_tiers(r)
    assert (tiers == "high").sum() >= 3
    c = AllocationConstraints(max_weight=0.2, high_cap=0.05)
    a = allocate(r, method, constraints=c)  # type: ignore[arg-type]
    w = a.weights
    assert w.sum() == pytest.approx(1.0, abs=1e-6)
    assert w.min() >= -1e-9
    assert w.max() <= 0.2 + 1e-6
    assert a.tier_weights()["high"] <= 0.05 + 1e-6
    uncapped = allocate(r, method, constraints=AllocationConstraints(0.2, 1.0))  # type: ignore[arg-type]
    assert uncapped.weights.sum() == pytest.approx(1.0, abs=1e-6)


def test_equal_weight_and_tiers() -> None:
    r = _returns()
    a = allocate(r, "equal_weight")
    assert np.allclose(a.weights, 0.1)
    vol = r.std(ddof=1) * np.sqrt(252)
    tiers = volatility_tiers(r, (0.15, 0.25))
    assert all((tiers[c] == "low") == (vol[c] <= 0.15) for c in r.columns)
    assert all((tiers[c] == "high") == (vol[c] > 0.25) for c in r.columns)


def test_infeasible_constraints_are_refused() -> None:
    r = _returns()
    tiers = {c: ("high" if i >= 5 else "low") for i, c in enumerate(r.columns)}
    # 5 low names x 10 % + high names capped at 20 % = 70 % < 100 %
    with pytest.raises(ConfigError, match=r"reach only 70.0% of the budget"):
        allocate(r, "mean_cvar", tiers=tiers, constraints=AllocationConstraints(0.1, 0.2))
    with pytest.raises(ConfigError, match=r"max_weight must be in \(0, 1\]"):
        AllocationConstraints(max_weight=0.0)
    with pytest.raises(DataError, match="missing or infinite"):
        allocate(r.assign(s0=np.nan), "mean_cvar")
    with pytest.raises(ValueError, match="method must be one of"):
        allocate(r, "max_sharpe")  # type: ignore[arg-type]


def test_performance_measures_against_hand_computation() -> None:
    r = pd.Series([0.02, -0.01, -0.03, 0.01, 0.04, -0.02] * 5)
    p = performance(r, cvar_beta=0.8)
    wealth = np.cumprod(1 + r.to_numpy())
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    assert p["max_drawdown"] == pytest.approx(np.max(1 - wealth / peak))
    worst = np.sort(r.to_numpy())[:6]  # 20 % of 30 days
    assert p["cvar_daily"] == pytest.approx(-worst.mean())
    assert p["annual_return"] == pytest.approx(r.mean() * 252)


def test_walk_forward_is_out_of_sample() -> None:
    r = _returns(400)
    res = walk_forward(
        r,
        ("equal_weight", "risk_parity"),
        train_days=200,
        test_days=50,
        constraints=AllocationConstraints(0.3, 0.3),
    )
    assert res.returns.index[0] == r.index[200]
    assert len(res.returns) == 200
    assert len(res.allocations["risk_parity"]) == 4
    # buy-and-hold equal weight over the first test period, by hand
    growth = (1 + r.iloc[200:250]).cumprod().mean(axis=1)
    by_hand = growth / growth.shift(1).fillna(1.0) - 1
    assert np.allclose(res.returns["equal_weight"].iloc[:50], by_hand)
    assert set(res.metrics.index) == {"equal_weight", "risk_parity"}
    with pytest.raises(DataError, match="at least train_days"):
        walk_forward(r.iloc[:100], train_days=90, test_days=20)


@pytest.mark.slow
def test_real_sp500_allocation_respects_constraints(shared_settings: Settings) -> None:
    from riskmoe.data import load_dataset

    prices = load_dataset("sp500_stocks", settings=shared_settings).frame
    wide = prices.pivot(index="date", columns="ticker", values="close").sort_index()
    r = wide.pct_change().iloc[1:].dropna(axis=1).iloc[-252:, :40]
    c = AllocationConstraints(max_weight=0.08, high_cap=0.05)
    for method in ("mean_cvar", "risk_parity"):
        a = allocate(r, method, constraints=c)  # type: ignore[arg-type]
        assert a.weights.sum() == pytest.approx(1.0, abs=1e-6)
        assert a.weights.max() <= 0.08 + 1e-6
        assert a.tier_weights()["high"] <= 0.05 + 1e-6
