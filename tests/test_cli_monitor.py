"""`riskmoe monitor`, `riskmoe drift`, `riskmoe alerts`: a replay end to end (no Redis
configured: the in-process backend), drift against the drift room, errors with reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.data.store import Store
from riskmoe.monitoring import psi
from riskmoe.workflow.monitor import SCORES_TABLE

from .monitoring.conftest import german, registered  # noqa: F401  (shared fixtures)
from .monitoring.test_alerts import webhook_server  # noqa: F401


@pytest.fixture()
def home(registered, tmp_path, monkeypatch):  # noqa: F811
    """RISKMOE_HOME holding a copy of the store that registers the small German model."""
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(registered.resolved_store_path, home / "riskmoe.duckdb")
    monkeypatch.setenv("RISKMOE_HOME", str(home))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    monkeypatch.setenv("RISKMOE_USE_SHARED_DATA", "0")
    monkeypatch.delenv("RISKMOE_REDIS_URL", raising=False)
    return home


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_monitor_replay_in_process_then_alerts(home, webhook_server):  # noqa: F811
    url, received = webhook_server
    res = _invoke(
        "monitor", "--replay", "german_credit", "--once", "--limit", "60",
        "--regime", "calm", "--webhook", url, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["backend"] == "in-process" and out["published"] == 60
    assert out["stats"]["scored"] == 60 and out["pending"] == {} and out["dead_letters"] == 0
    with Store(home / "riskmoe.duckdb") as store:
        scores = store.table(SCORES_TABLE)
    assert len(scores) == 60 and scores["event_id"].is_unique
    # the webhook got exactly the alert records the consumer raised
    posted = [a for r in received for a in r["body"]["alerts"]]
    assert len(posted) == out["stats"]["alerts"]

    listed = json.loads(_invoke("alerts", "--json").stdout)
    assert {a["alert_id"] for a in listed} == {a["alert_id"] for a in out["open_alerts"]}
    assert all(a["status"] == "open" for a in listed)
    every = json.loads(_invoke("alerts", "--all", "--json").stdout)
    assert len(every) >= len(listed)

    # replaying the same rows again adds nothing (the text output says what happened)
    again = _invoke(
        "monitor", "--replay", "german_credit", "--once", "--limit", "60", "--regime", "calm"
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "in-process stream" in again.stdout and "scored 60" in again.stdout
    with Store(home / "riskmoe.duckdb") as store:
        assert len(store.table(SCORES_TABLE)) == 60
    table = _invoke("alerts")
    assert table.exit_code == 0 and (
        "alert record(s)" in table.stdout or "no alerts" in table.stdout
    )


def test_monitor_without_redis_or_replay_says_what_to_do(home):
    res = _invoke("monitor", "--once")
    assert res.exit_code == 2
    assert "no Redis configured: set RISKMOE_REDIS_URL" in res.stderr


def test_monitor_without_a_registered_model_names_the_train_command(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("RISKMOE_REDIS_URL", raising=False)
    res = _invoke("monitor", "--replay", "german_credit", "--regime", "calm")
    assert res.exit_code == 2
    assert "riskmoe train --dataset german_credit --out DIR" in res.stderr


def test_drift_against_a_file_matches_the_drift_room(home, german, tmp_path):  # noqa: F811
    X_tr, X_te = german[0], german[1]
    shifted = X_te.copy()
    shifted["credit_amount"] = shifted["credit_amount"] * 3
    path = tmp_path / "current.csv"
    shifted.to_csv(path, index=False)
    reference = tmp_path / "reference.csv"
    X_tr.to_csv(reference, index=False)
    res = _invoke("drift", "--reference", str(reference), "--current", str(path), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    worst = out["features"][0]
    assert worst["feature"] == "credit_amount" and worst["band"] == "significant"
    ref = pd.read_csv(reference)["credit_amount"]
    assert worst["psi"] == pytest.approx(psi(ref, pd.read_csv(path)["credit_amount"]))
    table = _invoke("drift", "--reference", str(reference), "--current", str(path))
    assert table.exit_code == 0 and "credit_amount" in table.stdout


def test_drift_names_an_unknown_source(home):
    res = _invoke("drift", "--reference", "no_such_thing", "--current", "german_credit")
    assert res.exit_code == 2
    assert "'no_such_thing' is neither a file, a stored table nor a dataset" in res.stderr


def test_alerts_on_an_empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "nothing"))
    res = _invoke("alerts", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == []
