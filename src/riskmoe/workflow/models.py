"""Model jobs: train a Mixture-of-Experts model, register it in the store, score files.

The registry is the store table ``model_registry``: one row per trained model with its
dataset, folder, held-out metrics and the sha256 of its manifest. A model folder is
``config.json`` + ``weights.safetensors`` + ``preprocess.json`` + ``manifest.json``;
loading verifies every file's hash, so a tampered folder is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.readers import read_table
from riskmoe.data.store import Store, TableVersion
from riskmoe.evaluation import ProbabilityMetrics, probability_metrics
from riskmoe.exceptions import DataError, DataFormatError, SchemaError, StoreError
from riskmoe.models import MoERiskClassifier, RecordScorer
from riskmoe.models.moe import OnnxMoEScorer
from riskmoe.risk import MasterScale
from riskmoe.workflow.export import SCORING_FORMATS, open_onnx_scorer

__all__ = [
    "REGISTRY_TABLE",
    "ACTIVATION_TABLE",
    "ScoreResult",
    "TrainResult",
    "activate_model",
    "active_model",
    "latest_model",
    "registered_models",
    "RecordScores",
    "score_file",
    "score_frame",
    "score_records",
    "serving_model",
    "serving_model_dir",
    "train",
]

REGISTRY_TABLE = "model_registry"
_SCORE_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class TrainResult:
    """A trained, saved and registered model with its held-out metrics."""

    model_id: str
    dataset: str
    path: Path
    n_train: int
    n_test: int
    metrics: ProbabilityMetrics
    expert_usage: dict[str, float]
    registry_version: TableVersion

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "model_id": self.model_id,
            "dataset": self.dataset,
            "path": str(self.path),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "metrics": self.metrics.to_dict(),
            "expert_usage": self.expert_usage,
            "registry_version": self.registry_version.to_dict(),
        }


def _manifest_sha(path: Path) -> str:
    from riskmoe.data._sources import sha256_of

    return sha256_of(path / "manifest.json")


def expert_usage_by_name(model: MoERiskClassifier) -> dict[str, float]:
    """Share of rows routed to each routed expert, keyed by expert name."""
    usage = np.asarray(model.expert_usage_, dtype=float)
    names = list(getattr(model, "expert_names_", [f"expert_{i}" for i in range(len(usage))]))
    return {str(n): float(u) for n, u in zip(names, usage, strict=False)}


def train(
    dataset: str,
    out_dir: str | Path,
    settings: Settings,
    *,
    test_size: float = 0.2,
    model_params: dict[str, Any] | None = None,
    model_class: type[MoERiskClassifier] = MoERiskClassifier,
    **options: Any,
) -> TrainResult:
    """Train :class:`MoERiskClassifier` on a dataset, evaluate it on a held-out split,
    save it to ``out_dir`` and register it.

    The saved model is the one evaluated (fitted on the training split only), so the
    registered metrics are honest out-of-sample figures. ``model_class`` may be a subclass
    with another training loop (``DistributedMoERiskClassifier`` under ``torchrun``).
    """
    if not 0.05 <= test_size <= 0.5:
        raise ValueError(f"test_size must be in [0.05, 0.5]; got {test_size}.")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise DataFormatError(f"{out} exists and is not empty; choose a new folder for the model.")
    ds = load_dataset(dataset, settings=settings, **options)
    X, y = ds.X_y()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=settings.random_state
    )
    params: dict[str, Any] = {
        "random_state": settings.random_state,
        "feature_groups": dict(ds.feature_groups),
    }
    params.update(model_params or {})
    model = model_class(**params).fit(X_tr, y_tr)
    metrics = probability_metrics(y_te.to_numpy(), model.predict_proba(X_te)[:, 1])
    model.save(out)
    created = datetime.now(UTC).replace(tzinfo=None)
    model_id = f"{dataset}-{created:%Y%m%dT%H%M%S}"
    row = pd.DataFrame(
        [
            {
                "model_id": model_id,
                "dataset": dataset,
                "options": json.dumps(options, sort_keys=True),
                "path": str(out.resolve()),
                "created_at": created,
                "n_train": len(X_tr),
                "n_test": len(X_te),
                "auc": metrics.auc,
                "ks": metrics.ks,
                "brier": metrics.brier,
                "ece": metrics.ece,
                "manifest_sha256": _manifest_sha(out),
                "features": json.dumps(list(X.columns)),
                "target": ds.target,
            }
        ]
    )
    with Store(settings.resolved_store_path) as store:
        previous = store.table(REGISTRY_TABLE) if store.latest(REGISTRY_TABLE) else None
        table = row if previous is None else pd.concat([previous, row], ignore_index=True)
        version = store.ingest(REGISTRY_TABLE, table)
    return TrainResult(
        model_id,
        dataset,
        out,
        len(X_tr),
        len(X_te),
        metrics,
        expert_usage_by_name(model),
        version,
    )


def registered_models(store: Store) -> pd.DataFrame:
    """The model registry (empty frame when nothing is registered)."""
    if store.latest(REGISTRY_TABLE) is None:
        return pd.DataFrame(columns=["model_id", "dataset", "path", "created_at"])
    return store.table(REGISTRY_TABLE)


def latest_model(store: Store, dataset: str) -> pd.Series | None:
    """The newest registered model trained on ``dataset``, or None."""
    reg = registered_models(store)
    rows = reg[reg["dataset"] == dataset]
    if rows.empty:
        return None
    return rows.sort_values("created_at").iloc[-1]


def load_registered(row: pd.Series) -> MoERiskClassifier:
    """Load a registered model, checking its manifest is the one registered."""
    path = Path(str(row["path"]))
    if not (path / "manifest.json").is_file():
        raise StoreError(f"registered model {row['model_id']} is missing its folder {path}.")
    if _manifest_sha(path) != row["manifest_sha256"]:
        raise StoreError(
            f"model folder {path} was changed after registration (manifest sha256 differs); "
            "refusing to load it."
        )
    return MoERiskClassifier.load(path)


ACTIVATION_TABLE = "model_activations"


def activate_model(store: Store, model_id: str, *, by: str = "") -> pd.Series:
    """Make a registered model the one scoring uses (the newest activation wins).

    The model is loaded first, so a folder changed after registration (manifest or any
    weight file) is refused and nothing is recorded. Activations are an append-only log
    table (``model_activations``): the history of which model served when is kept.

    Raises
    ------
    StoreError
        If no registered model has that id, or its folder is missing or changed.
    DataError
        If a file in the folder fails its manifest hash.
    """
    reg = registered_models(store)
    rows = reg[reg["model_id"] == model_id]
    if rows.empty:
        have = ", ".join(map(str, reg["model_id"])) or "none"
        raise StoreError(f"no registered model {model_id!r}; registered: {have}.")
    row = rows.iloc[-1]
    load_registered(row)
    at = datetime.now(UTC).replace(tzinfo=None)
    activation = pd.DataFrame(
        [
            {
                "activation_id": f"{model_id}@{at.isoformat()}",
                "model_id": model_id,
                "activated_at": pd.Timestamp(at),
                "activated_by": by,
            }
        ]
    )
    store.append(ACTIVATION_TABLE, activation, key="activation_id")
    return row


def active_model(store: Store) -> pd.Series | None:
    """The registry row of the most recently activated model, or None if none was."""
    if ACTIVATION_TABLE not in store.log_names():
        return None
    last = store.query(
        f'SELECT model_id FROM "{ACTIVATION_TABLE}" ORDER BY activated_at DESC LIMIT 1'
    )
    reg = registered_models(store)
    rows = reg[reg["model_id"] == last["model_id"].iloc[0]] if len(last) else reg.iloc[:0]
    return None if rows.empty else rows.iloc[-1]


def serving_model(store: Store, dataset: str | None = None) -> pd.Series | None:
    """The model scoring should use: the active one, else the newest registered
    (on ``dataset`` when given), else None."""
    active = active_model(store)
    if active is not None and (dataset is None or active["dataset"] == dataset):
        return active
    if dataset is not None:
        return latest_model(store, dataset)
    reg = registered_models(store)
    return None if reg.empty else reg.sort_values("created_at").iloc[-1]


def serving_model_dir(settings: Settings) -> Path:
    """The folder of the model scoring should use when none is named: the active model,
    else the newest registered one.

    Raises
    ------
    DataError
        When the store holds no registered model (the message gives the command).
    """
    with Store(settings.resolved_store_path) as store:
        row = serving_model(store)
    if row is None:
        raise DataError(
            "no model given and none registered in the store; train one with "
            "`riskmoe train --dataset NAME --out DIR` or pass --model DIR."
        )
    return Path(str(row["path"]))


@dataclass(frozen=True)
class ScoreResult:
    """Where scores went and a summary of them."""

    output: Path
    rows: int
    mean_pd: float
    tier_counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "output": str(self.output),
            "rows": self.rows,
            "mean_pd": self.mean_pd,
            "tier_counts": self.tier_counts,
        }


def score_frame(
    model: MoERiskClassifier | OnnxMoEScorer,
    frame: pd.DataFrame,
    *,
    explain: bool = False,
    scale: MasterScale | None = None,
) -> pd.DataFrame:
    """The input with ``pd``, ``grade`` and ``tier`` (and reason codes with ``explain``).

    Raises
    ------
    SchemaError
        When a column the model was trained on is missing (the message names them).
    """
    names = list(model.feature_names_in_)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"the input lacks {len(missing)} column(s) the model was trained on: {missing[:10]}."
        )
    proba = model.predict_proba(frame[names])[:, 1]
    out = frame.copy()
    out["pd"] = proba
    out["grade"], out["tier"] = _grades(proba, scale or MasterScale())
    if explain:
        if not isinstance(model, MoERiskClassifier):
            raise ValueError("reason codes (--explain) need the PyTorch model; drop --format onnx.")
        reasons = model.explain(frame[names]).to_frame()
        for col in [c for c in reasons.columns if c.startswith("reason_")]:
            out[col] = reasons[col].to_numpy()
    return out


def _grades(proba: np.ndarray, scale: MasterScale) -> tuple[np.ndarray, np.ndarray]:
    """Master-scale grades (int) and tiers (str) of PDs: one mapping for frames and records."""
    return np.asarray(scale.grade(proba)).astype(int), np.asarray(scale.tier(proba)).astype(str)


class RecordScores(NamedTuple):
    """PDs, grades and tiers of scored records, one entry per record."""

    pd: np.ndarray
    grade: np.ndarray
    tier: np.ndarray


def score_records(
    scorer: RecordScorer,
    records: Sequence[Mapping[str, Any]],
    *,
    scale: MasterScale | None = None,
) -> RecordScores:
    """:func:`score_frame` for records (field -> value mappings) without building a frame:
    the same calibrated PDs (bit for bit, for the same batch), grades and tiers.

    Raises
    ------
    SchemaError
        A record lacks a field the model was trained on, holds text in a numeric field,
        or produced no finite PD.
    """
    proba = scorer.predict_proba(records)
    if not np.isfinite(proba).all():
        raise SchemaError("a record produced no finite PD; check its values.")
    grade, tier = _grades(proba, scale or MasterScale())
    return RecordScores(proba, grade, tier)


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def score_file(
    model_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    *,
    explain: bool = False,
    model_format: str = "torch",
) -> ScoreResult:
    """Score a file with a saved model and write the scores (CSV or Parquet) atomically.

    ``model_format``: ``"torch"`` (the saved model), ``"onnx"`` or ``"onnx-int8"`` (its
    export from ``riskmoe export``, scored by onnxruntime with the same preprocessing).
    """
    out = Path(output_path)
    if out.suffix.lower() not in _SCORE_SUFFIXES:
        raise DataFormatError(f"--out must end in .csv or .parquet; got {out.name!r}.")
    if model_format not in SCORING_FORMATS:
        raise ValueError(
            f"unknown model format {model_format!r}; allowed: {', '.join(SCORING_FORMATS)}."
        )
    model: MoERiskClassifier | OnnxMoEScorer
    if model_format == "torch":
        model = MoERiskClassifier.load(model_dir)
    else:
        model = open_onnx_scorer(model_dir, model_format)
    frame = read_table(input_path)
    scored = score_frame(model, frame, explain=explain)
    _write_atomic(scored, out)
    tiers = scored["tier"].value_counts()
    return ScoreResult(
        out, len(scored), float(scored["pd"].mean()), {str(k): int(v) for k, v in tiers.items()}
    )
