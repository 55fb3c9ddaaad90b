"""``riskmoe monitor``, ``riskmoe drift``, ``riskmoe alerts``: the monitoring room's doors."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from riskmoe.cli._app import JsonOpt, app, handles_errors, load_settings, out, print_json
from riskmoe.workflow import monitor as jobs


@app.command("monitor")
@handles_errors
def monitor(
    replay: Annotated[
        str | None,
        typer.Option(help="Replay the held-out rows of this dataset as a stream first."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Stop when the stream is drained.")] = False,
    dataset: Annotated[
        str, typer.Option(help="Score with the latest model registered on this dataset.")
    ] = "german_credit",
    limit: Annotated[int | None, typer.Option(help="Replay at most this many rows.")] = None,
    stream: Annotated[str, typer.Option(help="Stream of JSON events.")] = jobs.DEFAULT_STREAM,
    group: Annotated[str, typer.Option(help="Consumer group.")] = jobs.DEFAULT_GROUP,
    consumer: Annotated[
        str | None, typer.Option(help="This consumer's name (default: host-pid).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Events per batch (one commit).")] = 50,
    claim_idle_ms: Annotated[
        int, typer.Option(help="Claim another consumer's pending events idle this long.")
    ] = 30_000,
    regime: Annotated[str, typer.Option(help="auto (BAA-AAA spread), calm or stressed.")] = "auto",
    webhook: Annotated[str | None, typer.Option(help="POST new alerts to this URL.")] = None,
    alert_stream: Annotated[
        str | None, typer.Option(help="Also add new alerts to this Redis stream.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a stream of events with the registered model: grades, alerts, dead letters.

    Uses Redis when RISKMOE_REDIS_URL is set; otherwise --replay runs in-process.
    """
    result = jobs.monitor(
        load_settings(),
        dataset=dataset,
        replay=replay,
        once=once,
        limit=limit,
        stream=stream,
        group=group,
        consumer=consumer,
        batch_size=batch_size,
        claim_idle_ms=claim_idle_ms,
        regime=regime,
        webhook=webhook,
        alert_stream=alert_stream,
    )
    if as_json:
        print_json(result.to_dict())
        return
    s = result.stats
    out.print(
        f"{result.backend} stream {result.stream!r}, group {result.group!r}, consumer "
        f"{result.consumer!r}; model {result.model_id}; regime {result.regime}"
    )
    out.print(
        f"published {result.published}, read {s.read}, claimed {s.claimed}, scored {s.scored}, "
        f"dead-lettered {s.dead_lettered}, refused batches {s.refused_batches}, "
        f"new alert records {s.alerts}; open alerts {len(result.alerts)}"
    )
    for e in s.sink_errors:
        out.print(f"[yellow]alert sink error:[/] {e}")


@app.command("drift")
@handles_errors
def drift(
    reference: Annotated[
        str, typer.Option(help="Reference: a file, a stored table or a dataset name.")
    ],
    current: Annotated[str, typer.Option(help="Current: a file, a stored table or a dataset.")],
    bins: Annotated[int, typer.Option(help="PSI bins (deciles of the reference).")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Per-column PSI (bands: <0.10 stable, 0.10-0.25 moderate, >0.25 significant) and KS."""
    report, sources = jobs.compute_drift(reference, current, load_settings(), bins=bins)
    if as_json:
        print_json({**sources, **report.to_dict()})
        return
    table = Table(title=f"drift: {sources['current']} against {sources['reference']}")
    for col in ("column", "PSI", "band", "KS", "KS p-value"):
        table.add_column(col, justify="left" if col in ("column", "band") else "right")
    for f in report.features:
        table.add_row(
            f.feature,
            f"{f.psi:.4f}",
            f.band,
            "" if f.ks_statistic is None else f"{f.ks_statistic:.4f}",
            "" if f.ks_pvalue is None else f"{f.ks_pvalue:.3g}",
        )
    out.print(table)


@app.command("alerts")
@handles_errors
def alerts(
    all_records: Annotated[
        bool, typer.Option("--all", help="Every record, resolutions included.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Open alerts in the store (with --all: every alert and resolution record)."""
    found = jobs.list_alerts(load_settings(), include_resolved=all_records)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    if not found:
        out.print("no alerts.")
        return
    table = Table(title=f"{len(found)} alert record(s)")
    for col in ("as of", "status", "severity", "subject", "rule", "dimension", "message"):
        table.add_column(col)
    for a in found:
        table.add_row(
            f"{a.as_of:%Y-%m-%d %H:%M}",
            a.status,
            a.severity,
            a.subject,
            a.rule,
            a.dimension or "",
            a.message,
        )
    out.print(table)
