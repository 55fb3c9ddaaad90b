"""Consumer-group semantics, the same on the real Redis and the in-process backend."""

from __future__ import annotations

import time

from riskmoe.monitoring import MemoryStreamBackend, MonitorRules
from riskmoe.workflow.monitor import build_consumer, publish_frame


def test_read_pending_ack(backend):
    ids = [backend.publish({"data": str(i)}) for i in range(5)]
    got = backend.read("a", count=3)
    assert [m.message_id for m in got] == ids[:3] and [m.fields["data"] for m in got] == [
        "0",
        "1",
        "2",
    ]
    assert backend.pending() == {"a": 3}
    assert [m.message_id for m in backend.read("b", count=10)] == ids[3:]  # new ones only
    assert backend.ack(ids[:3]) == 3 and backend.ack(ids[:3]) == 0
    assert backend.pending() == {"b": 2}
    assert backend.read("a", count=10) == []
    assert backend.length() == 5


def test_idle_pending_messages_are_claimed_by_a_live_consumer(backend):
    ids = [backend.publish({"data": str(i)}) for i in range(4)]
    backend.read("dead", count=4)  # delivered, never acknowledged
    assert backend.claim_idle("live", min_idle_ms=60_000, count=10) == []  # not idle long enough
    time.sleep(0.05)
    claimed = backend.claim_idle("live", min_idle_ms=20, count=10)
    assert [m.message_id for m in claimed] == ids
    assert all(m.deliveries == 2 for m in claimed)
    assert backend.pending() == {"live": 4}


def test_dead_letter_keeps_the_reason_and_acknowledges(backend):
    mid = backend.publish({"data": "{not json"})
    (m,) = backend.read("a", count=1)
    backend.dead_letter(m, "bad JSON: Expecting property name")
    assert backend.pending() == {}
    (dead,) = backend.dead_letters()
    assert dead.fields == {
        "data": "{not json",
        "reason": "bad JSON: Expecting property name",
        "source_id": mid,
    }


def test_memory_backend_measures_idle_time_on_its_clock():
    now = [100.0]
    b = MemoryStreamBackend("s", "g", clock=lambda: now[0])
    b.ensure_group()
    b.publish({"data": "x"})
    b.read("a", 1)
    now[0] += 0.999
    assert b.claim_idle("b", 1000, 10) == []
    now[0] += 0.001
    assert len(b.claim_idle("b", 1000, 10)) == 1


def test_a_message_that_keeps_killing_consumers_is_dead_lettered(
    backend, small_moe, german, tmp_path
):
    publish_frame(backend, german[1].head(2), "german_credit")
    backend.read("crashing", count=10)  # delivery 1
    backend.claim_idle("crashing", 0, 10)  # delivery 2
    backend.claim_idle("crashing", 0, 10)  # delivery 3, never acknowledged
    consumer = build_consumer(
        backend,
        small_moe,
        german[0],
        tmp_path / "s.duckdb",
        name="live",
        known_entities=None,
        rules=MonitorRules(),
        claim_idle_ms=0,
    )
    consumer.max_deliveries = 3
    stats = consumer.run(block_ms=10)
    assert (stats.scored, stats.dead_lettered) == (0, 2)
    assert {m.fields["reason"] for m in backend.dead_letters()} == {
        "delivered 4 times without being acknowledged"
    }
