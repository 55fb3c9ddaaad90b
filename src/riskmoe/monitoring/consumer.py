"""The stream consumer: validate, score, re-grade, evaluate warning rules, commit, acknowledge.

One :class:`StreamConsumer` runs over any :class:`~riskmoe.monitoring.stream.StreamBackend`
(Redis or in-process), so production and ``riskmoe run`` share this code. Per batch:

1. take messages idle too long in a dead consumer's pending list (``claim_idle``), else
   new ones (``read``);
2. parse each (:func:`parse_event`); a poison event -- bad JSON, wrong schema, unknown
   entity -- goes to the dead-letter stream with its reason and the batch carries on;
3. run the input guard over the batch: an out-of-distribution batch is refused whole
   (every event dead-lettered with the guard's reason, the refusal logged);
4. score (PD, gate share and contribution per risk dimension), grade on the master
   scale, compare with the entity's previous grade, and evaluate the rules: PD above the
   regime's threshold per entity, and each dimension's gate share against its reference
   over the last ``share_window`` events;
5. hand scores, grades, alerts and guard log rows to the sink, which commits them in one
   transaction keyed by event id (a re-delivered event adds nothing);
6. only then deliver new alerts to the alert sinks and acknowledge the messages.

A consumer killed anywhere before step 6 leaves its messages pending; a live consumer
claims them after ``claim_idle_ms`` and, because writes are keyed by event id, every
event ends up in the store exactly once.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError
from riskmoe.monitoring.alerts import Alert, AlertSink, AlertTracker, alert_id_for
from riskmoe.monitoring.guard import GuardDecision, InputGuard
from riskmoe.monitoring.scoring import Scorer
from riskmoe.monitoring.stream import PAYLOAD, StreamBackend, StreamMessage
from riskmoe.risk import MasterScale

__all__ = [
    "CommitBatch",
    "ConsumerStats",
    "Event",
    "MonitorRules",
    "PoisonEvent",
    "StreamConsumer",
    "event_fields",
    "parse_event",
]

log = logging.getLogger("riskmoe.monitoring")


class PoisonEvent(DataError):
    """An event that can never be processed (bad JSON, wrong schema, unknown entity)."""


@dataclass(frozen=True)
class Event:
    """One observation: an entity's features at a time, with a producer-assigned id."""

    event_id: str
    entity: str
    as_of: datetime
    features: dict[str, Any]


def event_fields(
    event_id: str, entity: str, as_of: datetime, features: Mapping[str, Any]
) -> dict[str, str]:
    """The stream fields of an event: ``{"data": <JSON>}``.

    Examples
    --------
    >>> from datetime import datetime
    >>> import json
    >>> json.loads(event_fields("e1", "loan:1", datetime(2024, 1, 1), {"age": 30})["data"])
    {'event_id': 'e1', 'entity': 'loan:1', 'as_of': '2024-01-01T00:00:00', 'features': {'age': 30}}
    """

    def plain(v: Any) -> Any:
        if v is None or isinstance(v, str | bool):
            return v
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v if isinstance(v, int | float) else str(v)

    body = {
        "event_id": event_id,
        "entity": entity,
        "as_of": as_of.isoformat(),
        "features": {str(k): plain(v) for k, v in features.items()},
    }
    return {PAYLOAD: json.dumps(body, ensure_ascii=False)}


