"""Monitoring jobs: stream scoring with the registered model, replays, drift, alerts.

The store side of the stream consumer lives here: :class:`StoreSink` commits each
batch's scores (``monitor_scores``), grades (``monitor_grades``), alerts (``alerts``) and
guard refusals (``guard_log``) in ONE transaction keyed by event / alert / decision id.
Given a path it opens the DuckDB file only while committing, so several consumer
processes can share one store file (DuckDB allows one writing process at a time).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.readers import read_table
from riskmoe.data.store import Store
from riskmoe.exceptions import ConfigError, DataError, StoreError
from riskmoe.models import MoERiskClassifier
from riskmoe.monitoring import (
    ALERT_TABLE,
    Alert,
    AlertSink,
    AlertTracker,
    CommitBatch,
    ConsumerStats,
    DriftReport,
    InputGuard,
    LogSink,
    MemoryStreamBackend,
    MonitorRules,
    RedisStreamBackend,
    RedisStreamSink,
    StreamBackend,
    StreamConsumer,
    WebhookSink,
    alerts_frame,
    alerts_from_frame,
    drift_report,
    event_fields,
    moe_scorer,
    reference_shares,
)
from riskmoe.workflow.models import latest_model, load_registered

__all__ = [
    "GRADES_TABLE",
    "GUARD_TABLE",
    "SCORES_TABLE",
    "MonitorResult",
    "StoreSink",
    "build_consumer",
    "compute_drift",
    "list_alerts",
    "market_regime",
    "monitor",
    "open_backend",
    "publish_frame",
    "replay_rows",
]

SCORES_TABLE = "monitor_scores"
GRADES_TABLE = "monitor_grades"
GUARD_TABLE = "guard_log"
DEFAULT_STREAM = "riskmoe:events"
DEFAULT_GROUP = "riskmoe-monitor"


class StoreSink:
    """Commits a consumer batch in one store transaction (see the module docstring).

    Parameters
    ----------
    target : Store or path
        An open store (used as is), or a DuckDB file opened per commit.
    """

    def __init__(self, target: Store | str | Path) -> None:
        self.target = target

    def commit(self, batch: CommitBatch) -> None:
        plan: dict[str, tuple[pd.DataFrame, str | tuple[str, ...]]] = {}
        if not batch.scores.empty:
            plan[SCORES_TABLE] = (batch.scores, "event_id")
        if not batch.grades.empty:
            plan[GRADES_TABLE] = (batch.grades, "event_id")
        if batch.alerts:
            plan[ALERT_TABLE] = (alerts_frame(batch.alerts), "alert_id")
        if batch.guard_log is not None and not batch.guard_log.empty:
            plan[GUARD_TABLE] = (batch.guard_log, "decision_id")
        if not plan:
            return
        if isinstance(self.target, Store):
            self.target.append_many(plan)
            return
        with Store(self.target) as store:
            store.append_many(plan)


def _log_table(store: Store, name: str) -> pd.DataFrame | None:
    return store.table(name) if name in store.log_names() else None


def open_alerts(store: Store) -> list[Alert]:
    """Alerts not yet resolved."""
    frame = _log_table(store, ALERT_TABLE)
    if frame is None or frame.empty:
        return []
    resolved = set(frame["resolves"].dropna())
    rows = frame[(frame["status"] == "open") & ~frame["alert_id"].isin(resolved)]
    return alerts_from_frame(rows.sort_values("as_of"))


def last_grades(store: Store) -> dict[str, int]:
    """Each entity's latest monitored grade."""
    frame = _log_table(store, GRADES_TABLE)
    if frame is None or frame.empty:
        return {}
    last = frame.sort_values("as_of").groupby("entity").tail(1)
    return {str(e): int(g) for e, g in zip(last["entity"], last["grade"], strict=True)}


def list_alerts(settings: Settings, *, include_resolved: bool = False) -> list[Alert]:
    """Alerts in the store: the open ones, or every record with ``include_resolved``."""
    path = settings.resolved_store_path
    if not path.exists():
        return []
    with Store(path) as store:
        if not include_resolved:
            return open_alerts(store)
        frame = _log_table(store, ALERT_TABLE)
        return [] if frame is None else alerts_from_frame(frame.sort_values("as_of"))


# ---------------------------------------------------------------------------------------
# Regime
# ---------------------------------------------------------------------------------------


def market_regime(quantile: float = 0.8, years: int = 10) -> tuple[str, dict[str, Any]]:
    """The credit-market regime now: Moody's BAA-AAA spread (``arch.data.default``, monthly)
    above its ``quantile`` over the previous ``years`` years means ``stressed``."""
    import arch.data.default

    frame = arch.data.default.load()
    spread = (frame["BAA"] - frame["AAA"]).dropna().sort_index()
    last_date = spread.index[-1]
    history = spread[(spread.index >= last_date - pd.DateOffset(years=years))].iloc[:-1]
    cut = float(np.quantile(history, quantile))
    value = float(spread.iloc[-1])
    regime = "stressed" if value > cut else "calm"
    return regime, {
        "indicator": "BAA-AAA spread (pp)",
        "as_of": last_date.strftime("%Y-%m"),
        "value": value,
        "cut": cut,
        "quantile": quantile,
    }


