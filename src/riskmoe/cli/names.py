"""``riskmoe resolve`` and ``ask``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe.cli._app import (
    JsonOpt,
    app,
    err,
    fail,
    handles_errors,
    load_settings,
    out,
    print_json,
)
from riskmoe.exceptions import RiskMoEError
from riskmoe.workflow import ask as ask_job
from riskmoe.workflow import names as name_jobs


@app.command("resolve")
@handles_errors
def resolve(
    queries: Annotated[list[str] | None, typer.Argument(help="Names, codes or questions.")] = None,
    file: Annotated[Path | None, typer.Option(help="A text file with one query per line.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the company behind each query, or abstain with candidates."""
    items = list(queries or [])
    if file is not None:
        if not file.is_file():
            fail(f"file not found: {file}.")
        lines = file.read_text(encoding="utf-8").splitlines()
        items += [line.strip() for line in lines if line.strip()]
    if not items:
        fail("give one or more queries, or --file.")
    with err.status("loading the entity base"):
        resolver = name_jobs.resolver(load_settings())
    for q in items:
        try:
            r = resolver.resolve(q)
        except RiskMoEError as exc:
            if as_json:
                sys.stdout.write(json.dumps({"query": q, "error": str(exc)}, ensure_ascii=False))
                sys.stdout.write("\n")
            else:
                err.print(f"[red]{q!r}:[/] {exc}", highlight=False)
            continue
        if as_json:
            d = r.to_dict()
            line = {k: d[k] for k in ("query", "code", "name", "score", "abstained", "candidates")}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        elif r.abstained:
            cands = ", ".join(f"{c.code} {c.name} ({c.score:.2f})" for c in r.candidates[:5])
            out.print(f"{q} -> [yellow]not sure[/]" + (f"; candidates: {cands}" if cands else ""))
        else:
            out.print(f"{q} -> [bold]{r.code}[/] {r.name} (score {r.score:.2f}, {r.method})")


@app.command("ask")
@handles_errors
def ask(
    question: Annotated[str, typer.Argument(help="A risk question, e.g. 茅台的流动性风险怎么样？")],
    as_json: JsonOpt = False,
) -> None:
    """Answer a risk question about a company with the stored numbers and their sources."""
    with err.status("resolving and looking up"):
        answer = ask_job.ask(question, load_settings())
    if as_json:
        print_json(answer.to_dict())
        return
    q = answer.question
    if q.entity.abstained or q.entity.code is None:
        cands = ", ".join(f"{c.code} {c.name}" for c in q.entity.candidates[:5])
        out.print("Which company do you mean?" + (f" Candidates: {cands}" if cands else ""))
        return
    period = q.period.text or "latest available"
    out.print(f"[bold]{q.entity.code} {q.entity.name}[/] — {q.risk_type} risk, period: {period}")
    if answer.facts:
        table = Table()
        for col in ("risk", "measure", "value", "period", "source", "note"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for f in answer.facts:
            v = f.value
            shown = f"{v:,.4f}" if isinstance(v, float) else str(v)
            table.add_row(f.risk_type, f.label, shown, f.period, f.source, f.note)
        out.print(table)
    for g in answer.gaps:
        how = f" — {g.command}" if g.command else ""
        out.print(f"[yellow]missing ({g.risk_type}):[/] {g.missing}{how}")
