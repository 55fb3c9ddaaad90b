"""``riskmoe serve``, ``riskmoe keys create|list|revoke`` and ``riskmoe report``."""

from __future__ import annotations

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
from riskmoe.data.store import Store
from riskmoe.workflow import audit as audit_jobs
from riskmoe.workflow import keys as key_jobs

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command("serve")
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface; loopback unless you mean it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    rate_limit: Annotated[float, typer.Option(help="Requests/s per key.")] = 50.0,
    burst: Annotated[float, typer.Option(help="Burst per key.")] = 100.0,
    max_in_flight: Annotated[int, typer.Option(help="Concurrent requests before 503.")] = 64,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes.")] = 4_000_000,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allowed browser origin (repeatable); off by default.")
    ] = None,
    no_dashboard: Annotated[bool, typer.Option(help="Serve the API only.")] = False,
) -> None:
    """Start the API and dashboard (uvicorn, one process: DuckDB allows one writer)."""
    import uvicorn

    from riskmoe.service import ServiceConfig, create_app

    config = ServiceConfig(
        rate_per_second=rate_limit,
        burst=burst,
        max_in_flight=max_in_flight,
        max_body_bytes=max_body,
        cors_origins=list(cors_origin or []),
    )
    application = create_app(load_settings(), config, warm=True, dashboard=not no_dashboard)
    err.print(f"riskmoe service on http://{host}:{port} (dashboard at /, API docs at /docs)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # the audit log records who did what, without query strings
        backlog=2048,
        timeout_keep_alive=30,
    )


def _audit(store: Store, action: str, detail: str) -> None:
    audit_jobs.record_events(store, [audit_jobs.AuditEvent("cli", "admin", action, 0, detail)])


@keys_app.command("create")
@handles_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    as_json: JsonOpt = False,
) -> None:
    """Create a key; its token is printed once (only its hash is stored)."""
    if role not in key_jobs.ROLES:
        fail(f"unknown role {role!r}; choose one of {', '.join(key_jobs.ROLES)}.")
    with Store(load_settings().resolved_store_path) as store:
        new = key_jobs.create_key(store, name, role)
        _audit(store, "keys.create", new.key.key_id)
    if as_json:
        print_json(new.to_dict())
        return
    out.print(f"created key {new.key.key_id} ({role}) for {name}. Token (shown once):")
    out.print(new.token, highlight=False, soft_wrap=True)


@keys_app.command("list")
@handles_errors
def keys_list(as_json: JsonOpt = False) -> None:
    """Every key with its role and whether it is revoked (never a secret)."""
    with Store(load_settings().resolved_store_path) as store:
        found = key_jobs.list_keys(store)
    if as_json:
        print_json([k.to_dict() for k in found])
        return
    table = Table(title="API keys")
    for col in ("key id", "name", "role", "created", "revoked"):
        table.add_column(col)
    for k in found:
        revoked = "" if k.revoked_at is None else f"{k.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(k.key_id, k.name, k.role, f"{k.created_at:%Y-%m-%d %H:%M}", revoked)
    out.print(table)


@keys_app.command("revoke")
@handles_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (rmk_<key id>.…).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key; the service refuses it within seconds."""
    with Store(load_settings().resolved_store_path) as store:
        key = key_jobs.revoke_key(store, key_id)
        _audit(store, "keys.revoke", key_id)
    if as_json:
        print_json(key.to_dict())
        return
    out.print(f"revoked key {key.key_id} ({key.role}, {key.name}).")


@app.command("report")
@handles_errors
def report(
    out_path: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    run_job: Annotated[
        bool,
        typer.Option("--run", help="Run the end-to-end job first (minutes) and write its report."),
    ] = False,
    dataset: Annotated[
        str, typer.Option(help="Dataset of the run (with --run).")
    ] = "german_credit",
    as_json: JsonOpt = False,
) -> None:
    """Write one self-contained HTML report: by default re-rendered from the results the
    store holds (portfolios, models, grades, alerts, cleaning, lineage); with --run, the
    report of a fresh `riskmoe run`."""
    from riskmoe.reporting import write_html
    from riskmoe.workflow.run import RunConfig, run
    from riskmoe.workflow.service_jobs import stored_report

    if out_path.suffix.lower() not in (".html", ".htm"):
        fail(f"--out must end in .html; got {out_path.name!r}.")
    settings = load_settings()
    if run_job:
        with err.status(f"running the end-to-end job on {dataset}"):
            path = run(settings, RunConfig(dataset=dataset, report_path=out_path)).report_path
        sections = None
    else:
        with Store(settings.resolved_store_path) as store:
            rep = stored_report(store, title="riskmoe report (stored results)")
        path = write_html(rep, out_path)
        sections = [s.key for s in rep.sections]
    if as_json:
        print_json({"report_path": str(path), "sections": sections})
        return
    out.print(f"report written to {path}")
