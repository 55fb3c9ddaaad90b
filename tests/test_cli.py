"""The command line: every command, its --json output, and exit code 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.data.store import Store

from .conftest import SHARED_DATA


@pytest.fixture()
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """An isolated RISKMOE_HOME; ../shared/data still visible unless a test hides it."""
    home = tmp_path / "home"
    monkeypatch.setenv("RISKMOE_HOME", str(home))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    return {"RISKMOE_HOME": str(home), "RISKMOE_OFFLINE": "1"}


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_data_list_json_without_verify(env):
    res = _invoke("data", "list", "--json", "--no-verify")
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    names = {r["name"] for r in records}
    assert "german_credit" in names
    assert all({"name", "kind", "documented_rows", "license"} <= set(r) for r in records)


def test_data_show_json(env):
    res = _invoke("data", "show", "german_credit", "--json", "--rows", "2")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["target"] == "bad"
    assert len(payload["head"]) == 2
    assert payload["meta"]["n_rows"] == 1000


def test_ingest_file_then_same_content_is_unchanged(env, tmp_path):
    path = tmp_path / "loans.csv"
    pd.DataFrame({"income": [1.0, 2.0, 3.0], "bad": [0, 1, 0]}).to_csv(path, index=False)
    first = _invoke("data", "ingest", str(path), "--target", "bad", "--json")
    assert first.exit_code == 0, first.output
    again = _invoke("data", "ingest", str(path), "--target", "bad", "--json")
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert (a["name"], a["version"], a["created"]) == ("loans", 1, True)
    assert (b["version"], b["created"]) == (1, False)
    with Store(Path(env["RISKMOE_HOME"]) / "riskmoe.duckdb", read_only=True) as s:
        assert len(s.table("loans")) == 3


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "ingest", "{tmp}/missing.csv"], "file not found"),
        (["data", "ingest", "{tmp}/wrong.parquet"], "not a readable Parquet file"),
        (["data", "ingest", "no_such_dataset"], "unknown dataset 'no_such_dataset'"),
        (
            ["data", "ingest", "{tmp}/ok.csv", "--target", "default"],
            "target column 'default' not found",
        ),
        (["data", "ingest", "{tmp}/textnum.csv"], "column 'income' is numeric in"),
        (["data", "ingest", "{tmp}/emptycol.csv"], r"\['notes'\] are entirely empty"),
        (["data", "ingest", "{tmp}/truncated.csv"], "looks truncated"),
        (["data", "ingest", "{tmp}/truncated.parquet"], "may be truncated"),
        (["data", "show", "nope"], "unknown dataset 'nope'"),
        (["data", "show", "german_credit", "-o", "year=5"], r"has no option\(s\) \['year'\]"),
        (["run", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["clean", "german_credit", "--report", "{tmp}/r.txt"], "must end in .html or .json"),
    ],
)
def test_bad_input_exits_2_with_a_specific_message(env, tmp_path, args, message):
    import re

    _write(tmp_path, "wrong.parquet", "a,b\n1,2\n")
    _write(tmp_path, "ok.csv", "income,bad\n1,0\n2,1\n")
    _write(tmp_path, "textnum.csv", "income\n" + "\n".join(str(i) for i in range(60)) + "\nabc\n")
    _write(tmp_path, "emptycol.csv", "income,notes\n1,\n2,\n")
    _write(tmp_path, "truncated.csv", "a,b,c\n1,2,3\n4,5")
    full = tmp_path / "full.parquet"
    pd.DataFrame({"a": np.arange(500)}).to_parquet(full)
    _write(tmp_path, "truncated.parquet", full.read_bytes()[:200])
    res = _invoke(*[a.format(tmp=tmp_path) for a in args])
    assert res.exit_code == 2, res.output
    assert re.search(message, " ".join(res.stderr.split())), res.stderr
    assert "Traceback" not in res.output
    store = Path(env["RISKMOE_HOME"]) / "riskmoe.duckdb"
    if store.exists():  # nothing half-written: no table was created
        with Store(store, read_only=True) as s:
            assert s.versions() == []


def test_clean_writes_json_and_html_reports(env, tmp_path):
    html = tmp_path / "clean.html"
    res = _invoke("clean", "german_credit", "--report", str(html))
    assert res.exit_code == 0, res.output
    assert "<table" in html.read_text(encoding="utf-8")
    js = tmp_path / "clean.json"
    res = _invoke("clean", "german_credit", "--report", str(js), "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(js.read_text(encoding="utf-8"))
    assert report["steps"], report
    out = json.loads(res.stdout)
    assert out["version"]["name"] == "german_credit_clean"


@pytest.mark.slow
def test_riskmoe_run_end_to_end_as_a_process(tmp_path):
    """`riskmoe run` as a user runs it: a real process, default settings, a report written."""
    exe = Path(sys.executable).parent / "riskmoe"
    env = {**os.environ, "RISKMOE_HOME": str(tmp_path / "home"), "RISKMOE_OFFLINE": "1"}
    res = subprocess.run(
        [str(exe), "run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    report = Path(result["report_path"])
    html = report.read_text(encoding="utf-8")
    assert set(result["metrics"]) == {"moe", "lightgbm", "logistic"}
    assert result["metrics"]["moe"]["auc"] > 0.7
    assert result["metrics"]["logistic"]["auc"] > 0.7
    usage = result["results"]["experts"]
    assert len(usage) >= 2 and all(0.0 <= u <= 1.0 for u in usage.values())
    credit = result["results"]["credit"]
    assert credit["n"] == 300 and 0 < credit["el"] < credit["ead"]
    for section in (
        "Data quality and cleaning",
        "Model evaluation",
        "ROC curve",
        "Market risk (S&amp;P 500)",
        "Mixture of experts: routing and reasons",
        "Credit portfolio: grades, expected loss and capital",
        "Data lineage",
    ):
        assert section in html
    # ANCHORS.md: 250-day historical simulation has 13 exceptions in 2008 (red)
    market = result["results"]["market"]["methods"]
    assert market["historical"]["2008"] == {"exceptions": 13, "zone": "red"}
    assert set(market) == {"historical", "ewma", "garch_t", "fhs"}
    assert 'src="http' not in html  # self-contained: no CDN
    with Store(tmp_path / "home" / "riskmoe.duckdb", read_only=True) as s:
        stored = set(s.names())
    assert {
        "german_credit",
        "german_credit_clean_train",
        "german_credit_scores",
        "german_credit_portfolio",
    } <= stored


def test_run_uses_bundled_data_without_shared(tmp_path, monkeypatch):
    """No ../shared and no network: the bundled German credit keeps `run` working."""
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    monkeypatch.setenv("RISKMOE_USE_SHARED_DATA", "0")
    res = _invoke("run", "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["n_test"] == 300
    assert result["versions"]["raw"]["rows"] == 1000


@pytest.mark.skipif(SHARED_DATA is None, reason="../shared/data is not beside the project")
def test_run_on_another_dataset_with_option(env, tmp_path):
    res = _invoke(
        "run",
        "--dataset",
        "polish_bankruptcy",
        "-o",
        "year=5",
        "--report",
        str(tmp_path / "r.html"),
        "--json",
    )
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["dataset"] == "polish_bankruptcy"
    assert (tmp_path / "r.html").is_file()
