"""`riskmoe export` and `riskmoe score --format onnx`: real model folders, real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.models import MoERiskClassifier

pytestmark = pytest.mark.slow  # trains an MoE on real credit rows


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture()
def model_and_rows(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("RISKMOE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISKMOE_OFFLINE", "1")
    ds = load_dataset(
        "german_credit", settings=Settings(home=tmp_path / "h", use_shared_data=False, offline=True)
    )
    X, y = ds.X_y()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = MoERiskClassifier(n_ensemble=1, max_epochs=3, random_state=0).fit(X, y)
    finally:
        torch.set_num_threads(threads)
    folder = model.save(tmp_path / "model")
    rows = tmp_path / "applicants.csv"
    X.tail(60).to_csv(rows, index=False)
    return folder, rows


def test_export_then_score_with_onnx_matches_torch(model_and_rows, tmp_path: Path):
    folder, rows = model_and_rows
    res = _run("export", "--model", str(folder), "--format", "onnx", "--int8", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert set(report["graphs"]) == {"fp32", "int8"}
    assert Path(report["path"]) == folder / "onnx"
    assert report["parity"]["fp32"] < 1e-4

    scores = {}
    for fmt in ("torch", "onnx", "onnx-int8"):
        out = tmp_path / f"scores-{fmt}.csv"
        res = _run(
            "score", "--model", str(folder), "--input", str(rows), "--out", str(out),
            "--format", fmt, "--json",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["rows"] == 60
        scores[fmt] = pd.read_csv(out)
    assert np.max(np.abs(scores["onnx"]["pd"] - scores["torch"]["pd"])) < 1e-5
    assert (scores["onnx"]["grade"] == scores["torch"]["grade"]).mean() > 0.9
    assert scores["onnx-int8"]["pd"].between(0, 1).all()


def test_export_and_score_errors_are_specific(model_and_rows, tmp_path: Path):
    folder, rows = model_and_rows
    res = _run("export", "--model", str(folder), "--format", "tflite")
    assert res.exit_code == 2
    assert "unknown export format 'tflite'; allowed: onnx" in res.output
    out = str(tmp_path / "s.csv")
    res = _run(
        "score", "--model", str(folder), "--input", str(rows), "--out", out, "--format", "onnx"
    )
    assert res.exit_code == 2
    assert "no ONNX export in" in res.output and "riskmoe export" in res.output
    assert _run("export", "--model", str(folder)).exit_code == 0
    res = _run(
        "score", "--model", str(folder), "--input", str(rows), "--out", out, "--format", "onnx-int8"
    )
    assert res.exit_code == 2 and "re-export with --int8" in res.output
    res = _run(
        "score", "--model", str(folder), "--input", str(rows), "--out", out, "--format", "onnx",
        "--explain",
    )  # fmt: skip
    assert res.exit_code == 2 and "reason codes (--explain) need the PyTorch model" in res.output
    res = _run(
        "score", "--model", str(folder), "--input", str(rows), "--out", out, "--format", "xla"
    )
    assert res.exit_code == 2 and "unknown model format 'xla'" in res.output
    res = _run("export", "--model", str(tmp_path / "nowhere"))
    assert res.exit_code == 2 and "does not exist" in res.output
