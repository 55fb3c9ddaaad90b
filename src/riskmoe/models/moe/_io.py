"""Save / load a fitted MoE estimator as safetensors + JSON, checked by a sha256 manifest.

:func:`save_folder` / :func:`load_folder` hold the layout both estimators share;
:func:`save_model` / :func:`load_model` add MoERiskClassifier's entries (the regressor adds
its own in :mod:`riskmoe.models.moe._regressor`).

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
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.features import FeatureGroup, TabularEncoder
from riskmoe.models.moe._base import embedding_width
from riskmoe.models.moe._calibration import Calibrator
from riskmoe.models.moe._inputs import AuxTask
from riskmoe.models.moe._network import MoEEnsemble

if TYPE_CHECKING:
    from riskmoe.models.moe._base import _MoEBase
    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = ["FILES", "load_folder", "load_model", "save_folder", "save_model"]

_Model = TypeVar("_Model", bound="_MoEBase")

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


def save_folder(
    model: _MoEBase,
    path: Path,
    fmt: str,
    *,
    fitted: Mapping[str, Any],
    preprocess: Mapping[str, Any],
    versions: Mapping[str, str | None],
) -> Path:
    """Write the four files of a fitted MoE estimator into ``path`` (created if needed).

    Parameters
    ----------
    model : MoERiskClassifier or MoERiskRegressor
        Fitted.
    path : pathlib.Path
    fmt : str
        The ``format`` written into config.json and the manifest.
    fitted : mapping
        The estimator's own fitted metadata, added to the shared entries of
        ``config["fitted"]`` (inputs, groups, experts, members, usage, history).
    preprocess : mapping
        Added to preprocess.json next to the encoder's state.
    versions : mapping
        Library versions recorded in the manifest besides riskmoe, torch and python.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path.mkdir(parents=True, exist_ok=True)
    config = {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "params": _params_to_json(model.get_params(deep=False)),
        "fitted": {
            "n_features_in": int(model.n_features_in_),
            "feature_names_in": (
                [str(c) for c in model.feature_names_in_]
                if hasattr(model, "feature_names_in_")
                else None
            ),
            "feature_groups": [g.to_dict() for g in model.feature_groups_],
            "expert_names": list(model.expert_names_),
            "n_members": len(model.module_.members),
            "expert_usage": [float(v) for v in model.expert_usage_],
            "best_epochs": [int(v) for v in model.best_epochs_],
            "history": [[float(v) for v in h] for h in model.history_],
            "n_parameters": int(model.n_parameters_),
            **fitted,
        },
    }
    tensors = {k: v.detach().contiguous().clone() for k, v in model.module_.state_dict().items()}
    _write(path / CONFIG, _canonical(config))
    _write(path / PREPROCESS, _canonical({"encoder": model.encoder_.to_dict(), **preprocess}))
    tmp = path / (WEIGHTS + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path / WEIGHTS)
    body = {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "files": {name: _sha256(path / name) for name in FILES},
        "versions": {
            "riskmoe": _version("riskmoe"),
            "torch": torch.__version__,
            **versions,
            "python": platform.python_version(),
        },
    }
    manifest = {**body, "digest": hashlib.sha256(_canonical(body)).hexdigest()}
    _write(path / MANIFEST, _canonical(manifest))
    return path


def save_model(model: MoERiskClassifier, path: Path) -> Path:
    """Write the four files of a fitted classifier into ``path`` (created if needed)."""
    classes = model.classes_
    return save_folder(
        model,
        path,
        FORMAT,
        fitted={
            "classes": {"dtype": str(classes.dtype), "values": _jsonable(classes.tolist())},
            "aux_tasks": [t.to_dict() for t in model.aux_tasks_],
            "n_active_parameters": int(model.n_active_parameters_),
            "stopping_metric": model.stopping_metric_,
        },
        preprocess={"calibration": model.calibrator_.to_dict()},
        versions={
            "numpy": np.__version__,
            "scikit-learn": _version("scikit-learn"),
            "safetensors": _version("safetensors"),
        },
    )


