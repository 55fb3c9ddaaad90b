"""What the stages of ``run`` share: the configuration, the context and the stage type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from riskmoe.cleaning import CleaningPipeline
from riskmoe.config import Settings
from riskmoe.data import Dataset
from riskmoe.data.store import Store, TableVersion
from riskmoe.evaluation import DiscriminationReport
from riskmoe.reporting import Section

__all__ = ["RunConfig", "RunContext", "Stage"]


@dataclass(frozen=True)
class RunConfig:
    """Options of the end-to-end job.

    Parameters
    ----------
    dataset : str
        A registered dataset with a binary target.
    dataset_options : mapping
        Options for :func:`load_dataset` (e.g. ``{"year": 5}``).
    test_size : float
        Share of rows held out (stratified) for evaluation.
    report_path : Path or None
        Where the HTML report goes; ``settings.home / "report.html"`` by default.
    """

    dataset: str = "german_credit"
    dataset_options: Mapping[str, Any] = field(default_factory=dict)
    test_size: float = 0.3
    report_path: Path | None = None

    def __post_init__(self) -> None:
        if not 0.05 <= self.test_size <= 0.5:
            raise ValueError(f"test_size must be in [0.05, 0.5]; got {self.test_size}.")


@dataclass
class RunContext:
    """Shared state of one ``run``; stages read and add to it."""

    settings: Settings
    config: RunConfig
    store: Store
    dataset: Dataset | None = None
    X_train: pd.DataFrame | None = None
    X_test: pd.DataFrame | None = None
    y_train: pd.Series | None = None
    y_test: pd.Series | None = None
    cleaning: CleaningPipeline | None = None
    models: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict[str, DiscriminationReport] = field(default_factory=dict)
    versions: dict[str, TableVersion] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    report_path: Path | None = None

    def require(self, *names: str) -> None:
        """Fail clearly when a stage runs before the stage that fills ``names``."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise RuntimeError(f"stage order: {missing} not set by an earlier stage.")


class Stage(NamedTuple):
    """A named step of ``run``."""

    name: str
    description: str
    fn: Callable[[RunContext], None]
