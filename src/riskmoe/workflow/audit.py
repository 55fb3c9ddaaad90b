"""The audit log: who did what, when, and how it ended — appended, never rewritten.

Entries go to the store log table ``audit_log`` keyed by ``event_id``. They name the key
id and role, never a secret, and the request path without its query string (queries may
hold personal data).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from riskmoe.data.store import Store

__all__ = ["AUDIT_TABLE", "AuditEvent", "read_audit", "record_events"]

AUDIT_TABLE = "audit_log"


@dataclass(frozen=True)
class AuditEvent:
    """One audited action.

    Parameters
    ----------
    actor : str
        Key id (or ``"anonymous"``, ``"cli"``).
    role : str
        The actor's role, or ``""``.
    action : str
        ``"POST /v1/score"``, ``"keys.create"``...
    status : int
        HTTP status or CLI exit code.
    detail : str
        Short context (model id, key id revoked); never a secret.
    """

    actor: str
    role: str
    action: str
    status: int
    detail: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {**self.__dict__, "at": self.at.isoformat()}


def record_events(store: Store, events: Sequence[AuditEvent]) -> int:
    """Append events to the audit log in one transaction; returns rows added.

    Examples
    --------
    >>> with Store(":memory:") as store:
    ...     record_events(store, [AuditEvent("k1", "admin", "keys.create", 0)])
    1
    """
    if not events:
        return 0
    frame = pd.DataFrame(
        {
            "event_id": [e.event_id for e in events],
            "at": pd.to_datetime([e.at for e in events]),
            "actor": [e.actor for e in events],
            "role": [e.role for e in events],
            "action": [e.action for e in events],
            "status": pd.Series([int(e.status) for e in events], dtype="int64"),
            "detail": [e.detail for e in events],
        }
    )
    return store.append(AUDIT_TABLE, frame, key="event_id")


def read_audit(store: Store, *, limit: int = 100) -> pd.DataFrame:
    """The newest ``limit`` audit entries, newest first (empty when none)."""
    if AUDIT_TABLE not in store.log_names():
        return pd.DataFrame(columns=["event_id", "at", "actor", "role", "action", "status"])
    return store.query(f'SELECT * FROM "{AUDIT_TABLE}" ORDER BY at DESC LIMIT ?', [int(limit)])
