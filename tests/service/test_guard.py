"""GuardMiddleware's load shedding: requests beyond ``max_in_flight`` get 503 even when
each one is handled without ever suspending (as a single-record score on the event loop
is)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from starlette.types import Message, Receive, Scope, Send

from riskmoe.config import Settings
from riskmoe.service import ServiceConfig
from riskmoe.service.guard import GuardMiddleware
from riskmoe.service.state import ServiceState


async def _answer_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that reads the body and answers 200 without suspending."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _burst(guard: GuardMiddleware, n: int) -> tuple[Counter[int], list[dict]]:
    statuses: Counter[int] = Counter()
    bodies: list[dict] = []

    async def one() -> None:
        scope = {"type": "http", "method": "POST", "path": "/v1/score", "headers": []}

        async def receive() -> Message:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] += 1
            elif message["type"] == "http.response.body" and message.get("body"):
                bodies.append(json.loads(message["body"]))

        await guard(scope, receive, send)

    await asyncio.gather(*(one() for _ in range(n)))
    return statuses, bodies


def test_a_burst_beyond_max_in_flight_is_shed_with_503(tmp_path):
    state = ServiceState(
        Settings(home=tmp_path / "home", offline=True), ServiceConfig(max_in_flight=3)
    )
    guard = GuardMiddleware(_answer_at_once, state)
    statuses, bodies = asyncio.run(_burst(guard, 10))
    assert statuses == Counter({200: 3, 503: 7})
    assert sum(b.get("error") == "busy" for b in bodies) == 7
    assert guard.in_flight == 0
    # once the burst is answered, the next request goes through
    assert asyncio.run(_burst(guard, 1))[0] == Counter({200: 1})
