"""The ``riskmoe`` command line: parse, call the workflow, print. No logic lives here."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskmoe import workflow
from riskmoe.config import Settings
from riskmoe.data import list_datasets, load_dataset
from riskmoe.exceptions import RiskMoEError

app = typer.Typer(
    help="riskmoe: financial risk management built around a Mixture-of-Experts model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="List, inspect and ingest datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Dataset option KEY=VALUE (repeatable), e.g. year=5."),
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def handles_errors(fn: F) -> F:
    """Turn riskmoe's own errors into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RiskMoEError as exc:
            _fail(str(exc))
        except ValidationError as exc:
            _fail(f"invalid setting: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename}")
        except ValueError as exc:  # argument validation (e.g. test_size) raises ValueError
            _fail(str(exc))
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("RISKMOE_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}. This is a bug in "
                "riskmoe; rerun with RISKMOE_DEBUG=1 for the traceback and report it.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=1) from None
        return None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return Settings()


def _parse_options(items: list[str] | None) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            _fail(f"--option takes KEY=VALUE; got {item!r}.")
        key, value = item.split("=", 1)
        parsed: Any = value
        try:
            parsed = int(value)
        except ValueError:
            pass
        opts[key.strip()] = parsed
    return opts


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------


@data_app.command("list")
@handles_errors
def data_list(
    as_json: JsonOpt = False,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Load each dataset and count its rows.")
    ] = True,
) -> None:
    """List every registered dataset, verifying its row count by loading it."""
    settings = _settings()
    infos = list_datasets()
    records = []
    with _progress() as progress:
        task = progress.add_task("checking datasets", total=len(infos) if verify else 0)
        for info in infos:
            rec = info.to_dict()
            if verify:
                progress.update(task, description=f"loading {info.name}")
                try:
                    ds = load_dataset(info.name, settings=settings)
                    rec.update(
                        rows=ds.meta.n_rows,
                        columns=ds.meta.n_columns,
                        positive_rate=ds.meta.positive_rate,
                        origin=ds.meta.origin,
                        rows_match_documented=(
                            None
                            if info.documented_rows is None
                            else ds.meta.n_rows == info.documented_rows
                        ),
                        error=None,
                    )
                except RiskMoEError as exc:
                    rec.update(rows=None, error=str(exc), rows_match_documented=False)
                progress.advance(task)
            records.append(rec)
    if as_json:
        _print_json(records)
        return
    table = Table(title="riskmoe datasets")
    for col in ("name", "kind", "rows", "documented", "ok", "positive rate", "from", "license"):
        table.add_column(
            col, justify="right" if col in ("rows", "documented", "positive rate") else "left"
        )
    for r in records:
        ok = r.get("rows_match_documented")
        table.add_row(
            r["name"],
            r["kind"],
            "" if r.get("rows") is None else f"{r['rows']:,}",
            "" if r["documented_rows"] is None else f"{r['documented_rows']:,}",
            {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[ok] if verify else "",
            "" if r.get("positive_rate") is None else f"{r['positive_rate']:.2%}",
            r.get("origin", ""),
            r["license"],
        )
    out.print(table)
    failed = [r["name"] for r in records if r.get("error")]
    if failed:
        err.print(f"[yellow]could not load:[/] {', '.join(failed)}")


@data_app.command("show")
@handles_errors
def data_show(
    name: Annotated[str, typer.Argument(help="Dataset name (see `riskmoe data list`).")],
    option: OptionOpt = None,
    as_json: JsonOpt = False,
    rows: Annotated[int, typer.Option(help="Rows of the head to print.")] = 5,
) -> None:
    """Show a dataset's provenance, feature groups and first rows."""
    ds = load_dataset(name, settings=_settings(), **_parse_options(option))
    if as_json:
        _print_json(
            {
                "name": ds.name,
                "target": ds.target,
                "feature_groups": {k: list(v) for k, v in ds.feature_groups.items()},
                "meta": ds.meta.to_dict(),
                "dtypes": {c: str(t) for c, t in ds.frame.dtypes.items()},
                "head": json.loads(
                    ds.frame.head(rows).to_json(orient="records", date_format="iso")
                ),
            }
        )
        return
    m = ds.meta
    out.print(
        f"[bold]{ds.name}[/]  {m.n_rows:,} rows x {m.n_columns} columns, read from {m.origin}"
    )
    out.print(f"source: {m.source}\nlicense: {m.license}\ncitation: {m.citation}")
    if ds.target:
        out.print(f"target: {ds.target} (positive rate {m.positive_rate:.2%})")
    for note in m.notes:
        out.print(f"[yellow]note:[/] {note}")
    groups = Table(title="feature groups")
    groups.add_column("group")
    groups.add_column("columns")
    for g, cols in ds.feature_groups.items():
        groups.add_row(g, ", ".join(cols))
    out.print(groups)
    out.print(ds.frame.head(rows).to_string(max_cols=12))


@data_app.command("ingest")
@handles_errors
def data_ingest(
    source: Annotated[
        str, typer.Argument(help="A dataset name or a file path (CSV, Parquet, ARFF, XLSX, JSON).")
    ],
    name: Annotated[str | None, typer.Option(help="Table name in the store.")] = None,
    target: Annotated[str | None, typer.Option(help="Require this 0/1 target column.")] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a dataset or a file into the store (one transaction, versioned)."""
    settings = _settings()
    with err.status(f"ingesting {source}"):
        version = workflow.ingest(
            source, settings, name=name, target=target, **_parse_options(option)
        )
    if as_json:
        _print_json(version.to_dict())
        return
    verb = "stored" if version.created else "unchanged (same content)"
    out.print(
        f"{version.name} v{version.version}: {verb}, {version.rows:,} rows, "
        f"{len(version.columns)} columns, sha256 {version.sha256[:12]} "
        f"-> {settings.resolved_store_path}"
    )


# ---------------------------------------------------------------------------------------
# clean, run
# ---------------------------------------------------------------------------------------


@app.command("clean")
@handles_errors
def clean(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    report: Annotated[
        Path | None, typer.Option(help="Write the cleaning report (.html or .json).")
    ] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the cleaning pipeline on a dataset and store the cleaned table."""
    if report is not None and report.suffix.lower() not in (".html", ".json"):
        _fail(f"--report must end in .html or .json; got {report.name!r}.")
    with err.status(f"cleaning {name}"):
        result = workflow.clean_dataset(name, _settings(), **_parse_options(option))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        text = (
            json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2)
            if report.suffix.lower() == ".json"
            else result.report.to_html()
        )
        report.write_text(text, encoding="utf-8")
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table(title=f"cleaning {name}")
    for col in ("step", "rows before", "rows after", "cells changed"):
        table.add_column(col)
    for s in result.report.to_dict()["steps"]:
        table.add_row(
            s["step"], f"{s['rows_before']:,}", f"{s['rows_after']:,}", f"{s['cells_changed']:,}"
        )
    out.print(table)
    v = result.version
    out.print(
        f"stored {v.name} v{v.version} ({v.rows:,} rows)"
        + (f"; report: {report}" if report else "")
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
    settings = _settings()
    config = workflow.RunConfig(
        dataset=dataset, dataset_options=_parse_options(option), report_path=report
    )
    with _progress() as progress:
        task = progress.add_task("run", total=len(workflow.default_stages()))

        def on_stage(i: int, total: int, stage: workflow.Stage) -> None:
            progress.update(task, completed=i, total=total, description=stage.description)

        result = workflow.run(settings, config, on_stage=on_stage)
        progress.update(task, completed=progress.tasks[0].total, description="done")
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table(title=f"{result.dataset}: held-out test split ({result.n_test:,} rows)")
    for col in ("model", "AUC", "Gini", "KS"):
        table.add_column(col, justify="right")
    for name, m in result.metrics.items():
        table.add_row(name, f"{m.auc:.4f}", f"{m.gini:.4f}", f"{m.ks:.4f}")
    out.print(table)
    out.print(f"report: {result.report_path}")


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()
