"""The end-to-end job ``run``.

``run`` is a list of named stages sharing one :class:`RunContext`; each stage reads
what earlier stages left there and may add a report section. Later capabilities
extend the job by adding stages (see :func:`default_stages`), not by editing a long
function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve
from sklearn.model_selection import train_test_split

from riskmoe.cleaning import CleaningPipeline
from riskmoe.config import Settings
from riskmoe.data import Dataset, load_dataset
from riskmoe.data.store import Store, TableVersion
from riskmoe.evaluation import DiscriminationReport, discrimination
from riskmoe.exceptions import SchemaError
from riskmoe.models.baselines import make_logistic, positive_scores
from riskmoe.reporting import Figure, Report, Section, Table, Trace, write_html

__all__ = ["RunConfig", "RunContext", "RunResult", "Stage", "default_stages", "run"]


# ---------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class RunResult:
    """The outcome of ``run``."""

    dataset: str
    report_path: Path
    metrics: Mapping[str, DiscriminationReport]
    versions: Mapping[str, TableVersion]
    n_train: int
    n_test: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "dataset": self.dataset,
            "report_path": str(self.report_path),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "versions": {k: v.to_dict() for k, v in self.versions.items()},
            "n_train": self.n_train,
            "n_test": self.n_test,
        }


def _stage_load(ctx: RunContext) -> None:
    ds = load_dataset(ctx.config.dataset, settings=ctx.settings, **dict(ctx.config.dataset_options))
    if ds.target is None:
        raise SchemaError(
            f"dataset {ds.name!r} has no binary target; `run` needs one (e.g. german_credit)."
        )
    ctx.dataset = ds
    m = ds.meta
    rows: list[list[Any]] = [
        ["dataset", ds.name],
        ["rows", m.n_rows],
        ["columns", m.n_columns],
        ["target", ds.target],
        ["positive rate", m.positive_rate],
        ["read from", m.origin],
        ["source", m.source],
        ["license", m.license],
    ]
    groups = [[g, len(cols), ", ".join(cols)] for g, cols in ds.feature_groups.items()]
    ctx.sections.append(
        Section(
            "data",
            "Data",
            summary=m.citation + (" " + " ".join(m.notes) if m.notes else ""),
            tables=(
                Table("Dataset", ["field", "value"], rows),
                Table("Feature groups (expert views)", ["group", "columns", "names"], groups),
            ),
        )
    )


def _stage_ingest(ctx: RunContext) -> None:
    ctx.require("dataset")
    assert ctx.dataset is not None
    ctx.versions["raw"] = ctx.store.ingest(ctx.dataset.name, ctx.dataset.frame)


def _stage_clean(ctx: RunContext) -> None:
    ctx.require("dataset")
    assert ctx.dataset is not None
    X, y = ctx.dataset.X_y()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=ctx.config.test_size, stratify=y, random_state=ctx.settings.random_state
    )
    pipe = CleaningPipeline.default()
    X_tr = pipe.fit_transform(X_tr)
    y_tr = y_tr.loc[pipe.kept_index_]
    train_report = pipe.report_
    X_te = pipe.transform(X_te)
    y_te = y_te.loc[pipe.kept_index_]
    ctx.X_train, ctx.X_test, ctx.y_train, ctx.y_test, ctx.cleaning = X_tr, X_te, y_tr, y_te, pipe
    stored = X_tr.assign(**{ctx.dataset.target or "target": y_tr.to_numpy()})
    ctx.versions["clean_train"] = ctx.store.ingest(
        f"{ctx.dataset.name}_clean_train", stored.reset_index(drop=True)
    )
    steps = [
        [s.name, s.step, s.rows_before, s.rows_after, s.cells_changed] for s in train_report.steps
    ]
    changed = [
        [
            s.name,
            c.column,
            c.status,
            c.cells_changed,
            c.missing_before,
            c.missing_after,
            c.min_before,
            c.max_before,
            c.min_after,
            c.max_after,
        ]
        for s in train_report.steps
        for c in s.columns
        if c.touched
    ]
    ctx.sections.append(
        Section(
            "cleaning",
            "Data quality and cleaning",
            summary=(
                "The cleaning pipeline was fitted on the training split only "
                f"({len(X_tr):,} rows kept) and applied unchanged to the test split "
                f"({len(X_te):,} rows)."
            ),
            tables=(
                Table(
                    "Steps (training split)",
                    ["step", "kind", "rows before", "rows after", "cells changed"],
                    steps,
                ),
                Table(
                    "Columns changed",
                    [
                        "step",
                        "column",
                        "status",
                        "cells changed",
                        "missing before",
                        "missing after",
                        "min before",
                        "max before",
                        "min after",
                        "max after",
                    ],
                    changed,
                    note="Columns not listed were unchanged by every step.",
                ),
            ),
            figures=(
                Figure(
                    "Cells changed per step",
                    [Trace("cells", [s[0] for s in steps], [s[4] for s in steps])],
                    x_label="step",
                    y_label="cells",
                    kind="bar",
                ),
            ),
        )
    )


def _stage_fit_baselines(ctx: RunContext) -> None:
    ctx.require("X_train", "y_train")
    ctx.models["logistic"] = make_logistic(random_state=ctx.settings.random_state).fit(
        ctx.X_train, ctx.y_train
    )


def _stage_evaluate(ctx: RunContext) -> None:
    ctx.require("X_test", "y_test", "dataset")
    assert ctx.X_test is not None and ctx.y_test is not None and ctx.dataset is not None
    y = ctx.y_test.to_numpy()
    roc_traces = [Trace("chance", [0, 1], [0, 1], dash="dot")]
    rows = []
    for name, model in ctx.models.items():
        s = positive_scores(model, ctx.X_test)
        ctx.scores[name] = s
        rep = discrimination(y, s)
        ctx.metrics[name] = rep
        fpr, tpr, _ = roc_curve(y, s)
        roc_traces.append(
            Trace(f"{name} (AUC {rep.auc:.3f})", fpr.round(5).tolist(), tpr.round(5).tolist())
        )
        rows.append([name, rep.auc, rep.gini, rep.ks, rep.n, rep.positives])
    scores = pd.DataFrame({"row": ctx.X_test.index.to_numpy(), "y": y})
    for name, s in ctx.scores.items():
        scores[f"score_{name}"] = s
    ctx.versions["scores"] = ctx.store.ingest(f"{ctx.dataset.name}_scores", scores)
    ks_figs = [_ks_figure(name, y, s) for name, s in ctx.scores.items()]
    ctx.sections.append(
        Section(
            "evaluation",
            "Model evaluation (held-out test split)",
            summary=(
                "AUC, Gini (2·AUC − 1) and KS (max gap between the score distributions "
                "of bads and goods)."
            ),
            tables=(Table("Discrimination", ["model", "AUC", "Gini", "KS", "rows", "bads"], rows),),
            figures=(
                Figure(
                    "ROC curve",
                    roc_traces,
                    "false positive rate",
                    "true positive rate",
                    square=True,
                ),
                *ks_figs,
            ),
        )
    )


def _ks_figure(name: str, y: np.ndarray, s: np.ndarray) -> Figure:
    grid = np.quantile(s, np.linspace(0, 1, 101))
    bad = np.searchsorted(np.sort(s[y == 1]), grid, side="right") / max((y == 1).sum(), 1)
    good = np.searchsorted(np.sort(s[y == 0]), grid, side="right") / max((y == 0).sum(), 1)
    return Figure(
        f"KS plot — {name}",
        [
            Trace("bads", grid.round(5).tolist(), bad.round(5).tolist()),
            Trace("goods", grid.round(5).tolist(), good.round(5).tolist()),
        ],
        x_label="score",
        y_label="cumulative share",
    )


def _stage_report(ctx: RunContext) -> None:
    ctx.require("dataset")
    assert ctx.dataset is not None
    path = ctx.config.report_path or ctx.settings.home / "report.html"
    lineage: dict[str, Any] = {
        f"table {v.table_name}": f"{v.rows:,} rows, sha256 {v.sha256}"
        for v in ctx.versions.values()
    }
    lineage["store"] = str(ctx.settings.resolved_store_path)
    lineage.update({f"file {k}": v for k, v in ctx.dataset.meta.files.items()})
    report = Report(
        title=f"riskmoe run — {ctx.dataset.name}",
        generated_at=datetime.now(UTC),
        lineage=lineage,
        sections=tuple(ctx.sections),
    )
    ctx.report_path = write_html(report, path)


def default_stages() -> list[Stage]:
    """The stages of ``run``, in order; later capabilities insert theirs."""
    return [
        Stage("load", "load the dataset", _stage_load),
        Stage("ingest", "ingest into the store", _stage_ingest),
        Stage("clean", "split and clean (fitted on train)", _stage_clean),
        Stage("fit", "fit baseline models", _stage_fit_baselines),
        Stage("evaluate", "evaluate on the test split", _stage_evaluate),
        Stage("report", "write the HTML report", _stage_report),
    ]


def run(
    settings: Settings,
    config: RunConfig | None = None,
    *,
    stages: Sequence[Stage] | None = None,
    on_stage: Callable[[int, int, Stage], None] | None = None,
) -> RunResult:
    """Run the end-to-end job: ingest, clean, fit, evaluate, report.

    Parameters
    ----------
    settings : Settings
    config : RunConfig, optional
    stages : sequence of Stage, optional
        Defaults to :func:`default_stages`.
    on_stage : callable, optional
        Called as ``on_stage(index, total, stage)`` before each stage (progress bars).
    """
    config = config or RunConfig()
    stages = list(stages) if stages is not None else default_stages()
    settings.home.mkdir(parents=True, exist_ok=True)
    with Store(settings.resolved_store_path) as store:
        ctx = RunContext(settings=settings, config=config, store=store)
        for i, stage in enumerate(stages):
            if on_stage is not None:
                on_stage(i, len(stages), stage)
            stage.fn(ctx)
    if ctx.report_path is None or ctx.dataset is None:
        raise RuntimeError("run ended without a report: the stage list has no report stage.")
    return RunResult(
        dataset=ctx.dataset.name,
        report_path=ctx.report_path,
        metrics=dict(ctx.metrics),
        versions=dict(ctx.versions),
        n_train=0 if ctx.X_train is None else len(ctx.X_train),
        n_test=0 if ctx.X_test is None else len(ctx.X_test),
    )