# ---------------------------------------------------------------------------------------
# Model, reference rows and replay
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Registered:
    model: MoERiskClassifier
    model_id: str
    train: pd.DataFrame
    held_out: pd.DataFrame


def _registered(settings: Settings, dataset: str) -> _Registered:
    """The latest registered model of ``dataset`` with its training and held-out rows
    (the registry's split, re-drawn with the same seed and sizes)."""
    path = settings.resolved_store_path
    row = None
    if path.exists():
        with Store(path) as store:
            row = latest_model(store, dataset)
    if row is None:
        raise StoreError(
            f"no registered model for {dataset!r}; train one first: "
            f"riskmoe train --dataset {dataset} --out DIR."
        )
    model = load_registered(row)
    options = _json_options(row)
    ds = load_dataset(dataset, settings=settings, **options)
    X, y = ds.X_y()
    n_test = int(row["n_test"])
    X_tr, X_te = train_test_split(
        X, test_size=n_test, stratify=y, random_state=settings.random_state
    )[:2]
    return _Registered(model, str(row["model_id"]), X_tr, X_te)


def _json_options(row: pd.Series) -> dict[str, Any]:
    import json

    try:
        return dict(json.loads(str(row.get("options") or "{}")))
    except json.JSONDecodeError:
        return {}


def replay_rows(
    frame: pd.DataFrame,
    dataset: str,
    *,
    start: datetime | None = None,
    prefix: str = "replay",
) -> list[dict[str, str]]:
    """Stream fields for each row: event id ``<prefix>:<dataset>:<row>``, entity
    ``<dataset>:<row>``, event time ``start`` plus one minute per row (the datasets carry
    no application dates)."""
    start = start or datetime(2024, 1, 1)
    out = []
    for i, (idx, rec) in enumerate(zip(frame.index, frame.to_dict("records"), strict=True)):
        out.append(
            event_fields(
                f"{prefix}:{dataset}:{idx}",
                f"{dataset}:{idx}",
                start + timedelta(minutes=i),
                {str(k): v for k, v in rec.items()},
            )
        )
    return out


def publish_frame(
    backend: StreamBackend, frame: pd.DataFrame, dataset: str, *, prefix: str = "replay"
) -> int:
    """Publish each row of ``frame`` as an event; returns how many."""
    backend.ensure_group()
    fields = replay_rows(frame, dataset, prefix=prefix)
    for f in fields:
        backend.publish(f)
    return len(fields)


def open_backend(settings: Settings, stream: str, group: str) -> StreamBackend:
    """Redis when ``settings.redis_url`` is set, else the in-process backend."""
    url = settings.redis_url
    if url:
        return RedisStreamBackend.from_url(url, stream, group)
    return MemoryStreamBackend(stream, group)


def build_consumer(
    backend: StreamBackend,
    model: MoERiskClassifier,
    reference: pd.DataFrame,
    store: Store | str | Path,
    *,
    name: str,
    known_entities: set[str] | None,
    rules: MonitorRules,
    alert_sinks: Sequence[AlertSink] = (),
    batch_size: int = 50,
    claim_idle_ms: int = 30_000,
    random_state: int = 0,
) -> StreamConsumer:
    """A consumer over ``backend`` scoring with ``model``; the guard and the reference
    expert shares are learned from ``reference`` (the training rows); state (open alerts,
    last grades) is read from the store."""
    names = list(model.feature_names_in_)
    guard = InputGuard.fit(reference[names], random_state=random_state)
    scorer = moe_scorer(model)
    sample = reference[names].sample(min(len(reference), 300), random_state=random_state)
    shares = reference_shares(scorer(sample))
    if isinstance(store, Store):
        tracker, grades = AlertTracker(open_alerts(store)), last_grades(store)
    else:
        with Store(store) as s:
            tracker, grades = AlertTracker(open_alerts(s)), last_grades(s)
    return StreamConsumer(
        backend,
        name,
        scorer,
        StoreSink(store),
        guard=guard,
        rules=rules,
        tracker=tracker,
        reference_shares=shares,
        last_grades=grades,
        known_entities=known_entities,
        alert_sinks=alert_sinks,
        batch_size=batch_size,
        claim_idle_ms=claim_idle_ms,
    )


@dataclass(frozen=True)
class MonitorResult:
    """What a ``monitor`` run did."""

    backend: str
    stream: str
    group: str
    consumer: str
    model_id: str
    regime: str
    regime_details: dict[str, Any]
    published: int
    stats: ConsumerStats
    pending: dict[str, int]
    dead_letters: int
    alerts: tuple[Alert, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "backend": self.backend,
            "stream": self.stream,
            "group": self.group,
            "consumer": self.consumer,
            "model_id": self.model_id,
            "regime": self.regime,
            "regime_details": self.regime_details,
            "published": self.published,
            "stats": self.stats.to_dict(),
            "pending": self.pending,
            "dead_letters": self.dead_letters,
            "open_alerts": [a.to_dict() for a in self.alerts],
        }


