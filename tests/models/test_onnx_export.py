"""ONNX export of a trained MoE on real credit rows: parity with PyTorch, int8, scoring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import DataError, SchemaError
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import OnnxMoEScorer, export_onnx

pytestmark = pytest.mark.slow  # trains an MoE on real credit rows


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.Series, dict]:
    home = tmp_path_factory.mktemp("home")
    ds = load_dataset(
        "german_credit", settings=Settings(home=home, use_shared_data=False, offline=True)
    )
    X, y = ds.X_y()
    return X, y, dict(ds.feature_groups)


@pytest.fixture(scope="module")
def saved(german, tmp_path_factory: pytest.TempPathFactory) -> tuple[MoERiskClassifier, Path]:
    X, y, groups = german
    # two members, so the exported graph averages an ensemble like the real default
    model = MoERiskClassifier(
        feature_groups=groups, n_ensemble=2, max_epochs=6, random_state=0
    ).fit(X.iloc[:800], y.iloc[:800])
    folder = tmp_path_factory.mktemp("model") / "m"
    return model, model.save(folder)


@pytest.fixture(scope="module")
def exported(saved):
    model, folder = saved
    return export_onnx(model, folder, int8=True)


def test_onnx_probabilities_match_pytorch_on_real_rows(saved, exported, german):
    model, _ = saved
    X, _, _ = german
    rows = X.iloc[800:]  # rows the model never saw, with German credit's text columns
    scorer = OnnxMoEScorer.load(exported.path)
    p_torch = model.predict_proba(rows)[:, 1]
    p_onnx = scorer.predict_proba(rows)[:, 1]
    # the parity bar: max |p_onnx - p_torch| < 1e-5 (float32 graph, same encoder
    # and the same Platt calibrator applied in float64 on both sides)
    assert np.max(np.abs(p_onnx - p_torch)) < 1e-5
    np.testing.assert_array_equal(scorer.predict(rows), model.predict(rows))
    assert exported.parity["fp32"] < 1e-4
    assert set(onnx.load(str(exported.graphs["fp32"])).graph.input[i].name for i in range(3)) == {
        "numeric",
        "missing",
        "categorical",
    }


def test_int8_graph_is_smaller_and_still_ranks(saved, exported, german):
    model, _ = saved
    X, y, _ = german
    rows, labels = X.iloc[800:], y.iloc[800:]
    assert exported.sizes["int8"] < exported.sizes["fp32"]
    int8 = OnnxMoEScorer.load(exported.path, "int8")
    p8 = int8.predict_proba(rows)[:, 1]
    assert np.all((p8 >= 0) & (p8 <= 1))
    auc8 = roc_auc_score(labels, p8)
    auc32 = roc_auc_score(labels, model.predict_proba(rows)[:, 1])
    # int8 weights perturb the logits (by exported.parity["int8"]), not the ranking wholesale
    assert abs(auc8 - auc32) < 0.05


def test_scorer_applies_the_models_column_checks(exported, german):
    X, _, _ = german
    scorer = OnnxMoEScorer.load(exported.path)
    with pytest.raises(SchemaError, match="missing columns seen at fit time"):
        scorer.predict_proba(X.iloc[:5].drop(columns=[X.columns[0]]))


def test_tampered_or_missing_exports_are_refused(saved, exported, tmp_path: Path):
    model, folder = saved
    copy = tmp_path / "copy"
    res = export_onnx(model, folder, copy)
    with (copy / "model.onnx").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(DataError, match="model.onnx failed its integrity check"):
        OnnxMoEScorer.load(copy)
    export_onnx(model, folder, tmp_path / "fp32only")
    with pytest.raises(DataError, match=r"has no 'int8' graph \(has \['fp32'\]\)"):
        OnnxMoEScorer.load(tmp_path / "fp32only", "int8")
    with pytest.raises(DataError, match="is not an ONNX export"):
        OnnxMoEScorer.load(folder)
    other = tmp_path / "busy"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="holds files that are not an ONNX export"):
        export_onnx(model, folder, other)
    assert (other / "notes.txt").read_text() == "keep me"
    config = json.loads((res.path / "onnx_config.json").read_text())
    assert config["source_manifest_sha256"] == res.source_manifest_sha256
