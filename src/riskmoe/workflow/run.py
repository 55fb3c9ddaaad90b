"""The end-to-end job ``run``: a list of named stages over one :class:`RunContext`.

Each stage reads what earlier stages left in the context and may add a report section.
Later capabilities extend the job by adding stages (see :func:`default_stages`), not by
editing a long function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskmoe.config import Settings
from riskmoe.data.store import Store, TableVersion
from riskmoe.evaluation import DiscriminationReport
from riskmoe.reporting import Report, write_html
from riskmoe.workflow.context import RunConfig, RunContext, Stage
from riskmoe.workflow.stages_advice import stage_advice
from riskmoe.workflow.stages_credit import stage_credit
from riskmoe.workflow.stages_data import stage_clean, stage_ingest, stage_load
from riskmoe.workflow.stages_market import stage_market
from riskmoe.workflow.stages_models import stage_evaluate, stage_explain, stage_fit
from riskmoe.workflow.stages_monitor import stage_monitor

__all__ = ["RunConfig", "RunContext", "RunResult", "Stage", "default_stages", "run"]


@dataclass(frozen=True)
class RunResult:
    """The outcome of ``run``."""

    dataset: str
    report_path: Path
    metrics: Mapping[str, DiscriminationReport]
    versions: Mapping[str, TableVersion]
    n_train: int
    n_test: int
    results: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "dataset": self.dataset,
            "report_path": str(self.report_path),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "versions": {k: v.to_dict() for k, v in self.versions.items()},
            "n_train": self.n_train,
            "n_test": self.n_test,
            "results": dict(self.results),
        }


def stage_report(ctx: RunContext) -> None:
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
        Stage("load", "load the dataset", stage_load),
        Stage("ingest", "ingest into the store", stage_ingest),
        Stage("clean", "split and clean (fitted on train)", stage_clean),
        Stage("fit", "fit the MoE, LightGBM and logistic models", stage_fit),
        Stage("evaluate", "evaluate on the test split", stage_evaluate),
        Stage("explain", "expert utilisation and reason codes", stage_explain),
        Stage("credit", "grades, expected loss and capital", stage_credit),
        Stage("market", "market risk: VaR, ES and backtests", stage_market),
        Stage("monitor", "replay held-out cases as a stream: drift, alerts", stage_monitor),
        Stage("advice", "pricing, limits and recommendations", stage_advice),
        Stage("report", "write the HTML report", stage_report),
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
        results=dict(ctx.results),
    )