def monitor(
    settings: Settings,
    *,
    dataset: str = "german_credit",
    replay: str | None = None,
    once: bool = False,
    limit: int | None = None,
    stream: str = DEFAULT_STREAM,
    group: str = DEFAULT_GROUP,
    consumer: str | None = None,
    batch_size: int = 50,
    claim_idle_ms: int = 30_000,
    regime: str = "auto",
    webhook: str | None = None,
    alert_stream: str | None = None,
    block_ms: int = 1000,
) -> MonitorResult:
    """Run the stream consumer with the latest registered model of ``dataset``.

    With ``replay``, the held-out rows of that dataset (the registry's split: rows the
    model never saw) are published first. With Redis configured (``RISKMOE_REDIS_URL``)
    the consumer joins the group on the real stream; without it, a replay runs on the
    in-process backend. ``once`` stops when the stream is drained.

    Raises
    ------
    ConfigError
        Without Redis and without a replay (nothing could ever arrive), or for an
        unknown regime.
    """
    model_dataset = replay or dataset
    url = settings.redis_url
    if not url and replay is None:
        raise ConfigError(
            "no Redis configured: set RISKMOE_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to "
            "consume a live stream, or pass --replay DATASET to replay one in-process."
        )
    if regime not in ("auto", "calm", "stressed"):
        raise ConfigError(f"regime must be auto, calm or stressed; got {regime!r}.")
    details: dict[str, Any] = {}
    if regime == "auto":
        regime, details = market_regime()
    reg = _registered(settings, model_dataset)
    backend = open_backend(settings, stream, group)
    backend.ensure_group()
    published = 0
    if replay is not None:
        rows = reg.held_out if limit is None else reg.held_out.iloc[:limit]
        published = publish_frame(backend, rows, replay)
        once = once or not url
    ds_index = pd.concat([reg.train, reg.held_out]).index
    known = {f"{model_dataset}:{i}" for i in ds_index}
    sinks: list[AlertSink] = [LogSink()]
    if webhook:
        sinks.append(WebhookSink(webhook))
    if alert_stream:
        if not isinstance(backend, RedisStreamBackend):
            raise ConfigError("--alert-stream needs Redis (RISKMOE_REDIS_URL).")
        sinks.append(RedisStreamSink(backend.client, alert_stream))
    name = consumer or f"{socket.gethostname()}-{os.getpid()}"
    settings.home.mkdir(parents=True, exist_ok=True)
    worker = build_consumer(
        backend,
        reg.model,
        reg.train,
        settings.resolved_store_path,
        name=name,
        known_entities=known,
        rules=MonitorRules(regime=regime),
        alert_sinks=sinks,
        batch_size=batch_size,
        claim_idle_ms=claim_idle_ms,
        random_state=settings.random_state,
    )
    stats = worker.run(until_idle=once, block_ms=block_ms)
    return MonitorResult(
        backend="redis" if isinstance(backend, RedisStreamBackend) else "in-process",
        stream=stream,
        group=group,
        consumer=name,
        model_id=reg.model_id,
        regime=regime,
        regime_details=details,
        published=published,
        stats=stats,
        pending=backend.pending(),
        dead_letters=len(backend.dead_letters()),
        alerts=tuple(list_alerts(settings)),
    )


# ---------------------------------------------------------------------------------------
# Drift
# ---------------------------------------------------------------------------------------


def _frame_for(source: str, settings: Settings) -> tuple[pd.DataFrame, str]:
    path = Path(source)
    if path.suffix and path.exists():
        return read_table(path), f"file {path}"
    store_path = settings.resolved_store_path
    if store_path.exists():
        with Store(store_path) as store:
            if store.latest(source) is not None or source in store.log_names():
                return store.table(source), f"store table {source}"
    try:
        ds = load_dataset(source, settings=settings)
    except DataError as exc:
        raise DataError(
            f"{source!r} is neither a file, a stored table nor a dataset: {exc}"
        ) from None
    return ds.X_y()[0] if ds.target else ds.frame, f"dataset {source}"


def compute_drift(
    reference: str,
    current: str,
    settings: Settings,
    *,
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> tuple[DriftReport, dict[str, str]]:
    """Per-column PSI and KS between two sources (file, stored table or dataset name)."""
    ref, ref_src = _frame_for(reference, settings)
    cur, cur_src = _frame_for(current, settings)
    if columns is None:
        columns = [c for c in ref.columns if c in cur.columns]
        if not columns:
            raise DataError(f"{reference!r} and {current!r} share no columns.")
    report = drift_report(ref, cur, columns=columns, bins=bins)
    return report, {"reference": ref_src, "current": cur_src}


def now_utc() -> datetime:
    """Naive UTC now (the store keeps naive UTC timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)
