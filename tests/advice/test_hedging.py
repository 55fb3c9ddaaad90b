"""Minimum-variance hedge ratio and contract counts against Hull's jet-fuel example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from riskmoe.advice.hedging import (
    hedge_contracts,
    hedged_variance_reduction,
    min_variance_hedge_ratio,
)
from riskmoe.exceptions import DataError

# J. C. Hull, Options, Futures, and Other Derivatives, Example 3.3 / Table 3.x "Data to
# calculate minimum variance hedge ratio when heating oil futures contract is used to hedge
# purchase of jet fuel" (15 months; change in futures price and in jet-fuel price per gallon).
# Transcribed from the table as reproduced at
# https://solutioninn.com/study-help/questions/q4-an-airline-expects-10-purchase-25-million-gallons-of-4764895
# (also https://www.coursehero.com/file/6623153/Ex3-3/). Hull: sigma_F = 0.0313,
# sigma_S = 0.0263, rho = 0.928, h* = 0.78 (0.7777 unrounded), N* = 37 contracts.
FUTURES = [
    0.021,
    0.035,
    -0.046,
    0.001,
    0.044,
    -0.029,
    -0.026,
    -0.029,
    0.048,
    -0.006,
    -0.036,
    -0.011,
    0.019,
    -0.027,
    0.029,
]
SPOT = [
    0.029,
    0.020,
    -0.044,
    0.008,
    0.026,
    -0.019,
    -0.010,
    -0.007,
    0.043,
    0.011,
    -0.036,
    -0.018,
    0.009,
    -0.032,
    0.023,
]


def test_hull_jet_fuel_reference() -> None:
    h = min_variance_hedge_ratio(SPOT, FUTURES)
    assert h.ratio == pytest.approx(0.7777, abs=5e-5)
    assert round(h.ratio, 2) == 0.78
    assert h.correlation == pytest.approx(0.928, abs=5e-4)
    assert h.sigma_spot == pytest.approx(0.0263, abs=5e-5)
    assert h.sigma_futures == pytest.approx(0.0313, abs=5e-5)
    assert h.effectiveness == pytest.approx(h.correlation**2)
    assert h.n == 15
    assert round(hedge_contracts(h.ratio, 2_000_000, 42_000)) == 37


def test_ratio_minimises_the_hedged_variance() -> None:
    s, f = np.asarray(SPOT), np.asarray(FUTURES)
    best = minimize_scalar(lambda x: np.var(s - x * f, ddof=1), bounds=(-5, 5), method="bounded")
    h = min_variance_hedge_ratio(s, f)
    assert h.ratio == pytest.approx(best.x, abs=1e-5)
    assert hedged_variance_reduction(s, f, h.ratio) == pytest.approx(h.effectiveness)
    assert hedged_variance_reduction(s, f, h.ratio + 0.1) < h.effectiveness


def test_tailing_scales_by_value() -> None:
    # N = h* V_A / V_F; equal prices leave the unit count unchanged
    untailed = hedge_contracts(0.7777, 2_000_000, 42_000)
    assert hedge_contracts(0.7777, 2_000_000, 42_000, spot_price=2.0, futures_price=2.0) == (
        pytest.approx(untailed)
    )
    tailed = hedge_contracts(0.7777, 2_000_000, 42_000, spot_price=1.94, futures_price=1.99)
    assert tailed == pytest.approx(0.7777 * 1.94 * 2_000_000 / (1.99 * 42_000))


def test_hedging_errors() -> None:
    with pytest.raises(DataError, match="must be paired; got 3 and 2"):
        min_variance_hedge_ratio([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="futures_changes is constant"):
        min_variance_hedge_ratio([1, 2, 3], [1, 1, 1])
    with pytest.raises(DataError, match="missing or infinite value at position 1"):
        min_variance_hedge_ratio([1, float("nan"), 3], [1, 2, 3])
    with pytest.raises(DataError, match="position_units must be > 0"):
        hedge_contracts(0.8, -5, 42_000)
    with pytest.raises(ValueError, match="needs both spot_price and futures_price"):
        hedge_contracts(0.8, 5, 42_000, spot_price=1.0)
