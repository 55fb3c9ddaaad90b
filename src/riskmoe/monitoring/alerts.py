"""Alerts: what the monitoring room (and the limits of the advice room) raise.

An :class:`Alert` is one specific, explained warning: which entity or portfolio, what
rule fired, the value against the threshold, and where the numbers came from. Alerts are
stored in the log table ``alerts`` keyed by ``alert_id``, so a replayed event raises
nothing twice.

An alert also names the risk *dimension* that moved (the expert's feature group, e.g.
``credit_history``) and the market *regime* its threshold was set for. While a condition
persists :class:`AlertTracker` raises it once; when it clears, a ``resolved`` record
pointing at the open one (``resolves``) is added. Sinks deliver alerts: the log, a
webhook (JSON POST) and a Redis stream.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import pandas as pd

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_TABLE",
    "Alert",
    "AlertSink",
    "AlertTracker",
    "LogSink",
    "RedisStreamSink",
    "Severity",
    "Status",
    "WebhookSink",
    "alert_id_for",
    "alerts_frame",
    "alerts_from_frame",
]

ALERT_TABLE = "alerts"
Severity = Literal["info", "warning", "critical"]
Status = Literal["open", "resolved"]
_SEVERITIES = ("info", "warning", "critical")
_STATUSES = ("open", "resolved")


def alert_id_for(*parts: object) -> str:
    """A stable id from the parts that make an alert unique (rule, subject, as-of, source).

    Examples
    --------
    >>> alert_id_for("psi", "score", "2024-01-31") == alert_id_for("psi", "score", "2024-01-31")
    True
    """
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Alert:
    """One warning, explained.

    Parameters
    ----------
    alert_id : str
        Stable id (see :func:`alert_id_for`); the store key, so replays do not double.
    subject : str
        What the alert is about: an entity code (``600036.SH``), a feature, a portfolio,
        a product or a limit name.
    rule : str
        The rule that fired, e.g. ``"pd_above_threshold"``, ``"psi_significant"``,
        ``"expert_share_shift"``, ``"limit_breach"``.
    severity : {"info", "warning", "critical"}
    message : str
        One sentence a risk officer can act on, naming the measure and the threshold.
    value, threshold : float or None
        The observed value and the threshold it crossed.
    as_of : datetime
        When the observation was made (event time, not processing time).
    source : str
        Where it came from: a stream event id, a dataset version, a job name.
    details : dict
        Anything else (expert, grade, limit), JSON-serialisable.
    dimension : str or None
        The risk dimension that moved: an expert's feature group (``credit_history``),
        a feature, or a market factor.
    regime : str or None
        The market regime the threshold was set for (``calm`` / ``stressed``).
    status : {"open", "resolved"}
        ``resolved`` records close the open alert named in ``resolves``.
    resolves : str or None
        For a resolution, the ``alert_id`` of the alert it closes.
    """

    alert_id: str
    subject: str
    rule: str
    severity: Severity
    message: str
    as_of: datetime
    source: str
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    dimension: str | None = None
    regime: str | None = None
    status: Status = "open"
    resolves: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}; got {self.severity!r}.")
        if not self.alert_id or not self.subject or not self.rule:
            raise ValueError("alert_id, subject and rule must be non-empty.")
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}; got {self.status!r}.")
        if (self.status == "resolved") != (self.resolves is not None):
            raise ValueError("a resolved alert names the alert it resolves, and only it does.")

    @property
    def entity(self) -> str:
        """The entity (or portfolio, feature, limit) the alert is about: ``subject``."""
        return self.subject

    @property
    def explanation(self) -> str:
        """The sentence explaining the alert: ``message``."""
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "alert_id": self.alert_id,
            "subject": self.subject,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "value": self.value,
            "threshold": self.threshold,
            "details": dict(self.details),
            "dimension": self.dimension,
            "regime": self.regime,
            "status": self.status,
            "resolves": self.resolves,
        }

    def resolution(self, as_of: datetime, source: str, value: float | None = None) -> Alert:
        """The record that closes this alert: the condition cleared at ``as_of``."""
        return replace(
            self,
            alert_id=alert_id_for(self.alert_id, "resolved"),
            severity="info",
            message=f"resolved: {self.message}",
            as_of=as_of,
            source=source,
            value=value,
            status="resolved",
            resolves=self.alert_id,
        )


#: Columns of the ``alerts`` log table, in order (see :func:`alerts_frame`).
ALERT_COLUMNS = (
    "alert_id",
    "subject",
    "rule",
    "severity",
    "message",
    "as_of",
    "source",
    "value",
    "threshold",
    "dimension",
    "regime",
    "status",
    "resolves",
    "details",
)


def _number(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def alerts_frame(alerts: Iterable[Alert]) -> pd.DataFrame:
    """Alerts as rows of the ``alerts`` log table (``details`` as JSON text).

    Every writer of the table goes through this, so the columns always match.

    Examples
    --------
    >>> from datetime import datetime
    >>> a = Alert("a1", "600036.SH", "pd_above_threshold", "warning", "PD 12% > 10%",
    ...           datetime(2024, 1, 31), "event-1", 0.12, 0.10)
    >>> alerts_frame([a]).loc[0, ["alert_id", "status"]].tolist()
    ['a1', 'open']
    """
    rows = [
        {
            **a.to_dict(),
            "as_of": pd.Timestamp(a.as_of).tz_localize(None)
            if pd.Timestamp(a.as_of).tzinfo
            else pd.Timestamp(a.as_of),
            "value": _number(a.value),
            "threshold": _number(a.threshold),
            "details": json.dumps(a.details, sort_keys=True, default=str),
        }
        for a in alerts
    ]
    frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    for col in ("value", "threshold"):
        frame[col] = frame[col].astype(float)
    for col in ("dimension", "regime", "resolves"):
        frame[col] = frame[col].astype(object)
    return frame


def alerts_from_frame(frame: pd.DataFrame) -> list[Alert]:
    """Rows of the ``alerts`` table back as :class:`Alert` records."""

    def opt(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    out = []
    for r in frame.to_dict("records"):
        out.append(
            Alert(
                alert_id=str(r["alert_id"]),
                subject=str(r["subject"]),
                rule=str(r["rule"]),
                severity=r["severity"],
                message=str(r["message"]),
                as_of=pd.Timestamp(r["as_of"]).to_pydatetime(),
                source=str(r["source"]),
                value=opt(r["value"]),
                threshold=opt(r["threshold"]),
                details=json.loads(r["details"]) if opt(r.get("details")) else {},
                dimension=opt(r.get("dimension")),
                regime=opt(r.get("regime")),
                status=r.get("status") or "open",
                resolves=opt(r.get("resolves")),
            )
        )
    return out


class AlertTracker:
    """Raise an alert once while its condition persists; resolve it when it clears.

    A condition is identified by ``(subject, rule, dimension)``. Start the tracker with
    the alerts still open in the store so a restarted consumer carries on where the last
    one stopped.

    Examples
    --------
    >>> from datetime import datetime
    >>> t = AlertTracker()
    >>> def build():
    ...     return Alert(alert_id_for("r", "x"), "x", "r", "warning", "x is high",
    ...                  datetime(2024, 1, 1), "e1", 5.0, 3.0)
    >>> [t.update("x", "r", c, build, datetime(2024, 1, 2), "e2") is not None
    ...  for c in (True, True, False, False)]
    [True, False, True, False]
    """

    def __init__(self, open_alerts: Iterable[Alert] = ()) -> None:
        self._open: dict[tuple[str, str, str | None], Alert] = {}
        for a in open_alerts:
            if a.status == "open":
                self._open[(a.subject, a.rule, a.details.get("condition") or None)] = a

    @property
    def open_alerts(self) -> list[Alert]:
        """Alerts currently open."""
        return list(self._open.values())

    def update(
        self,
        subject: str,
        rule: str,
        condition: bool,
        build: Callable[[], Alert],
        as_of: datetime,
        source: str,
        *,
        dimension: str | None = None,
        value: float | None = None,
    ) -> Alert | None:
        """The alert to record for this observation, or None (nothing new).

        ``build`` is called only when a new alert opens; the condition's ``dimension``
        is kept in the alert's ``details["condition"]`` so a restarted tracker finds it.
        """
        key = (subject, rule, dimension)
        current = self._open.get(key)
        if condition and current is None:
            alert = build()
            if dimension is not None:
                alert = replace(alert, details={**alert.details, "condition": dimension})
            self._open[key] = alert
            return alert
        if not condition and current is not None:
            del self._open[key]
            return current.resolution(as_of, source, value)
        return None


# ---------------------------------------------------------------------------------------
# Sinks
# ---------------------------------------------------------------------------------------


class AlertSink(Protocol):
    """Somewhere alerts are delivered to (after they are committed to the store)."""

    name: str

    def send(self, alerts: Sequence[Alert]) -> None: ...


class LogSink:
    """Writes each alert as one log line (``logging``, logger ``riskmoe.alerts``)."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("riskmoe.alerts")

    def send(self, alerts: Sequence[Alert]) -> None:
        for a in alerts:
            level = logging.WARNING if a.severity != "info" else logging.INFO
            self.logger.log(level, "%s %s %s: %s", a.status, a.rule, a.subject, a.message)


class WebhookSink:
    """POSTs ``{"alerts": [...]}`` as JSON to a URL.

    Raises
    ------
    ConnectionError
        If the server cannot be reached or does not answer 2xx (the message names the
        URL and the status).
    """

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must start with http:// or https://; got {url!r}.")
        self.url = url
        self.timeout = timeout

    def send(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        body = json.dumps({"alerts": [a.to_dict() for a in alerts]}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise ConnectionError(f"webhook {self.url} answered HTTP {exc.code}.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectionError(f"webhook {self.url} unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise ConnectionError(f"webhook {self.url} answered HTTP {status}.")


class RedisStreamSink:
    """Adds each alert to a Redis stream as ``{"data": <alert JSON>}``."""

    name = "redis"

    def __init__(self, client: Any, stream: str) -> None:
        self.client = client
        self.stream = stream

    def send(self, alerts: Sequence[Alert]) -> None:
        for a in alerts:
            self.client.xadd(self.stream, {"data": json.dumps(a.to_dict())})
