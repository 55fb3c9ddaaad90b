"""Liquidity ratios: hand-computed values and flags, unavailable reporting (hand-made and on
real FinGLM statements), bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.exceptions import SchemaError
from riskmoe.risk import CN_FINANCIALS_INPUTS, LIQUIDITY_RATIOS, liquidity_ratios

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA}")

RATIOS = [r.name for r in LIQUIDITY_RATIOS]


def _statements() -> pd.DataFrame:
    # X: healthy; Y: stressed; Z: bank-like (no current split); W: zero current liabilities
    return pd.DataFrame({
        "code": ["X", "Y", "Z", "W"],
        "fiscal_year": [2021, 2021, 2021, 2021],
        "current_assets": [300.0, 90.0, np.nan, 50.0],
        "current_liabilities": [150.0, 100.0, np.nan, 0.0],
        "inventories": [60.0, 50.0, 0.0, 10.0],
        "cash": [30.0, 5.0, 40.0, 20.0],
        "short_term_debt": [45.0, 60.0, 10.0, 0.0],
        "accounts_receivable": [150.0, 20.0, 5.0, 10.0],
        "revenue": [1_000.0, 50.0, 100.0, 0.0],
        "operating_cash_flow": [90.0, -10.0, 30.0, 5.0],
    })


def _values(result, code):
    frame = result.frame[result.frame["code"] == code]
    return dict(zip(frame["ratio"], frame["value"], strict=True))


def _flags(result, code):
    frame = result.frame[result.frame["code"] == code]
    return dict(zip(frame["ratio"], frame["breached"], strict=True))


def test_ratios_and_flags_on_a_hand_made_frame():
    result = liquidity_ratios(_statements())
    assert _values(result, "X") == pytest.approx({
        "current_ratio": 2.0,                        # 300 / 150
        "quick_ratio": 1.6,                          # (300 - 60) / 150
        "cash_ratio": 0.2,                           # 30 / 150: on the threshold, no breach
        "short_term_debt_to_current_assets": 0.15,   # 45 / 300
        "receivables_to_current_assets": 0.5,        # 150 / 300: on the threshold
        "receivables_to_revenue": 0.15,              # 150 / 1000
        "ocf_to_current_liabilities": 0.6,           # 90 / 150
    })
    assert not any(_flags(result, "X").values())  # values equal to a threshold do not breach
    assert _values(result, "Y") == pytest.approx({
        "current_ratio": 0.9, "quick_ratio": 0.4, "cash_ratio": 0.05,
        "short_term_debt_to_current_assets": 60 / 90, "receivables_to_current_assets": 20 / 90,
        "receivables_to_revenue": 0.4, "ocf_to_current_liabilities": -0.1,
    })
    assert _flags(result, "Y") == {
        "current_ratio": True, "quick_ratio": True, "cash_ratio": True,
        "short_term_debt_to_current_assets": True, "receivables_to_current_assets": False,
        "receivables_to_revenue": True, "ocf_to_current_liabilities": True,
    }
    assert result.n_rows == 4 and result.n_flagged == 1 and result.unavailable == {}


def test_missing_inputs_and_nonpositive_denominators_are_not_guessed():
    result = liquidity_ratios(_statements())
    z = result.frame[result.frame["code"] == "Z"].set_index("ratio")
    assert z.loc["current_ratio", "status"] == "missing_input"
    assert z.loc["current_ratio", "missing_inputs"] == "current_assets, current_liabilities"
    assert z.loc["receivables_to_revenue", "status"] == "ok"  # needs no current items
    assert z.loc["receivables_to_revenue", "value"] == pytest.approx(0.05)
    assert z["breached"].isna().sum() == 6
    w = result.frame[result.frame["code"] == "W"].set_index("ratio")
    assert w.loc["current_ratio", "status"] == "nonpositive_denominator"
    assert w.loc["receivables_to_revenue", "status"] == "nonpositive_denominator"
    assert np.isnan(w.loc["current_ratio", "value"]) and not w.loc["current_ratio", "available"]
    assert w.loc["receivables_to_current_assets", "value"] == pytest.approx(0.2)
    summary = result.summary.set_index("ratio")
    assert summary.loc["current_ratio", "n_available"] == 2
    assert summary.loc["current_ratio", "n_breached"] == 1
    assert summary.loc["current_ratio", "share_breached"] == pytest.approx(0.5)


def test_ratios_the_source_lacks_are_reported_unavailable():
    inputs = {"inventories": None, "accounts_receivable": None}
    frame = _statements().drop(columns=["short_term_debt"])
    result = liquidity_ratios(frame, inputs=inputs)
    assert result.unavailable == {
        "quick_ratio": ("inventories",),
        "short_term_debt_to_current_assets": ("short_term_debt",),
        "receivables_to_current_assets": ("accounts_receivable",),
        "receivables_to_revenue": ("accounts_receivable",),
    }
    summary = result.summary.set_index("ratio")
    assert summary.loc["quick_ratio", "reason"] == "inventories: not in the source"
    assert summary.loc["short_term_debt_to_current_assets", "reason"] == (
        "short_term_debt: column 'short_term_debt' absent from statements"
    )
    assert not summary.loc["quick_ratio", "in_source"]
    assert summary.loc["quick_ratio", "n_available"] == 0
    quick = result.frame[result.frame["ratio"] == "quick_ratio"]
    assert (quick["status"] == "unavailable").all() and quick["value"].isna().all()
    assert quick["breached"].isna().all()
    # the available ones are unaffected
    assert _values(result, "X")["current_ratio"] == 2.0


def test_thresholds_subsets_wide_form_and_json():
    result = liquidity_ratios(
        _statements(), ratios=["current_ratio", "cash_ratio"],
        thresholds={"current_ratio": 2.5},
    )
    assert result.frame["ratio"].unique().tolist() == ["current_ratio", "cash_ratio"]
    assert _flags(result, "X")["current_ratio"]  # 2.0 < 2.5 now
    wide = result.wide()
    assert wide.loc[("Y", 2021), "cash_ratio"] == pytest.approx(0.05)
    data = json.loads(json.dumps(result.to_dict(rows=True)))
    assert data["n_rows"] == 4 and len(data["rows"]) == 8
    assert data["summary"][0]["threshold"] == 2.5
    renamed = _statements().rename(columns={"current_assets": "ca"})
    mapped = liquidity_ratios(renamed, inputs={"current_assets": "ca"})
    assert _values(mapped, "X")["current_ratio"] == 2.0


def test_bad_input_gives_specific_errors():
    frame = _statements()
    with pytest.raises(SchemaError, match=r"statements has 1 duplicated \['code', 'fiscal_year'\]"):
        liquidity_ratios(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(SchemaError, match=r"statements lacks required columns \['fiscal_year'\]"):
        liquidity_ratios(frame.drop(columns="fiscal_year"))
    with pytest.raises(SchemaError, match=r"statements.cash \(input cash\) must be numeric"):
        liquidity_ratios(frame.assign(cash="lots"))
    with pytest.raises(SchemaError, match=r"unknown liquidity inputs \['stock'\]"):
        liquidity_ratios(frame, inputs={"stock": "inventories"})
    with pytest.raises(SchemaError, match=r"unknown ratio 'gearing'"):
        liquidity_ratios(frame, ratios=["gearing"])
    with pytest.raises(ValueError, match=r"threshold of cash_ratio must be a finite number"):
        liquidity_ratios(frame, thresholds={"cash_ratio": float("nan")})


@needs_data
def test_unavailable_reporting_on_real_finglm_balance_sheets():
    # The FinGLM balance sheet alone (fast: one workbook): four totals, so only the current
    # ratio can be computed; cn_financial_statements_finglm/README.md documents the totals.
    from riskmoe.data.loaders.cn_corporate import BALANCE_SHEET_COLUMNS, read_finglm_statement

    balance = read_finglm_statement(
        DATA / "cn_financial_statements_finglm" / "balance_static.xlsx", BALANCE_SHEET_COLUMNS
    )
    subset = balance[balance["code"].str.startswith("6000")].reset_index(drop=True)
    result = liquidity_ratios(subset, inputs=CN_FINANCIALS_INPUTS)
    assert result.unavailable == {
        "quick_ratio": ("inventories",),
        "cash_ratio": ("cash",),
        "short_term_debt_to_current_assets": ("short_term_debt",),
        "receivables_to_current_assets": ("accounts_receivable",),
        "receivables_to_revenue": ("accounts_receivable", "revenue"),
        "ocf_to_current_liabilities": ("operating_cash_flow",),
    }
    current = result.frame[result.frame["ratio"] == "current_ratio"].reset_index(drop=True)
    expected = subset["total_current_assets"] / subset["total_current_liabilities"]
    ok = current["status"] == "ok"
    assert ok.sum() > 0
    np.testing.assert_allclose(current.loc[ok, "value"], expected[ok])
    # banks and insurers (600000.SH, 600016.SH, ...) have no current/non-current split
    banks = current[current["code"].isin(["600000.SH", "600016.SH"])]
    assert (banks["status"] == "missing_input").all()


@needs_data
@pytest.mark.slow
def test_liquidity_on_every_cn_financials_company_year():
    from riskmoe.data import load_dataset

    settings = Settings(offline=True, data_dir=DATA, use_shared_data=False)
    frame = load_dataset("cn_financials", settings=settings).frame
    result = liquidity_ratios(frame, inputs=CN_FINANCIALS_INPUTS)
    summary = result.summary.set_index("ratio")
    available = summary.index[summary["in_source"]].tolist()
    assert available == ["current_ratio", "cash_ratio", "ocf_to_current_liabilities"]
    assert result.n_rows == 11587
    # counts on the FinGLM FY2019-2021 statements (files pinned by sha256 in the loader)
    assert summary.loc[available, "n_available"].tolist() == [11034, 10962, 10956]
    assert summary.loc[available, "n_breached"].tolist() == [1705, 2871, 8438]
    assert result.n_flagged == 8660
