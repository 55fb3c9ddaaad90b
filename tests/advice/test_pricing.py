"""RAROC, break-even rates and risk-based pricing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmoe.advice.pricing import (
    PricingTerms,
    break_even_rate,
    price_by_grade,
    price_exposures,
    raroc,
)
from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk import ASSET_CLASSES, irb_risk_weight


def test_raroc_reference_example() -> None:
    # Reference (issue 7, a standard RAROC exercise): 3m at 4 %, funding 1.5 % on the full
    # amount, EL 1 %, operating cost 1 %, economic capital 8 % earning 3 %.
    # By hand: 120,000 - 45,000 - 30,000 - 30,000 + 7,200 = 22,200; / 240,000 = 9.25 %.
    r = raroc(3_000_000, 0.04, 0.015, 0.01, 0.01, 0.08, 0.03)
    assert r.revenue == pytest.approx(120_000)
    assert r.economic_capital == pytest.approx(240_000)
    assert r.net_income == pytest.approx(22_200)
    assert r.raroc == pytest.approx(0.0925)
    assert r.to_dict()["raroc"] == pytest.approx(0.0925)


def test_break_even_rate_reference_example() -> None:
    # Same loan, 15 % hurdle: net income must be 36,000 -> revenue 133,800 -> 4.46 %.
    rate = break_even_rate(0.15, 0.015, 0.01, 0.01, 0.08, 0.03)
    assert rate == pytest.approx(0.0446)
    assert raroc(3_000_000, rate, 0.015, 0.01, 0.01, 0.08, 0.03).raroc == pytest.approx(0.15)


@settings(max_examples=60, deadline=None)
@given(
    hurdle=st.floats(0.0, 0.4),
    el=st.floats(0.0, 0.2),
    cap=st.floats(0.01, 0.3),
    tax=st.floats(0.0, 0.5),
    rc=st.floats(0.0, 0.05),
)
def test_break_even_round_trips_through_raroc(
    hurdle: float, el: float, cap: float, tax: float, rc: float
) -> None:
    rate = break_even_rate(hurdle, 0.015, el, 0.01, cap, rc, tax)
    assert raroc(1e6, rate, 0.015, el, 0.01, cap, rc, tax).raroc == pytest.approx(hurdle, abs=1e-9)


def test_raroc_refuses_bad_input() -> None:
    with pytest.raises(DataError, match="exposure must be > 0"):
        raroc(-1.0, 0.04, 0.015, 0.01, 0.01, 0.08)
    with pytest.raises(ValueError, match="capital_ratio must be > 0"):
        raroc(1.0, 0.04, 0.015, 0.01, 0.01, 0.0)
    with pytest.raises(ValueError, match="expected_loss_rate must be <= 1"):
        raroc(1.0, 0.04, 0.015, 1.5, 0.01, 0.08)
    with pytest.raises(ValueError, match="no after-tax income"):
        break_even_rate(0.15, 0.015, 0.01, 0.01, 0.08, tax_rate=1.0)


def test_capital_ratio_is_the_irb_charge() -> None:
    # Basel II Annex 5: corporate, PD 1 %, LGD 45 %, M 2.5 -> RW 92.32 %; capital = 8 % of it.
    terms = PricingTerms(asset_class="corporate")
    priced = price_exposures(pd.DataFrame({"pd": [0.01]}), terms)
    assert priced["capital_ratio"].iloc[0] == pytest.approx(0.08 * 0.9232, abs=1e-5)
    assert priced["capital_ratio"].iloc[0] == pytest.approx(0.08 * irb_risk_weight(0.01))
    # rate = funding + opex + EL + capital x (hurdle - capital return)
    expected = 0.015 + 0.01 + 0.01 * 0.45 + priced["capital_ratio"].iloc[0] * (0.15 - 0.03)
    assert priced["rate"].iloc[0] == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(
    pds=st.lists(st.floats(0.0, 0.999), min_size=2, max_size=30),
    asset_class=st.sampled_from(ASSET_CLASSES),
    hurdle=st.floats(0.0, 0.3),
)
def test_pricing_is_monotonic_in_pd(pds: list[float], asset_class: str, hurdle: float) -> None:
    terms = PricingTerms(asset_class=asset_class, hurdle=hurdle)
    p = np.sort(np.asarray(pds))
    rates = price_exposures(pd.DataFrame({"pd": p}), terms)["rate"].to_numpy()
    assert np.all(np.diff(rates) >= -1e-12)


def test_price_by_grade_orders_grades_and_brackets_rates() -> None:
    rng = np.random.default_rng(0)
    book = pd.DataFrame({"pd": rng.beta(0.6, 12, 400), "ead": rng.uniform(1e3, 1e5, 400)})
    table = price_by_grade(book)
    assert list(table["grade"]) == sorted(table["grade"])
    assert table["n"].sum() == 400
    assert np.all(table["rate"].diff().dropna() > 0)
    assert np.all(
        (table["rate"] >= table["rate_min"] - 1e-12) & (table["rate"] <= table["rate_max"] + 1e-12)
    )
    assert set(table["tier"]) <= {"low", "medium", "high"}


def test_pricing_errors_name_the_problem() -> None:
    with pytest.raises(SchemaError, match="'pd' column"):
        price_exposures(pd.DataFrame({"x": [1]}))
    with pytest.raises(DataError, match=r"exposures.pd must be in \[0, 1\]; got 1.5 at row 1"):
        price_exposures(pd.DataFrame({"pd": [0.1, 1.5]}))
    with pytest.raises(DataError, match="negative exposure"):
        price_by_grade(pd.DataFrame({"pd": [0.1, 0.2], "ead": [10.0, -5.0]}))
    with pytest.raises(ValueError, match="asset_class must be one of"):
        PricingTerms(asset_class="sovereign")
