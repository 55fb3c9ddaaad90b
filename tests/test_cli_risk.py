"""`riskmoe risk ...`: numbers checked against the risk room and published references."""

from __future__ import annotations

import json
import re
from pathlib import Path

import arch.data.sp500
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.data.store import Store
from riskmoe.risk import value_at_risk

from .conftest import SHARED_DATA


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    return tmp_path / "home"


def _json(*args: str):
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_var_matches_the_risk_room_on_the_last_window(home):
    out = _json("risk", "var", "sp500", "--method", "normal", "--window", "250")
    r = arch.data.sp500.load()["Adj Close"].pct_change().dropna()
    assert out["var"] == pytest.approx(value_at_risk(r.iloc[-250:], 0.99, "normal"))
    assert out["es"] > out["var"] > 0
    assert out["last_date"] == "2018-12-31"


def test_backtest_reproduces_the_2008_historical_simulation_result(home):
    # ANCHORS.md: 250-day historical simulation, 1-day 99% VaR, 2008 -> ~13 exceptions, red
    out = _json("risk", "backtest", "sp500", "--method", "historical", "--year", "2008")
    assert out["traffic_light"]["exceptions"] == 13
    assert out["traffic_light"]["zone"] == "red"
    assert out["traffic_light_period"] == "2008"


def test_irb_matches_basel_annex_5(home):
    # Basel II Annex 5: corporate, LGD 45%, M 2.5, PD 1.00% -> risk weight 92.32%
    out = _json("risk", "irb", "--pd", "0.01")
    assert out["risk_weight"] == pytest.approx(0.9232, abs=5e-5)
    assert out["capital"] == pytest.approx(out["risk_weight"] * 0.08)


def test_grade_pds(home):
    out = _json("risk", "grade", "--pd", "0.0003", "--pd", "0.5")
    assert [(r["grade"], r["tier"]) for r in out] == [(1, "low"), (10, "high")]


def test_regrading_keeps_history_in_the_store(home, tmp_path):
    first = tmp_path / "q1.csv"
    pd.DataFrame(
        {"entity": ["600519.SH", "000001.SZ"], "as_of": ["2024-03-31"] * 2, "pd": [0.002, 0.02]}
    ).to_csv(first, index=False)
    second = tmp_path / "q2.csv"
    pd.DataFrame(
        {"entity": ["600519.SH", "000001.SZ"], "as_of": ["2024-06-30"] * 2, "pd": [0.002, 0.2]}
    ).to_csv(second, index=False)
    a = _json("risk", "grade", "--file", str(first))
    b = _json("risk", "grade", "--file", str(second))
    assert a["changes"] == []
    assert [(c["entity"], c["direction"]) for c in b["changes"]] == [("000001.SZ", "downgrade")]
    with Store(home / "riskmoe.duckdb", read_only=True) as s:
        history = s.table("grade_history")
        assert len(history) == 4
        assert [v.version for v in s.versions("grade_history")] == [1, 2]
        assert len(s.table("grade_changes")) == 1


def test_a_bad_grading_file_changes_nothing(home, tmp_path):
    ok = tmp_path / "ok.csv"
    pd.DataFrame({"entity": ["a"], "as_of": ["2024-01-01"], "pd": [0.01]}).to_csv(ok, index=False)
    _json("risk", "grade", "--file", str(ok))
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"entity": ["a"], "as_of": ["2024-06-01"], "pd": [1.7]}).to_csv(bad, index=False)
    res = CliRunner().invoke(app, ["risk", "grade", "--file", str(bad)])
    assert res.exit_code == 2
    assert "pd" in res.stderr and "[0, 1]" in res.stderr
    with Store(home / "riskmoe.duckdb", read_only=True) as s:
        assert [v.version for v in s.versions("grade_history")] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["risk", "var", "nowhere"], "unknown returns source 'nowhere'"),
        (["risk", "var", "sp500", "--level", "1.5"], r"level must be in \(0, 1\); got 1.5"),
        (["risk", "var", "sp500", "--method", "magic"], "unknown method 'magic'; choose one of"),
        pytest.param(
            ["risk", "var", "sp500:ZZZZ"],
            "no S&P 500 ticker 'ZZZZ'",
            marks=pytest.mark.skipif(SHARED_DATA is None, reason="needs ../shared/data"),
        ),
        (["risk", "backtest", "sp500", "--year", "1990"], "has no returns in 1990"),
        (["risk", "irb", "--pd", "0.01", "--asset-class", "sovereign"], "unknown asset class"),
        (["risk", "irb", "--pd", "1.5"], r"\[0, 1\]"),
        (["risk", "grade"], "give either --pd"),
        (["risk", "grade", "--file", "missing.csv"], "file not found"),
    ],
)
def test_bad_risk_input_exits_2(home, args, message):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert re.search(message, " ".join(res.stderr.split())), res.stderr
