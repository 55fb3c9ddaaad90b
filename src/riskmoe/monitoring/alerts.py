"""Alerts: what the monitoring room (and the limits of the advice room) raise.

An :class:`Alert` is one specific, explained warning: which entity or portfolio, what
rule fired, the value against the threshold, and where the numbers came from. Alerts are
stored in the log table ``alerts`` keyed by ``alert_id``, so a replayed event raises
nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["ALERT_TABLE", "Alert", "Severity", "alert_id_for"]

ALERT_TABLE = "alerts"
Severity = Literal["info", "warning", "critical"]
_SEVERITIES = ("info", "warning", "critical")


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
        Anything else (regime, expert, grade, limit), JSON-serialisable.
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

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}; got {self.severity!r}.")
        if not self.alert_id or not self.subject or not self.rule:
            raise ValueError("alert_id, subject and rule must be non-empty.")

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
        }
