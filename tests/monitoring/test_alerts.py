"""Alerts: de-duplication while a condition persists, resolution, and the three sinks."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest

from riskmoe.data.store import Store
from riskmoe.monitoring import (
    ALERT_COLUMNS,
    ALERT_TABLE,
    Alert,
    AlertTracker,
    LogSink,
    RedisStreamSink,
    WebhookSink,
    alert_id_for,
    alerts_frame,
    alerts_from_frame,
)


def _alert(i: int = 1, **kw) -> Alert:
    base = dict(
        alert_id=alert_id_for("pd_above_threshold", "loan:1", f"e{i}"),
        subject="loan:1",
        rule="pd_above_threshold",
        severity="warning",
        message="loan:1: PD 62% is above the calm-regime threshold 50%.",
        as_of=datetime(2024, 1, i),
        source=f"e{i}",
        value=0.62,
        threshold=0.5,
        details={"grade": 10},
        dimension="credit_history",
        regime="calm",
    )
    base.update(kw)
    return Alert(**base)


def test_tracker_raises_once_while_the_condition_persists_then_resolves():
    tracker = AlertTracker()
    seen = []
    for day, firing in enumerate([True, True, True, False, False, True], start=1):
        a = tracker.update(
            "loan:1",
            "pd_above_threshold",
            firing,
            lambda d=day: _alert(d),
            datetime(2024, 1, day),
            f"e{day}",
        )
        seen.append(None if a is None else (a.status, a.source))
    assert seen == [("open", "e1"), None, None, ("resolved", "e4"), None, ("open", "e6")]
    assert [a.source for a in tracker.open_alerts] == ["e6"]


def test_a_restarted_tracker_continues_from_the_open_alerts():
    tracker = AlertTracker([_alert(1)])
    assert (
        tracker.update(
            "loan:1", "pd_above_threshold", True, lambda: _alert(2), datetime(2024, 1, 2), "e2"
        )
        is None
    )
    closed = tracker.update(
        "loan:1", "pd_above_threshold", False, lambda: _alert(3), datetime(2024, 1, 3), "e3"
    )
    assert (
        closed is not None and closed.resolves == _alert(1).alert_id and closed.status == "resolved"
    )


def test_alert_rows_round_trip_through_the_store(tmp_path):
    alerts = [_alert(1), _alert(1).resolution(datetime(2024, 1, 5), "e5", 0.3)]
    frame = alerts_frame(alerts)
    assert list(frame.columns) == list(ALERT_COLUMNS)
    with Store(tmp_path / "s.duckdb") as store:
        assert store.append(ALERT_TABLE, frame, key="alert_id") == 2
        assert store.append(ALERT_TABLE, frame, key="alert_id") == 0  # replay adds nothing
        back = alerts_from_frame(store.table(ALERT_TABLE).sort_values("as_of"))
    assert back == alerts


def test_a_resolution_must_name_what_it_resolves():
    with pytest.raises(ValueError, match="resolves"):
        _alert(1, status="resolved")


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"type": self.headers["Content-Type"], "body": json.loads(body), "path": self.path}
        )
        status = 500 if self.path == "/broken" else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def webhook_server() -> Iterator[tuple[str, list[dict]]]:
    """A real HTTP server on 127.0.0.1 that accepts POSTs and keeps what it got."""
    handler = type("Handler", (_Collector,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_webhook_sink_posts_json_to_a_loopback_server(webhook_server):
    url, received = webhook_server
    WebhookSink(url + "/hook").send([_alert(1), _alert(2)])
    assert len(received) == 1
    got = received[0]
    assert got["type"] == "application/json" and got["path"] == "/hook"
    assert [a["source"] for a in got["body"]["alerts"]] == ["e1", "e2"]
    assert got["body"]["alerts"][0]["dimension"] == "credit_history"
    with pytest.raises(ConnectionError, match="HTTP 500"):
        WebhookSink(url + "/broken").send([_alert(1)])


def test_webhook_sink_names_an_unreachable_url():
    with pytest.raises(ConnectionError, match="unreachable"):
        WebhookSink("http://127.0.0.1:9/none", timeout=2).send([_alert(1)])


def test_redis_stream_sink(redis_client, stream_name):
    RedisStreamSink(redis_client, stream_name + ":alerts").send([_alert(1), _alert(2)])
    entries = redis_client.xrange(stream_name + ":alerts")
    assert [json.loads(f["data"])["source"] for _, f in entries] == ["e1", "e2"]


def test_log_sink(caplog):
    with caplog.at_level(logging.INFO, logger="riskmoe.alerts"):
        LogSink().send([_alert(1)])
    assert "pd_above_threshold loan:1" in caplog.text