def _verify(path: Path, fmt: str = FORMAT) -> dict[str, Any]:
    """Check the manifest, its ``format`` (``fmt``) and every file hash; return the manifest."""
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
    if manifest.get("format") != fmt:
        raise DataError(f"{str(path)!r} holds {manifest.get('format')!r}, not {fmt!r}.")
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


def load_folder(
    cls: type[_Model],
    path: Path,
    fmt: str,
    restore: Callable[[_Model, Mapping[str, Any], Mapping[str, Any]], int],
) -> _Model:
    """Verify, then rebuild a fitted MoE estimator saved by :func:`save_folder`.

    Parameters
    ----------
    cls : type
        The estimator class; built from the saved parameters.
    path : pathlib.Path
    fmt : str
        The ``format`` the manifest must name.
    restore : callable
        ``restore(model, fitted, preprocess)`` sets the estimator's own fitted attributes
        from config.json's ``fitted`` and preprocess.json, and returns the network's
        number of tasks.

    Returns
    -------
    The fitted estimator.

    Raises
    ------
    DataError
        If the folder or a file is missing, altered (hash mismatch) or malformed.
    """
    _verify(path, fmt)
    try:
        config = json.loads((path / CONFIG).read_text("utf-8"))
        preprocess = json.loads((path / PREPROCESS).read_text("utf-8"))
        fitted = config["fitted"]
        model = cls(**_params_from_json(config["params"]))
        n_tasks = restore(model, fitted, preprocess)
        model.n_features_in_ = int(fitted["n_features_in"])
        if fitted["feature_names_in"] is not None:
            model.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
        encoder = TabularEncoder.from_dict(preprocess["encoder"])
        groups = tuple(
            FeatureGroup(str(g["name"]), tuple(str(c) for c in g["columns"]))
            for g in fitted["feature_groups"]
        )
        model.n_experts_ = len(fitted["expert_names"])
        views = model._token_views(encoder, groups)
        with torch.random.fork_rng(devices=[]):
            members = [
                model._build_network(encoder, views, n_tasks)
                for _ in range(int(fitted["n_members"]))
            ]
        module = MoEEnsemble(members)
        module.load_state_dict(load_file(str(path / WEIGHTS)), strict=True)
        module.eval()
        model.encoder_ = encoder
        model.d_embedding_ = embedding_width(model.d_embedding, len(encoder.feature_names))
        model.feature_groups_ = groups
        model.expert_names_ = [str(n) for n in fitted["expert_names"]]
        model.module_ = module
        model.best_epochs_ = [int(v) for v in fitted["best_epochs"]]
        model.history_ = [tuple(float(v) for v in h) for h in fitted["history"]]
        model.expert_usage_ = np.asarray(fitted["expert_usage"], dtype=np.float64)
        model.n_parameters_ = int(fitted["n_parameters"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, DataError | SchemaError):
            raise
        raise DataError(f"the saved model in {str(path)!r} is malformed: {exc!r}") from exc
    return model


def _restore_classifier(
    model: MoERiskClassifier, fitted: Mapping[str, Any], preprocess: Mapping[str, Any]
) -> int:
    classes = fitted["classes"]
    model.classes_ = np.asarray(
        classes["values"], dtype=object if classes["dtype"] == "object" else classes["dtype"]
    )
    model.aux_tasks_ = [AuxTask(**t) for t in fitted["aux_tasks"]]
    model.n_ensemble_ = int(fitted["n_members"])
    model.calibrator_ = Calibrator.from_dict(preprocess["calibration"])
    model.n_active_parameters_ = int(fitted["n_active_parameters"])
    # models saved before the metric was recorded stopped on the log loss
    model.stopping_metric_ = "auc" if fitted.get("stopping_metric") == "auc" else "log_loss"
    return 1 + len(model.aux_tasks_)


def load_model(cls: type[MoERiskClassifier], path: Path) -> MoERiskClassifier:
    """Verify, then rebuild a fitted classifier saved by :func:`save_model`."""
    return load_folder(cls, path, FORMAT, _restore_classifier)
