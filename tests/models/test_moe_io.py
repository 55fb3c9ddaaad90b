"""save / load: safetensors + JSON + sha256 manifest; identical predictions; tampering refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from riskmoe.exceptions import DataError
from riskmoe.models import MoERiskClassifier

FILES = ["config.json", "manifest.json", "preprocess.json", "weights.safetensors"]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def frame(n: int = 300, seed: int = 3) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "debt_ratio": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 0.3, n)),
            "age": rng.integers(18, 80, n).astype(float),
            "grade": pd.Categorical(rng.choice(list("ABCD"), n)),
            "purpose": pd.Series(rng.choice(["car", "home", "other"], n), dtype="string"),
        }
    )
    z = X["debt_ratio"].fillna(0.5).to_numpy() * 2 - (X["grade"] == "A").to_numpy() - 0.8
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-z))).astype(int))
    aux = pd.DataFrame({"late_count": rng.poisson(1.0, n).astype(float)})
    return X, y, aux


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[MoERiskClassifier, Path, pd.DataFrame]:
    X, y, aux = frame()
    clf = MoERiskClassifier(
        n_experts=4,
        top_k=2,
        expert_hidden=16,
        d_embedding=4,
        n_bins=8,
        max_epochs=3,
        n_ensemble=2,
        feature_groups={"credit": ["debt_ratio", "grade"], "profile": ["age", "purpose"]},
        class_weight={0: 1.0, 1: 2.0},
        calibration="isotonic",
        random_state=0,
    ).fit(X, y, aux_targets=aux)
    path = clf.save(tmp_path_factory.mktemp("model") / "moe")
    return clf, path, X


def test_directory_layout_and_manifest(saved):
    _, path, _ = saved
    assert sorted(p.name for p in path.iterdir()) == FILES
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(manifest["files"]) == {"config.json", "preprocess.json", "weights.safetensors"}
    assert all(len(h) == 64 for h in manifest["files"].values())
    assert manifest["versions"]["torch"] == torch.__version__
    preprocess = json.loads((path / "preprocess.json").read_text())
    assert [c["name"] for c in preprocess["encoder"]["numeric"]] == ["debt_ratio", "age"]
    assert preprocess["calibration"]["kind"] == "isotonic"
    for name in FILES:  # nothing pickled: JSON text or a safetensors header
        assert not (path / name).read_bytes().startswith(b"\x80")


def test_round_trip_gives_identical_predictions(saved):
    clf, path, X = saved
    loaded = MoERiskClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.predict_aux(X), clf.predict_aux(X))
    np.testing.assert_array_equal(loaded.expert_usage_, clf.expert_usage_)
    assert loaded.get_params() == clf.get_params()
    assert loaded.expert_names_ == clf.expert_names_
    assert loaded.n_active_parameters_ == clf.n_active_parameters_
    assert loaded.classes_.tolist() == clf.classes_.tolist()
    a, b = loaded.explain(X.head(5)), clf.explain(X.head(5))
    assert a.reason_codes == b.reason_codes


def test_load_does_not_touch_the_global_generator(saved):
    _, path, _ = saved
    state = torch.random.get_rng_state()
    MoERiskClassifier.load(path)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("name", FILES)
def test_any_changed_byte_is_refused(saved, tmp_path: Path, name: str):
    _, path, _ = saved
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in FILES:
        (copy / f).write_bytes((path / f).read_bytes())
    data = bytearray((copy / name).read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"(failed its integrity check|not valid JSON).*"):
        MoERiskClassifier.load(copy)


def test_whitespace_edit_of_the_manifest_is_refused(saved, tmp_path: Path):
    _, path, _ = saved
    for f in FILES:
        (tmp_path / f).write_bytes((path / f).read_bytes())
    text = (tmp_path / "manifest.json").read_text()
    (tmp_path / "manifest.json").write_text(text.replace("\n", "\n ", 1))
    with pytest.raises(DataError, match=r"manifest.json .* failed its integrity check"):
        MoERiskClassifier.load(tmp_path)


def test_missing_file_is_refused(saved, tmp_path: Path):
    _, path, _ = saved
    for f in ["config.json", "manifest.json", "preprocess.json"]:
        (tmp_path / f).write_bytes((path / f).read_bytes())
    with pytest.raises(DataError, match=r"weights.safetensors is missing"):
        MoERiskClassifier.load(tmp_path)


def test_not_a_model_directory(tmp_path: Path):
    with pytest.raises(DataError, match=r"does not exist"):
        MoERiskClassifier.load(tmp_path / "nope")
    with pytest.raises(DataError, match=r"manifest.json is missing"):
        MoERiskClassifier.load(tmp_path)
