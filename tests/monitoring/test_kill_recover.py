"""Kill a consumer PROCESS mid-stream on the real Redis; a live consumer recovers its
pending events and every event is in the store exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.monitoring import ALERT_TABLE, RedisStreamBackend
from riskmoe.workflow.monitor import GRADES_TABLE, SCORES_TABLE, monitor, publish_frame

from .conftest import REDIS_URL


def _group(redis_client, stream: str) -> dict:
    (info,) = redis_client.xinfo_groups(stream)
    return info


@pytest.mark.slow
def test_sigkill_mid_stream_then_recovery_stores_every_event_once(
    registered_home, german, redis_client, stream_name, tmp_path
):
    events = german[1].head(100)  # held-out rows of the registry's split
    backend = RedisStreamBackend(redis_client, stream_name, "g")
    assert publish_frame(backend, events, "german_credit") == len(events)
    env = {
        **os.environ,
        "RISKMOE_HOME": str(registered_home.home),
        "RISKMOE_REDIS_URL": REDIS_URL,
        "RISKMOE_OFFLINE": "1",
        "RISKMOE_USE_SHARED_DATA": "0",
    }
    cmd = [sys.executable, "-c", "from riskmoe.cli import app; app()", "monitor"]
    cmd += ["--stream", stream_name, "--group", "g", "--consumer", "doomed"]
    cmd += ["--batch-size", "5", "--regime", "calm", "--once"]
    log = tmp_path / "doomed.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        deadline = time.monotonic() + 300
        while True:
            info = _group(redis_client, stream_name)
            doomed = backend.pending().get("doomed", 0)
            if info["entries-read"] and info["entries-read"] >= 30 and doomed > 0:
                os.kill(proc.pid, signal.SIGKILL)
                break
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"the consumer ended before it was killed: {tail}")
            if time.monotonic() > deadline:
                pytest.fail("the consumer did not reach the middle of the stream")
            time.sleep(0.005)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left_pending = backend.pending().get("doomed", 0)
    assert 0 < left_pending <= 5  # killed holding one delivered, unacknowledged batch
    read_before = _group(redis_client, stream_name)["entries-read"]
    assert read_before < len(events)  # it died mid-stream

    settings = Settings(
        home=registered_home.home, use_shared_data=False, offline=True, redis_url=REDIS_URL
    )
    result = monitor(
        settings,
        stream=stream_name,
        group="g",
        consumer="rescuer",
        claim_idle_ms=0,
        once=True,
        regime="calm",
        batch_size=25,
    )
    assert result.backend == "redis"
    assert result.stats.claimed == left_pending
    assert result.pending == {}
    assert _group(redis_client, stream_name)["lag"] == 0

    expected = {f"replay:german_credit:{i}" for i in events.index}
    with Store(settings.resolved_store_path) as store:
        scores = store.table(SCORES_TABLE)
        grades = store.table(GRADES_TABLE)
        alerts = store.table(ALERT_TABLE) if ALERT_TABLE in store.log_names() else None
    for table in (scores, grades):
        assert len(table) == len(events) and set(table["event_id"]) == expected
    assert set(scores["consumer"]) == {"doomed", "rescuer"}
    redelivered = scores[scores["deliveries"] >= 2]
    assert set(redelivered["consumer"]) <= {"rescuer"} and len(redelivered) <= left_pending
    if alerts is not None:  # one open alert per entity and rule at most
        opened = alerts[alerts["status"] == "open"].groupby(["subject", "rule"]).size()
        closed = alerts[alerts["status"] == "resolved"].groupby(["subject", "rule"]).size()
        assert (opened.sub(closed, fill_value=0) <= 1).all()
