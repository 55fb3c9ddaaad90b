"""Event streams with consumer groups: Redis Streams, and an in-process stand-in.

Both backends have the semantics of a Redis Streams consumer group, so the consumer code
is the same for both:

* ``publish`` appends a message (``XADD``); ``read`` hands new messages to one consumer
  (``XREADGROUP ... >``) and records them as *pending* for it;
* ``ack`` removes messages from the pending list (``XACK``) -- only after their results
  are committed;
* ``claim_idle`` moves messages pending for longer than ``min_idle_ms`` (their consumer
  died) to a live consumer (``XAUTOCLAIM``);
* ``dead_letter`` copies a message to the dead-letter stream with the reason and
  acknowledges it, atomically (``MULTI``/``EXEC`` on Redis).

:class:`RedisStreamBackend` is what ``riskmoe monitor`` uses in production;
:class:`MemoryStreamBackend` keeps ``riskmoe run`` free of a Redis server.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from riskmoe.exceptions import ConfigError

__all__ = [
    "MemoryStreamBackend",
    "RedisStreamBackend",
    "StreamBackend",
    "StreamMessage",
    "dead_letter_name",
]

PAYLOAD = "data"


def dead_letter_name(stream: str) -> str:
    """The dead-letter stream of ``stream``.

    Examples
    --------
    >>> dead_letter_name("riskmoe:events")
    'riskmoe:events:dead'
    """
    return f"{stream}:dead"


class StreamMessage(NamedTuple):
    """One delivered message: its stream id, its fields, and how often it was delivered."""

    message_id: str
    fields: dict[str, str]
    deliveries: int = 1


class StreamBackend(Protocol):
    """A stream with one consumer group (see the module docstring)."""

    stream: str
    group: str

    def ensure_group(self) -> None: ...

    def publish(self, fields: Mapping[str, str]) -> str: ...

    def read(self, consumer: str, count: int, block_ms: int = 0) -> list[StreamMessage]: ...

    def claim_idle(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamMessage]: ...

    def ack(self, message_ids: Sequence[str]) -> int: ...

    def dead_letter(self, message: StreamMessage, reason: str) -> str: ...

    def pending(self) -> dict[str, int]: ...

    def dead_letters(self) -> list[StreamMessage]: ...

    def length(self) -> int: ...


# ---------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------


class RedisStreamBackend:
    """A Redis stream and consumer group.

    Parameters
    ----------
    client : redis.Redis
        A client created with ``decode_responses=True``.
    stream, group : str

    Raises
    ------
    ConfigError
        If the client does not decode responses.
    """

    def __init__(self, client: Any, stream: str, group: str) -> None:
        if not client.get_connection_kwargs().get("decode_responses"):
            raise ConfigError("RedisStreamBackend needs a client with decode_responses=True.")
        self.client = client
        self.stream = stream
        self.group = group

    @classmethod
    def from_url(cls, url: str, stream: str, group: str) -> RedisStreamBackend:
        """Connect to ``url`` (e.g. ``redis://127.0.0.1:6379/0``) and check it answers.

        Raises
        ------
        ConfigError
            If Redis cannot be reached (the message names the URL).
        """
        import redis

        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ConfigError(f"cannot reach Redis at {url}: {exc}") from exc
        return cls(client, stream, group)

    def ensure_group(self) -> None:
        """Create the group at the start of the stream (and the stream) if missing."""
        import redis

        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def publish(self, fields: Mapping[str, str]) -> str:
        return str(self.client.xadd(self.stream, dict(fields)))

    def read(self, consumer: str, count: int, block_ms: int = 0) -> list[StreamMessage]:
        reply = self.client.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms or None
        )
        out = []
        for _, entries in reply or []:
            out += [StreamMessage(mid, dict(f or {}), 1) for mid, f in entries]
        return out

    def claim_idle(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamMessage]:
        claimed: list[StreamMessage] = []
        start = "0-0"
        while len(claimed) < count:
            nxt, entries, _deleted = self.client.xautoclaim(
                self.stream, self.group, consumer, min_idle_ms, start, count=count - len(claimed)
            )
            # entries deleted from the stream come back as (id, None): nothing to process
            claimed += [StreamMessage(mid, dict(f), 2) for mid, f in entries if f is not None]
            if nxt == "0-0":
                break
            start = nxt
        if claimed:
            ids = [m.message_id for m in claimed]
            info = self.client.xpending_range(
                self.stream, self.group, min=ids[0], max=ids[-1], count=len(ids) + 1000
            )
            times = {p["message_id"]: int(p["times_delivered"]) for p in info}
            claimed = [m._replace(deliveries=times.get(m.message_id, 2)) for m in claimed]
        return claimed

    def ack(self, message_ids: Sequence[str]) -> int:
        if not message_ids:
            return 0
        return int(self.client.xack(self.stream, self.group, *message_ids))

    def dead_letter(self, message: StreamMessage, reason: str) -> str:
        fields = {**message.fields, "reason": reason, "source_id": message.message_id}
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(dead_letter_name(self.stream), fields)
        pipe.xack(self.stream, self.group, message.message_id)
        dead_id, _ = pipe.execute()
        return str(dead_id)

    def pending(self) -> dict[str, int]:
        info = self.client.xpending(self.stream, self.group)
        return {c["name"]: int(c["pending"]) for c in info.get("consumers", [])}

    def dead_letters(self) -> list[StreamMessage]:
        return [
            StreamMessage(mid, dict(f), 1)
            for mid, f in self.client.xrange(dead_letter_name(self.stream))
        ]

    def length(self) -> int:
        return int(self.client.xlen(self.stream))

    def delete(self) -> None:
        """Remove the stream and its dead-letter stream (tests, replays)."""
        self.client.delete(self.stream, dead_letter_name(self.stream))


# ---------------------------------------------------------------------------------------
# In-process
# ---------------------------------------------------------------------------------------


@dataclass
class _Pending:
    consumer: str
    delivered_at: float
    deliveries: int


@dataclass
class MemoryStreamBackend:
    """An in-process stream with Redis consumer-group semantics (one process, any threads).

    Parameters
    ----------
    stream, group : str
    clock : callable, default=time.monotonic
        Seconds; idle times for :meth:`claim_idle` are measured on it.

    Examples
    --------
    >>> s = MemoryStreamBackend("events", "monitor")
    >>> s.ensure_group()
    >>> first = s.publish({"data": "{}"})
    >>> [m.message_id for m in s.read("a", count=10)] == [first], s.pending()
    (True, {'a': 1})
    >>> [m.deliveries for m in s.claim_idle("b", min_idle_ms=0, count=10)], s.pending()
    ([2], {'b': 1})
    >>> s.ack([first]), s.pending()
    (1, {})
    """

    stream: str
    group: str
    clock: Callable[[], float] = time.monotonic
    _entries: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _dead: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _next: int = 0
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _has_group: bool = False

    def ensure_group(self) -> None:
        self._has_group = True

    def _new_id(self) -> str:
        return f"{int(time.time() * 1000)}-{next(self._seq)}"

    def publish(self, fields: Mapping[str, str]) -> str:
        with self._lock:
            mid = self._new_id()
            self._entries.append((mid, {str(k): str(v) for k, v in fields.items()}))
            self._lock.notify_all()
            return mid

    def _check_group(self) -> None:
        if not self._has_group:
            raise ConfigError(
                f"no consumer group {self.group!r} on {self.stream!r}; call ensure_group()."
            )

    def read(self, consumer: str, count: int, block_ms: int = 0) -> list[StreamMessage]:
        self._check_group()
        with self._lock:
            if self._next >= len(self._entries) and block_ms > 0:
                self._lock.wait(timeout=block_ms / 1000)
            batch = self._entries[self._next : self._next + count]
            self._next += len(batch)
            now = self.clock()
            for mid, _ in batch:
                self._pending[mid] = _Pending(consumer, now, 1)
            return [StreamMessage(mid, dict(f), 1) for mid, f in batch]

    def claim_idle(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamMessage]:
        self._check_group()
        with self._lock:
            now = self.clock()
            fields = dict(self._entries)
            out: list[StreamMessage] = []
            for mid, p in sorted(self._pending.items(), key=lambda kv: kv[0]):
                if len(out) >= count:
                    break
                if (now - p.delivered_at) * 1000 >= min_idle_ms:
                    self._pending[mid] = _Pending(consumer, now, p.deliveries + 1)
                    out.append(StreamMessage(mid, dict(fields[mid]), p.deliveries + 1))
            return out

    def ack(self, message_ids: Sequence[str]) -> int:
        with self._lock:
            return sum(self._pending.pop(mid, None) is not None for mid in message_ids)

    def dead_letter(self, message: StreamMessage, reason: str) -> str:
        with self._lock:
            mid = self._new_id()
            fields = {**message.fields, "reason": reason, "source_id": message.message_id}
            self._dead.append((mid, fields))
            self._pending.pop(message.message_id, None)
            return mid

    def pending(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for p in self._pending.values():
                counts[p.consumer] = counts.get(p.consumer, 0) + 1
            return counts

    def dead_letters(self) -> list[StreamMessage]:
        with self._lock:
            return [StreamMessage(mid, dict(f), 1) for mid, f in self._dead]

    def length(self) -> int:
        return len(self._entries)
