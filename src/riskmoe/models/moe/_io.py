"""Save / load a fitted MoERiskClassifier as safetensors + JSON, checked by a sha256 manifest.

Directory layout::

    config.json          parameters and fitted metadata (classes, groups, tasks, usage)
    weights.safetensors  network tensors
    preprocess.json      encoder state (fill values, quantile edges, vocabularies) and
                         calibration parameters
    manifest.json        sha256 of the three files, library versions, and a digest of
                         the manifest itself

Nothing is pickled. ``load`` verifies every hash before parsing anything, so a file
changed by even one byte is refused with a :class:`~riskmoe.exceptions.DataError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.features import FeatureGroup, TabularEncoder
from riskmoe.models.moe._calibration import Calibrator
from riskmoe.models.moe._inputs import AuxTask
from riskmoe.models.moe._network import MoEEnsemble

if TYPE_CHECKING:
    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = ["FILES", "load_model", "save_model"]

FORMAT = "riskmoe.MoERiskClassifier"
FORMAT_VERSION = 1
CONFIG, WEIGHTS, PREPROCESS, MANIFEST = (
    "config.json",
    "weights.safetensors",
    "preprocess.json",
    "manifest.json",
)
FILES = (CONFIG, WEIGHTS, PREPROCESS)


def _canonical(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _params_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    groups = out.get("feature_groups")
    if isinstance(groups, Mapping):
        out["feature_groups"] = {str(k): [str(c) for c in v] for k, v in groups.items()}
    cw = out.get("class_weight")
    if isinstance(cw, Mapping):
        # JSON object keys are strings: keep the class labels' types in pairs
        out["class_weight"] = {"pairs": [[_jsonable(k), float(v)] for k, v in cw.items()]}
    rs = out.get("random_state")
    if rs is not None and not isinstance(rs, int | np.integer):
        out["random_state"] = None  # a generator object cannot be stored; seeds are spent
    return _jsonable(out)


def _params_from_json(params: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    cw = out.get("class_weight")
    if isinstance(cw, Mapping) and "pairs" in cw:
        out["class_weight"] = {k: v for k, v in cw["pairs"]}
    return out


def save_model(model: MoERiskClassifier, path: Path) -> Path:
    """Write the four files of a fitted model into ``path`` (created if needed)."""
    path.mkdir(parents=True, exist_ok=True)
    classes = model.classes_
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": _params_to_json(model.get_params(deep=False)),
        "fitted": {
            "classes": {"dtype": str(classes.dtype), "values": _jsonable(classes.tolist())},
            "n_features_in": int(model.n_features_in_),
            "feature_names_in": (
                [str(c) for c in model.feature_names_in_]
                if hasattr(model, "feature_names_in_")
                else None
            ),
            "feature_groups": [g.to_dict() for g in model.feature_groups_],
            "expert_names": list(model.expert_names_),
            "aux_tasks": [t.to_dict() for t in model.aux_tasks_],
            "n_members": len(model.module_.members),
            "expert_usage": [float(v) for v in model.expert_usage_],
            "best_epochs": [int(v) for v in model.best_epochs_],
            "history": [[float(v) for v in h] for h in model.history_],
            "n_parameters": int(model.n_parameters_),
            "n_active_parameters": int(model.n_active_parameters_),
        },
    }
    preprocess = {
        "encoder": model.encoder_.to_dict(),
        "calibration": model.calibrator_.to_dict(),
    }
    tensors = {k: v.detach().contiguous().clone() for k, v in model.module_.state_dict().items()}
    _write(path / CONFIG, _canonical(config))
    _write(path / PREPROCESS, _canonical(preprocess))
    tmp = path / (WEIGHTS + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path / WEIGHTS)
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {name: _sha256(path / name) for name in FILES},
        "versions": {
            "riskmoe": _version("riskmoe"),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scikit-learn": _version("scikit-learn"),
            "safetensors": _version("safetensors"),
            "python": platform.python_version(),
        },
    }
    manifest = {**body, "digest": hashlib.sha256(_canonical(body)).hexdigest()}
    _write(path / MANIFEST, _canonical(manifest))
    return path


def _verify(path: Path) -> dict[str, Any]:
    """Check the manifest and every file hash; return the manifest."""
    if not path.is_dir():
        raise DataError(f"model directory {str(path)!r} does not exist.")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise DataError(f"{MANIFEST} is missing from {str(path)!r}; not a saved model.")
    raw = manifest_path.read_bytes()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{MANIFEST} in {str(path)!r} is not valid JSON ({exc}); it was modified or "
            "truncated. Refusing to load."
        ) from exc
    if not isinstance(manifest, dict) or "digest" not in manifest:
        raise DataError(f"{MANIFEST} in {str(path)!r} has no digest. Refusing to load.")
    body = {k: v for k, v in manifest.items() if k != "digest"}
    if (
        _canonical(manifest) != raw
        or hashlib.sha256(_canonical(body)).hexdigest() != manifest["digest"]
    ):
        raise DataError(
            f"{MANIFEST} in {str(path)!r} failed its integrity check: its content does not "
            "match its digest; the model directory was modified after saving. Refusing to load."
        )
    if manifest.get("format") != FORMAT:
        raise DataError(f"{str(path)!r} holds {manifest.get('format')!r}, not {FORMAT!r}.")
    files = manifest.get("files", {})
    for name in FILES:
        file = path / name
        if name not in files:
            raise DataError(f"{MANIFEST} does not list {name}. Refusing to load.")
        if not file.is_file():
            raise DataError(f"{name} is missing from {str(path)!r}. Refusing to load.")
        actual = _sha256(file)
        if actual != files[name]:
            raise DataError(
                f"{name} failed its integrity check: sha256 {actual} does not match the "
                f"manifest ({files[name]}); the model directory was modified after saving. "
                "Refusing to load."
            )
    return manifest


def load_model(cls: type[MoERiskClassifier], path: Path) -> MoERiskClassifier:
    """Verify, then rebuild a fitted model saved by :func:`save_model`."""
    _verify(path)
    try:
        config = json.loads((path / CONFIG).read_text("utf-8"))
        preprocess = json.loads((path / PREPROCESS).read_text("utf-8"))
        fitted = config["fitted"]
        model = cls(**_params_from_json(config["params"]))
        classes = fitted["classes"]
        model.classes_ = np.asarray(
            classes["values"], dtype=object if classes["dtype"] == "object" else classes["dtype"]
        )
        model.n_features_in_ = int(fitted["n_features_in"])
        if fitted["feature_names_in"] is not None:
            model.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
        encoder = TabularEncoder.from_dict(preprocess["encoder"])
        groups = tuple(
            FeatureGroup(str(g["name"]), tuple(str(c) for c in g["columns"]))
            for g in fitted["feature_groups"]
        )
        aux_tasks = [AuxTask(**t) for t in fitted["aux_tasks"]]
        model.n_experts_ = len(fitted["expert_names"])
        model.n_ensemble_ = int(fitted["n_members"])
        views = model._token_views(encoder, groups)
        with torch.random.fork_rng(devices=[]):
            members = [
                model._build_network(encoder, views, n_tasks=1 + len(aux_tasks))
                for _ in range(int(fitted["n_members"]))
            ]
        module = MoEEnsemble(members)
        module.load_state_dict(load_file(str(path / WEIGHTS)), strict=True)
        module.eval()
        model.encoder_ = encoder
        model.feature_groups_ = groups
        model.expert_names_ = [str(n) for n in fitted["expert_names"]]
        model.aux_tasks_ = aux_tasks
        model.calibrator_ = Calibrator.from_dict(preprocess["calibration"])
        model.module_ = module
        model.best_epochs_ = [int(v) for v in fitted["best_epochs"]]
        model.history_ = [tuple(float(v) for v in h) for h in fitted["history"]]
        model.expert_usage_ = np.asarray(fitted["expert_usage"], dtype=np.float64)
        model.n_parameters_ = int(fitted["n_parameters"])
        model.n_active_parameters_ = int(fitted["n_active_parameters"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, DataError | SchemaError):
            raise
        raise DataError(f"the saved model in {str(path)!r} is malformed: {exc!r}") from exc
    return model
