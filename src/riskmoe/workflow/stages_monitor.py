"""Monitoring stage of ``run``: replay the held-out cases as a stream and watch them.

The held-out rows (at most :data:`MAX_EVENTS`) are published as events and consumed by
the same :class:`~riskmoe.monitoring.StreamConsumer` that ``riskmoe monitor`` runs: on
Redis when ``RISKMOE_REDIS_URL`` is set, otherwise on the in-process backend, so a fresh
machine needs no server. Scores, grades and alerts go to the run's store. The section
shows feature and score drift (training split against held-out split), each risk
dimension's gate share over the replay, and the alerts raised.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from riskmoe.monitoring import (
    MonitorRules,
    RedisStreamBackend,
    drift_report,
    moe_scorer,
)
from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.workflow.context import RunContext
from riskmoe.workflow.monitor import (
    SCORES_TABLE,
    build_consumer,
    market_regime,
    open_alerts,
    open_backend,
    publish_frame,
)
from riskmoe.workflow.stages_models import PRIMARY_MODEL

__all__ = ["MAX_EVENTS", "stage_monitor"]

MAX_EVENTS = 300
_WINDOW = 50


def stage_monitor(ctx: RunContext) -> None:
    """Replay the held-out split through the stream consumer; add the monitoring section."""
    ctx.require("X_train", "X_test", "dataset")
    assert ctx.X_train is not None and ctx.X_test is not None and ctx.dataset is not None
    model = ctx.models[PRIMARY_MODEL]
    name = ctx.dataset.name
    run_id = datetime.now(UTC).strftime("run%Y%m%dT%H%M%S%f")
    backend = open_backend(ctx.settings, f"riskmoe:{run_id}:{uuid.uuid4().hex[:8]}", "run")
    rows = ctx.X_test.iloc[:MAX_EVENTS]
    regime, regime_details = market_regime()
    try:
        published = publish_frame(backend, rows, name, prefix=run_id)
        known = {f"{name}:{i}" for i in list(ctx.X_train.index) + list(ctx.X_test.index)}
        consumer = build_consumer(
            backend,
            model,
            ctx.X_train,
            ctx.store,
            name="run",
            known_entities=known,
            rules=MonitorRules(regime=regime),
            random_state=ctx.settings.random_state,
        )
        stats = consumer.run(until_idle=True, block_ms=0)
        dead = len(backend.dead_letters())
    finally:
        if isinstance(backend, RedisStreamBackend):
            backend.delete()
    scores = ctx.store.query(
        f'SELECT * FROM "{SCORES_TABLE}" WHERE starts_with(event_id, ?) ORDER BY as_of',
        [run_id + ":"],
    )
    scorer = moe_scorer(model)
    train_pd = scorer(ctx.X_train[list(model.feature_names_in_)]).probability
    drift = drift_report(
        ctx.X_train,
        rows,
        score_reference=train_pd,
        score_current=scores["pd"].to_numpy(),
    )
    mine = {f"{name}:{i}" for i in rows.index}
    alerts = [a for a in open_alerts(ctx.store) if a.subject in mine or a.subject == "portfolio"]
    ctx.results["monitoring"] = {
        "backend": "redis" if isinstance(backend, RedisStreamBackend) else "in-process",
        "published": published,
        "stats": stats.to_dict(),
        "dead_letters": dead,
        "regime": regime,
        "regime_details": regime_details,
        "drift": drift.to_dict(),
        "open_alerts": len(alerts),
    }
    ctx.sections.append(_section(drift, scores, alerts, stats.to_dict(), regime, regime_details))


def _shares_over_time(scores: pd.DataFrame) -> Figure:
    shares = pd.DataFrame([json.loads(s) for s in scores["gate_shares"]])
    rolling = shares.rolling(_WINDOW, min_periods=_WINDOW).mean().dropna()
    x = [int(i) + 1 for i in rolling.index]
    traces = [Trace(str(c), x, rolling[c].round(4).tolist()) for c in rolling.columns]
    return Figure(
        f"Gate share of each risk dimension over the replay (rolling {_WINDOW} events)",
        traces,
        x_label="event",
        y_label="share of routing weight",
    )


def _section(
    drift: Any,
    scores: pd.DataFrame,
    alerts: list[Any],
    stats: dict[str, Any],
    regime: str,
    regime_details: dict[str, Any],
) -> Section:
    rows: list[list[Any]] = []
    for f in ([drift.score] if drift.score else []) + list(drift.features)[:12]:
        rows.append(
            [
                f.feature,
                f.kind,
                round(f.psi, 4),
                f.band,
                None if f.ks_statistic is None else round(f.ks_statistic, 4),
                None if f.ks_pvalue is None else float(f"{f.ks_pvalue:.3g}"),
            ]
        )
    alert_rows = [
        [f"{a.as_of:%Y-%m-%d %H:%M}", a.severity, a.subject, a.rule, a.dimension or "", a.message]
        for a in alerts[:20]
    ]
    figures = (_shares_over_time(scores),) if len(scores) >= _WINDOW else ()
    d = regime_details
    detail = (
        f"{d['indicator']} {d['value']:.2f} in {d['as_of']} against the cut {d['cut']:.2f}"
        if d
        else "regime set by hand"
    )
    return Section(
        "monitoring",
        "Monitoring: the held-out cases replayed as a stream",
        summary=(
            f"{stats['scored']} events scored by the stream consumer ({stats['dead_lettered']} "
            f"dead-lettered, {stats['refused_batches']} batches refused by the input guard), "
            f"graded and checked against the warning rules in the {regime} regime ({detail}). "
            "Drift compares the training split with the replayed rows: PSI < 0.10 stable, "
            "0.10-0.25 moderate, > 0.25 significant; KS from scipy."
        ),
        tables=(
            Table(
                "Drift: training split against the replayed rows (worst 12 features)",
                ["feature", "kind", "PSI", "band", "KS", "KS p-value"],
                rows,
            ),
            Table(
                f"Open alerts ({len(alerts)}; first 20)",
                ["as of", "severity", "subject", "rule", "dimension", "explanation"],
                alert_rows,
                note="An alert is raised once while its condition persists and resolved "
                "when it clears.",
            ),
        ),
        figures=figures,
    )
