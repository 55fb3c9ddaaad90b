"""Monitoring: stream scoring, drift, adaptive thresholds, alerts, input guard.

=========================  ==============================================================
alerts                     :class:`Alert`, :class:`AlertTracker` (de-duplicate, resolve),
                           sinks :class:`LogSink`, :class:`WebhookSink`,
                           :class:`RedisStreamSink`; :func:`alerts_frame`
drift                      :func:`psi`, :func:`population_stability_index`,
                           :func:`psi_band`, :func:`drift_report` (PSI + KS),
                           :func:`adwin_change_points` (river ADWIN)
thresholds                 :class:`BandThreshold`, :class:`RegimeThreshold`,
                           :func:`evaluate_signals` (signal approach), :func:`episode_starts`
guard                      :class:`InputGuard` (schema + out-of-distribution refusal),
                           :class:`BatchRefused`
stream                     :class:`RedisStreamBackend`, :class:`MemoryStreamBackend`
scoring                    :func:`moe_scorer` (PD, gate share and contribution per dimension)
consumer                   :class:`StreamConsumer`, :class:`MonitorRules`,
                           :func:`parse_event`, :func:`event_fields`
=========================  ==============================================================

The store is wired in by ``riskmoe.workflow.monitor``.
"""

from riskmoe.monitoring.alerts import (
    ALERT_COLUMNS,
    ALERT_TABLE,
    Alert,
    AlertSink,
    AlertTracker,
    LogSink,
    RedisStreamSink,
    Severity,
    WebhookSink,
    alert_id_for,
    alerts_frame,
    alerts_from_frame,
)
from riskmoe.monitoring.consumer import (
    CommitBatch,
    ConsumerStats,
    Event,
    MonitorRules,
    PoisonEvent,
    StreamConsumer,
    event_fields,
    parse_event,
)
from riskmoe.monitoring.drift import (
    PSI_MODERATE,
    PSI_SIGNIFICANT,
    DriftReport,
    FeatureDrift,
    adwin_change_points,
    drift_report,
    population_stability_index,
    psi,
    psi_band,
)
from riskmoe.monitoring.guard import BatchRefused, GuardDecision, InputGuard
from riskmoe.monitoring.scoring import ScoredBatch, Scorer, moe_scorer, reference_shares
from riskmoe.monitoring.stream import (
    MemoryStreamBackend,
    RedisStreamBackend,
    StreamBackend,
    StreamMessage,
    dead_letter_name,
)
from riskmoe.monitoring.thresholds import (
    BandThreshold,
    RegimeThreshold,
    SignalEvaluation,
    episode_starts,
    evaluate_signals,
)

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_TABLE",
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "Alert",
    "AlertSink",
    "AlertTracker",
    "BandThreshold",
    "BatchRefused",
    "CommitBatch",
    "ConsumerStats",
    "DriftReport",
    "Event",
    "FeatureDrift",
    "GuardDecision",
    "InputGuard",
    "LogSink",
    "MemoryStreamBackend",
    "MonitorRules",
    "PoisonEvent",
    "RedisStreamBackend",
    "RedisStreamSink",
    "RegimeThreshold",
    "ScoredBatch",
    "Scorer",
    "Severity",
    "SignalEvaluation",
    "StreamBackend",
    "StreamConsumer",
    "StreamMessage",
    "WebhookSink",
    "adwin_change_points",
    "alert_id_for",
    "alerts_frame",
    "alerts_from_frame",
    "dead_letter_name",
    "drift_report",
    "episode_starts",
    "evaluate_signals",
    "event_fields",
    "moe_scorer",
    "parse_event",
    "population_stability_index",
    "psi",
    "psi_band",
    "reference_shares",
]
