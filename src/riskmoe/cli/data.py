"""``riskmoe data ...`` and ``riskmoe clean``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe import workflow
from riskmoe.cli._app import (
    JsonOpt,
    OptionOpt,
    app,
    data_app,
    err,
    fail,
    handles_errors,
    load_settings,
    out,
    parse_options,
    print_json,
    progress_bar,
)
from riskmoe.data import list_datasets, load_dataset
from riskmoe.exceptions import RiskMoEError


@data_app.command("list")
@handles_errors
def data_list(
    as_json: JsonOpt = False,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Load each dataset and count its rows.")
    ] = True,
) -> None:
    """List every registered dataset, verifying its row count by loading it."""
    settings = load_settings()
    infos = list_datasets()
    records = []
    with progress_bar() as progress:
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
        print_json(records)
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
    ds = load_dataset(name, settings=load_settings(), **parse_options(option))
    if as_json:
        print_json(
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
    settings = load_settings()
    with err.status(f"ingesting {source}"):
        version = workflow.ingest(
            source, settings, name=name, target=target, **parse_options(option)
        )
    if as_json:
        print_json(version.to_dict())
        return
    verb = "stored" if version.created else "unchanged (same content)"
    out.print(
        f"{version.name} v{version.version}: {verb}, {version.rows:,} rows, "
        f"{len(version.columns)} columns, sha256 {version.sha256[:12]} "
        f"-> {settings.resolved_store_path}"
    )


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
        fail(f"--report must end in .html or .json; got {report.name!r}.")
    with err.status(f"cleaning {name}"):
        result = workflow.clean_dataset(name, load_settings(), **parse_options(option))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        text = (
            json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2)
            if report.suffix.lower() == ".json"
            else result.report.to_html()
        )
        report.write_text(text, encoding="utf-8")
    if as_json:
        print_json(result.to_dict())
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
