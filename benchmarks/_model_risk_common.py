"""Shared plumbing of the model-risk benchmarks (privacy, ensembles, extension, pre-training).

The folds are the credit benchmark's (``benchmarks/credit_models.py``): the first repeat of
:func:`riskmoe.evaluation.cv_splits` with 5 stratified folds and seed ``Settings().random_state``
(0), the training fold cut to a stratified subsample of ``max_train_rows``; these scripts run
only the first few folds to stay within ~10 minutes on a busy 2-core machine.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.evaluation import cv_splits
from riskmoe.evaluation.cv import FoldSplit

RESULTS = Path(__file__).resolve().parent / "results"


def load_credit(
    name: str, settings: Settings
) -> tuple[pd.DataFrame, pd.Series, dict[str, list[str]]]:
    """Features, 0/1 target and feature groups of a credit dataset."""
    ds = load_dataset(name, settings=settings)
    X, y = ds.X_y()
    return X, y.astype(int), {k: list(v) for k, v in ds.feature_groups.items()}


def credit_folds(y: pd.Series, n_folds: int, max_train_rows: int | None) -> tuple[FoldSplit, ...]:
    """The first ``n_folds`` of the credit benchmark's 5-fold split (seed 0)."""
    folds = cv_splits(
        y.to_numpy(), n_splits=5, n_repeats=1, random_state=0, max_train_rows=max_train_rows
    )
    return folds[:n_folds]


def one_thread() -> Any:
    """BLAS / OpenMP / torch intra-op threads = 1 (as the credit benchmark: faster when busy)."""
    import torch

    torch.set_num_threads(1)
    return threadpool_limits(1)


def versions() -> dict[str, str]:
    """Library versions for the results' metadata."""
    from importlib import metadata

    out = {}
    for pkg in ("torch", "opacus", "lightgbm", "scikit-learn", "numpy", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def machine() -> str:
    """A one-line description of this machine."""
    return f"{os.cpu_count()} core(s), {platform.machine()}, Python {platform.python_version()}"


def write_results(name: str, payload: Mapping[str, Any], markdown: Sequence[str]) -> list[Path]:
    """Write ``results/<name>.json`` and ``results/<name>.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    json_path.write_text(json.dumps(payload, indent=1, default=_default) + "\n")
    md_path.write_text("\n".join(markdown).rstrip() + "\n")
    return [json_path, md_path]


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def mean_std(values: Sequence[float]) -> str:
    """``mean ± std`` with four decimals (std 0 for one value)."""
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return f"{arr.mean():.4f} ± {std:.4f}"


class Timer:
    """Wall-clock seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
