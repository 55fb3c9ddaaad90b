"""`riskmoe train | score | resolve | ask`: real model files, a real store, real names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.data import load_dataset
from riskmoe.data.store import Store

from .conftest import SHARED_DATA


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    return tmp_path / "home"


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _json(*args: str):
    res = _run(*args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture()
def trained(home, tmp_path) -> Path:
    out = tmp_path / "model"
    result = _json("train", "--dataset", "german_credit", "--out", str(out))
    assert result["metrics"]["auc"] > 0.7
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "weights.safetensors",
        "preprocess.json",
        "manifest.json",
    }
    return out


def test_train_registers_and_score_writes_grades(home, trained, tmp_path):
    with Store(home / "riskmoe.duckdb", read_only=True) as s:
        reg = s.table("model_registry")
    assert list(reg["dataset"]) == ["german_credit"]
    frame = load_dataset("german_credit").frame.head(40)
    src = tmp_path / "applicants.csv"
    frame.drop(columns="bad").to_csv(src, index=False)
    dst = tmp_path / "scores.parquet"
    out = _json(
        "score", "--model", str(trained), "--input", str(src), "--out", str(dst), "--explain"
    )
    scored = pd.read_parquet(dst)
    assert out["rows"] == 40 == len(scored)
    assert scored["pd"].between(0, 1).all()
    assert set(scored["tier"]) <= {"low", "medium", "high"}
    columns = set(frame.columns)
    for reason in scored["reason_1"]:
        assert reason.split(" = ")[0] in columns  # reason codes name real columns


def test_score_without_model_uses_the_registered_one(home, trained, tmp_path):
    src = tmp_path / "applicants.csv"
    load_dataset("german_credit").frame.head(10).drop(columns="bad").to_csv(src, index=False)
    by_default = _json("score", "--input", str(src), "--out", str(tmp_path / "a.csv"))
    named = _json(
        "score", "--model", str(trained), "--input", str(src), "--out", str(tmp_path / "b.csv")
    )
    assert by_default["rows"] == named["rows"] == 10
    assert by_default["mean_pd"] == named["mean_pd"]


def test_score_without_model_and_nothing_registered_says_what_to_do(home, tmp_path):
    src = tmp_path / "applicants.csv"
    load_dataset("german_credit").frame.head(3).drop(columns="bad").to_csv(src, index=False)
    res = _run("score", "--input", str(src), "--out", str(tmp_path / "a.csv"))
    assert res.exit_code == 2
    assert "none registered" in res.stderr and "riskmoe train" in res.stderr
    assert not (tmp_path / "a.csv").exists()


def test_score_refuses_a_tampered_model_and_missing_columns(home, trained, tmp_path):
    src = tmp_path / "few.csv"
    load_dataset("german_credit").frame.head(5)[["duration_in_month"]].to_csv(src, index=False)
    res = _run(
        "score", "--model", str(trained), "--input", str(src), "--out", str(tmp_path / "o.csv")
    )
    assert res.exit_code == 2 and "lacks" in res.stderr
    weights = trained / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    res = _run(
        "score", "--model", str(trained), "--input", str(src), "--out", str(tmp_path / "o.csv")
    )
    assert res.exit_code == 2
    assert re.search("sha256|tamper|manifest", res.stderr, re.I), res.stderr
    assert not (tmp_path / "o.csv").exists()


def test_train_refuses_a_non_empty_folder(home, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x.txt").write_text("keep me")
    res = _run("train", "--dataset", "german_credit", "--out", str(out))
    assert res.exit_code == 2 and "not empty" in res.stderr
    assert (out / "x.txt").read_text() == "keep me"


def test_resolve_json_lines(home):
    res = _run("resolve", "招行", "gzmt", "貴州茅台", "平安", "--json")
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["code"] for d in lines[:3]] == ["600036.SH", "600519.SH", "600519.SH"]
    assert lines[3]["abstained"] is True
    assert {"000001.SZ", "601318.SH"} <= {c["code"] for c in lines[3]["candidates"]}
    assert set(lines[0]) == {"query", "code", "name", "score", "abstained", "candidates"}


@pytest.mark.skipif(SHARED_DATA is None, reason="needs ../shared/data")
def test_ask_names_missing_data_then_answers_from_the_store(home):
    first = _json("ask", "茅台的流动性风险怎么样？")
    assert first["question"]["entity"]["code"] == "600519.SH"
    assert first["facts"] == []
    assert first["gaps"][0]["command"] == "riskmoe data ingest cn_financials"
    assert _run("data", "ingest", "cn_financials").exit_code == 0
    answer = _json("ask", "茅台的流动性风险怎么样？")
    facts = {f["label"]: f for f in answer["facts"]}
    # independent check: current ratio = current assets / current liabilities, FY2019
    fin = load_dataset("cn_financials").frame
    row = fin[(fin["code"] == "600519.SH") & (fin["fiscal_year"] == 2019)].iloc[0]
    expected = row["total_current_assets"] / row["total_current_liabilities"]
    assert facts["current_ratio"]["value"] == pytest.approx(expected)
    assert facts["current_ratio"]["source"] == "cn_financials v1"


def test_ask_abstains_on_an_ambiguous_name(home):
    answer = _json("ask", "平安的信用风险")
    assert answer["question"]["entity"]["abstained"] is True
    assert answer["facts"] == []
