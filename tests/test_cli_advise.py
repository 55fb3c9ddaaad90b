"""`riskmoe advise ...`: the reference numbers, JSON output, stored alerts, specific errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.monitoring import ALERT_TABLE

from .advice.conftest import store_portfolio
from .conftest import SHARED_DATA


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    return tmp_path / "home"


def _json(*args: str):
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _fails(*args: str) -> str:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 2, res.output
    return res.stderr


def test_raroc_reference(home: Path) -> None:
    # issue 7 reference: RAROC 9.25 %, break-even 4.46 % at a 15 % hurdle
    out = _json(
        "advise",
        "raroc",
        "--exposure",
        "3000000",
        "--rate",
        "0.04",
        "--el-rate",
        "0.01",
        "--capital-ratio",
        "0.08",
        "--funding-rate",
        "0.015",
        "--opex-rate",
        "0.01",
        "--capital-return-rate",
        "0.03",
        "--hurdle",
        "0.15",
    )
    assert out["raroc"] == pytest.approx(0.0925)
    assert out["break_even_rate"] == pytest.approx(0.0446)
    text = (
        CliRunner()
        .invoke(
            app,
            [
                "advise",
                "raroc",
                "--exposure",
                "3000000",
                "--rate",
                "0.04",
                "--el-rate",
                "0.01",
                "--capital-ratio",
                "0.08",
                "--capital-return-rate",
                "0.03",
            ],
        )
        .stdout
    )
    assert "RAROC 9.25%" in text and "4.46%" in text


def test_price_and_entity(home: Path) -> None:
    out = _json("advise", "price", "0.001", "0.01", "0.05")
    rates = [r["rate"] for r in out["rows"]]
    assert rates == sorted(rates) and out["terms"]["hurdle"] == 0.15
    recs = _json("advise", "entity", "--pd", "0.2", "--rate", "0.05", "--name", "ACME")
    assert [r["kind"] for r in recs] == ["pricing", "review"]
    assert recs[0]["action"].startswith("raise the rate for ACME by ")


def test_portfolio_advice_writes_alerts(home: Path) -> None:
    settings = Settings(home=home, use_shared_data=False, offline=True)
    store_portfolio(settings)
    out = _json("advise", "portfolio", "german_credit", "--rate", "0.04")
    assert out["limits"]["n_breaches"] >= 1
    assert out["alerts_added"] >= out["limits"]["n_breaches"]
    assert out["recommendations"][0]["kind"] == "limit"
    with Store(settings.resolved_store_path) as store:
        assert len(store.table(ALERT_TABLE)) == out["alerts_added"]
    table = _json("advise", "price", "--dataset", "german_credit")
    assert sum(r["n"] for r in table["rows"]) == 300


def test_specific_errors(home: Path, tmp_path: Path) -> None:
    assert "exposure must be > 0" in _fails(
        "advise",
        "raroc",
        "--exposure",
        "-5",
        "--rate",
        "0.04",
        "--el-rate",
        "0.01",
        "--capital-ratio",
        "0.08",
    )
    assert "run `riskmoe run --dataset german_credit` first" in _fails(
        "advise", "portfolio", "german_credit"
    )
    settings = Settings(home=home, use_shared_data=False, offline=True)
    store_portfolio(settings)
    policy = tmp_path / "limits.json"
    policy.write_text(
        json.dumps({"limits": [{"kind": "concentration", "limit": 0.05, "by": "segment"}]})
    )
    assert "infeasible limits" in _fails(
        "advise", "portfolio", "german_credit", "--limits", str(policy)
    )
    assert "pd must be in [0, 1]" in _fails("advise", "price", "1.5")


@pytest.mark.skipif(SHARED_DATA is None, reason="../shared/data is not beside the project")
@pytest.mark.slow
def test_hedge_and_allocate_on_real_sp500(home: Path) -> None:
    out = _json("advise", "hedge", "JPM", "BAC", "C", "WFC")
    h = out["hedge"]
    assert 0.5 < h["ratio"] < 2.0 and 0.5 < h["correlation"] < 1.0
    assert 0 < out["variance_reduction_out_of_sample"] < 1
    rec = out["recommendations"][0]
    assert rec["kind"] == "hedge" and rec["drivers"]["contracts"] == round(out["contracts"])
    tickers = ["AAPL", "MSFT", "JPM", "XOM", "JNJ", "PG", "NVDA", "AMD", "KO", "PFE", "T", "WMT"]
    alloc = _json("advise", "allocate", *tickers, "--max-weight", "0.2", "--high-cap", "0.1")
    w = alloc["weights"]
    assert sum(w.values()) == pytest.approx(1.0, abs=1e-6)
    assert max(w.values()) <= 0.2 + 1e-6
    assert alloc["tier_weights"]["high"] <= 0.1 + 1e-6
    assert "infeasible allocation constraints" in _fails(
        "advise", "allocate", "AAPL", "MSFT", "--max-weight", "0.3"
    )