def parse_event(
    fields: Mapping[str, str],
    *,
    guard: InputGuard | None = None,
    known_entities: Container[str] | None = None,
) -> Event:
    """Parse and validate one message's fields.

    Raises
    ------
    PoisonEvent
        With the reason: no payload, bad JSON, a missing or mistyped key, a bad
        timestamp, an unknown entity, or features that break the guard's schema.
    """
    raw = fields.get(PAYLOAD)
    if raw is None:
        raise PoisonEvent(f"wrong schema: no {PAYLOAD!r} field (fields: {sorted(fields)})")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PoisonEvent(f"bad JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(body, dict):
        raise PoisonEvent(f"wrong schema: the payload is a {type(body).__name__}, not an object")
    for key, kind in (("event_id", str), ("entity", str), ("as_of", str), ("features", dict)):
        if key not in body:
            raise PoisonEvent(f"wrong schema: missing key {key!r}")
        if not isinstance(body[key], kind) or (kind is str and not body[key].strip()):
            raise PoisonEvent(f"wrong schema: {key!r} must be a non-empty {kind.__name__}")
    try:
        as_of = datetime.fromisoformat(body["as_of"])
    except ValueError:
        raise PoisonEvent(
            f"wrong schema: as_of {body['as_of']!r} is not an ISO timestamp"
        ) from None
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    if known_entities is not None and body["entity"] not in known_entities:
        raise PoisonEvent(f"unknown entity {body['entity']!r}")
    if guard is not None:
        problems = guard.row_problems(body["features"])
        if problems:
            raise PoisonEvent("wrong schema: " + "; ".join(problems))
    return Event(body["event_id"], body["entity"], as_of, dict(body["features"]))


@dataclass(frozen=True)
class MonitorRules:
    """The warning rules and their thresholds.

    Parameters
    ----------
    pd_thresholds : mapping
        PD threshold per market regime (tighter when ``stressed``).
    regime : str
        The regime in force.
    share_window : int
        Events over which each dimension's gate share is measured.
    share_shift : float
        Absolute change in a dimension's gate share (against the reference) that warns.
    """

    pd_thresholds: Mapping[str, float] = field(
        default_factory=lambda: {"calm": 0.5, "stressed": 0.35}
    )
    regime: str = "calm"
    share_window: int = 100
    share_shift: float = 0.10

    def __post_init__(self) -> None:
        if self.regime not in self.pd_thresholds:
            raise ValueError(
                f"no PD threshold for regime {self.regime!r}; have {sorted(self.pd_thresholds)}."
            )
        if any(not 0 < v < 1 for v in self.pd_thresholds.values()):
            raise ValueError(f"PD thresholds must be in (0, 1); got {dict(self.pd_thresholds)}.")
        if self.share_window < 1 or not 0 < self.share_shift < 1:
            raise ValueError("share_window must be >= 1 and share_shift in (0, 1).")

    @property
    def pd_threshold(self) -> float:
        """The PD threshold of the regime in force."""
        return float(self.pd_thresholds[self.regime])


@dataclass(frozen=True)
class CommitBatch:
    """What one batch writes to the store, in one transaction."""

    scores: pd.DataFrame
    grades: pd.DataFrame
    alerts: tuple[Alert, ...]
    guard_log: pd.DataFrame | None = None


class BatchSink(Protocol):
    """Commits a batch atomically and idempotently (keys: event ids, alert ids)."""

    def commit(self, batch: CommitBatch) -> None: ...


@dataclass
class ConsumerStats:
    """Counts over a consumer's life."""

    batches: int = 0
    read: int = 0
    claimed: int = 0
    scored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    refused_batches: int = 0
    alerts: int = 0
    sink_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


class StreamConsumer:
    """Consume a stream (see the module docstring).

    Parameters
    ----------
    backend : StreamBackend
    name : str
        This consumer's name in the group.
    scorer : Scorer
    sink : BatchSink
    guard : InputGuard or None
    rules : MonitorRules
    tracker : AlertTracker
        Start it with the alerts open in the store.
    reference_shares : mapping
        Each dimension's reference gate share (the training rows').
    last_grades : mapping
        Each entity's latest stored grade.
    known_entities : container or None
        Entities events may name (None: any).
    alert_sinks : sequence of AlertSink
    batch_size, claim_idle_ms : int
    max_deliveries : int
        A message delivered this many times without being acknowledged (its processing
        kept killing consumers) is dead-lettered instead of retried.
    scale : MasterScale
    """

    def __init__(
        self,
        backend: StreamBackend,
        name: str,
        scorer: Scorer,
        sink: BatchSink,
        *,
        guard: InputGuard | None = None,
        rules: MonitorRules | None = None,
        tracker: AlertTracker | None = None,
        reference_shares: Mapping[str, float] | None = None,
        last_grades: Mapping[str, int] | None = None,
        known_entities: Container[str] | None = None,
        alert_sinks: Sequence[AlertSink] = (),
        batch_size: int = 50,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        scale: MasterScale | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
        self.backend = backend
        self.name = name
        self.scorer = scorer
        self.sink = sink
        self.guard = guard
        self.rules = rules or MonitorRules()
        self.tracker = tracker or AlertTracker()
        self.reference_shares = dict(reference_shares or {})
        self.last_grades = dict(last_grades or {})
        self.known_entities = known_entities
        self.alert_sinks = list(alert_sinks)
        self.batch_size = batch_size
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.scale = scale or MasterScale()
        self.stats = ConsumerStats()
        self._window: deque[tuple[datetime, dict[str, float]]] = deque(
            maxlen=self.rules.share_window
        )

    # -- one batch -----------------------------------------------------------------------
    def poll(self, block_ms: int = 0) -> int:
        """Process one batch; returns how many messages it took (0: nothing to do)."""
        messages = self.backend.claim_idle(self.name, self.claim_idle_ms, self.batch_size)
        self.stats.claimed += len(messages)
        if not messages:
            messages = self.backend.read(self.name, self.batch_size, block_ms)
            self.stats.read += len(messages)
        if not messages:
            return 0
        self.stats.batches += 1
        events: list[tuple[StreamMessage, Event]] = []
        seen: set[str] = set()
        duplicates: list[str] = []
        for m in messages:
            if m.deliveries > self.max_deliveries:
                reason = f"delivered {m.deliveries} times without being acknowledged"
                self.backend.dead_letter(m, reason)
                self.stats.dead_lettered += 1
                continue
            try:
                e = parse_event(m.fields, guard=self.guard, known_entities=self.known_entities)
            except PoisonEvent as exc:
                self.backend.dead_letter(m, str(exc))
                self.stats.dead_lettered += 1
                continue
            if e.event_id in seen:
                duplicates.append(m.message_id)
                continue
            seen.add(e.event_id)
            events.append((m, e))
        if events:
            self._process(events)
        self.stats.duplicates += len(duplicates)
        self.backend.ack([m.message_id for m, _ in events] + duplicates)
        return len(messages)

    def _features(self, events: list[tuple[StreamMessage, Event]]) -> pd.DataFrame:
        rows = [e.features for _, e in events]
        frame = pd.DataFrame(rows)
        if self.guard is not None:
            frame = frame.reindex(columns=self.guard.column_names)
        return frame

    def _process(self, events: list[tuple[StreamMessage, Event]]) -> None:
        frame = self._features(events)
        now = datetime.now(UTC).replace(tzinfo=None)
        if self.guard is not None:
            decision = self.guard.check(frame)
            if not decision.accepted:
                self._refuse(events, decision, now)
                return
        scored = self.scorer(frame)
        pds = scored.probability
        grades = np.asarray(self.scale.grade(pds)).astype(int)
        tiers = np.asarray(self.scale.tier(pds)).astype(str)
        dims = scored.top_dimension
        alerts: list[Alert] = []
        score_rows, grade_rows = [], []
        new_grades = dict(self.last_grades)
        for i, (m, e) in enumerate(events):
            prev = new_grades.get(e.entity)
            new_grades[e.entity] = int(grades[i])
            shares = {str(k): float(v) for k, v in scored.shares.iloc[i].items()}
            contrib = {str(k): float(v) for k, v in scored.contributions.iloc[i].items()}
            score_rows.append(
                {
                    "event_id": e.event_id,
                    "message_id": m.message_id,
                    "entity": e.entity,
                    "as_of": e.as_of,
                    "pd": float(pds[i]),
                    "grade": int(grades[i]),
                    "tier": str(tiers[i]),
                    "dimension": dims[i],
                    "gate_shares": json.dumps(shares, sort_keys=True),
                    "contributions": json.dumps(contrib, sort_keys=True),
                    "regime": self.rules.regime,
                    "consumer": self.name,
                    "deliveries": int(m.deliveries),
                    "scored_at": now,
                }
            )
            grade_rows.append(
                {
                    "event_id": e.event_id,
                    "entity": e.entity,
                    "as_of": e.as_of,
                    "pd": float(pds[i]),
                    "grade": int(grades[i]),
                    "tier": str(tiers[i]),
                    "previous_grade": float("nan") if prev is None else float(prev),
                    "change": 0 if prev is None else int(grades[i]) - int(prev),
                }
            )
            alert = self._pd_rule(e, float(pds[i]), int(grades[i]), str(tiers[i]), dims[i])
            if alert is not None:
                alerts.append(alert)
            self._window.append((e.as_of, shares))
        alerts += self._share_rule(events[-1][1])
        batch = CommitBatch(pd.DataFrame(score_rows), pd.DataFrame(grade_rows), tuple(alerts), None)
        self.sink.commit(batch)
        self.last_grades = new_grades
        self.stats.scored += len(events)
        self.stats.alerts += len(alerts)
        self._deliver(alerts)

    def _refuse(
        self, events: list[tuple[StreamMessage, Event]], decision: GuardDecision, now: datetime
    ) -> None:
        ids = [e.event_id for _, e in events]
        row = pd.DataFrame(
            [
                {
                    "decision_id": alert_id_for("guard", *ids),
                    "logged_at": now,
                    "source": f"stream {self.backend.stream}",
                    "n_rows": decision.n_rows,
                    "statistic": decision.statistic,
                    "column_name": decision.column,
                    "value": float(decision.value or 0.0),
                    "limit_value": float(decision.limit or 0.0),
                    "reason": decision.reason,
                    "event_ids": json.dumps(ids),
                }
            ]
        )
        empty = pd.DataFrame()
        self.sink.commit(CommitBatch(empty, empty, (), row))
        log.warning("guard refused a batch: %s", decision.reason)
        for m, _ in events:
            self.backend.dead_letter(m, f"guard: {decision.reason}")
        self.stats.refused_batches += 1
        self.stats.dead_lettered += len(events)

    # -- rules ---------------------------------------------------------------------------
    def _pd_rule(self, e: Event, pd_: float, grade: int, tier: str, dim: str) -> Alert | None:
        thr = self.rules.pd_threshold
        regime = self.rules.regime

        def build() -> Alert:
            return Alert(
                alert_id=alert_id_for("pd_above_threshold", e.entity, e.event_id),
                subject=e.entity,
                rule="pd_above_threshold",
                severity="critical" if tier == "high" and pd_ >= 2 * thr else "warning",
                message=(
                    f"{e.entity}: PD {pd_:.1%} is above the {regime}-regime threshold "
                    f"{thr:.1%} (grade {grade}, {tier} tier); the {dim or 'shared'} experts "
                    "raise the score most."
                ),
                as_of=e.as_of,
                source=e.event_id,
                value=pd_,
                threshold=thr,
                details={"grade": grade, "tier": tier},
                dimension=dim or None,
                regime=regime,
            )

        return self.tracker.update(
            e.entity, "pd_above_threshold", pd_ > thr, build, e.as_of, e.event_id, value=pd_
        )

    def _share_rule(self, last: Event) -> list[Alert]:
        if len(self._window) < self.rules.share_window or not self.reference_shares:
            return []
        frame = pd.DataFrame([s for _, s in self._window])
        first_at = self._window[0][0]
        out = []
        for dim, ref in self.reference_shares.items():
            if dim not in frame.columns:
                continue
            share = float(frame[dim].mean())
            delta = share - ref
            limit = self.rules.share_shift

            def build(
                dim: str = dim, share: float = share, delta: float = delta, limit: float = limit
            ) -> Alert:
                ref = self.reference_shares[dim]
                return Alert(
                    alert_id=alert_id_for("expert_share_shift", "portfolio", dim, last.event_id),
                    subject="portfolio",
                    rule="expert_share_shift",
                    severity="warning",
                    message=(
                        f"{dim} expert share {delta * 100:+.0f} pp over the last "
                        f"{len(self._window)} events ({share:.0%} vs {ref:.0%} on the "
                        f"reference rows), {first_at:%Y-%m-%d %H:%M} to "
                        f"{last.as_of:%Y-%m-%d %H:%M}."
                    ),
                    as_of=last.as_of,
                    source=last.event_id,
                    value=share,
                    threshold=float(ref + np.sign(delta) * limit),
                    details={"reference": ref, "window": len(self._window)},
                    dimension=dim,
                    regime=self.rules.regime,
                )

            a = self.tracker.update(
                "portfolio",
                "expert_share_shift",
                abs(delta) >= limit,
                build,
                last.as_of,
                last.event_id,
                dimension=dim,
                value=share,
            )
            if a is not None:
                out.append(a)
        return out

    def _deliver(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        for sink in self.alert_sinks:
            try:
                sink.send(alerts)
            except Exception as exc:  # a sink failing must not lose the stream's place
                msg = f"{getattr(sink, 'name', type(sink).__name__)}: {exc}"
                self.stats.sink_errors.append(msg)
                log.error("alert sink failed: %s", msg)

    # -- loop ----------------------------------------------------------------------------
    def run(
        self,
        *,
        until_idle: bool = True,
        block_ms: int = 500,
        max_batches: int | None = None,
    ) -> ConsumerStats:
        """Poll until nothing is left (``until_idle``), ``max_batches`` batches ran, or
        the process is interrupted (Ctrl-C: the batch in flight stays pending)."""
        try:
            while max_batches is None or self.stats.batches < max_batches:
                taken = self.poll(block_ms)
                if taken == 0 and until_idle and not self.backend.pending().get(self.name):
                    break
        except KeyboardInterrupt:
            log.warning("consumer %s interrupted; unacknowledged events stay pending", self.name)
        return self.stats
