"""``riskmoe run``: the end-to-end job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe import workflow
from riskmoe.cli._app import (
    JsonOpt,
    OptionOpt,
    app,
    handles_errors,
    load_settings,
    out,
    parse_options,
    print_json,
    progress_bar,
)


@app.command("run")
@handles_errors
def run(
    dataset: Annotated[str, typer.Option(help="Dataset with a binary target.")] = "german_credit",
    report: Annotated[
        Path | None, typer.Option(help="Report path (default: $RISKMOE_HOME/report.html).")
    ] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The end-to-end job: ingest, clean, fit, evaluate, write the HTML report."""
    settings = load_settings()
    config = workflow.RunConfig(
        dataset=dataset, dataset_options=parse_options(option), report_path=report
    )
    with progress_bar() as progress:
        task = progress.add_task("run", total=len(workflow.default_stages()))

        def on_stage(i: int, total: int, stage: workflow.Stage) -> None:
            progress.update(task, completed=i, total=total, description=stage.description)

        result = workflow.run(settings, config, on_stage=on_stage)
        progress.update(task, completed=progress.tasks[0].total, description="done")
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"{result.dataset}: held-out test split ({result.n_test:,} rows)")
    for col in ("model", "AUC", "Gini", "KS"):
        table.add_column(col, justify="right")
    for name, m in result.metrics.items():
        table.add_row(name, f"{m.auc:.4f}", f"{m.gini:.4f}", f"{m.ks:.4f}")
    out.print(table)
    out.print(f"report: {result.report_path}")
