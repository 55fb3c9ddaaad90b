"""The outermost layer: body-size limit, load shedding, metrics and the audit trail.

A pure ASGI middleware (no per-request task or body copy): it refuses oversize bodies
with 413 before the app reads them, sheds requests beyond ``max_in_flight`` with 503 +
``Retry-After``, times every request for ``/metrics`` and queues an audit entry for each
authenticated call (key id, role, method + route template, status — never the key, the
body or the query string).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskmoe.service.errors import error_body
from riskmoe.service.state import ServiceState
from riskmoe.workflow.audit import AuditEvent

__all__ = ["GuardMiddleware"]

_UNGUARDED = ("/healthz", "/readyz")


class _TooLarge(BaseException):
    # a BaseException: FastAPI turns any Exception raised while reading a body into 400
    pass


async def _send_error(send: Send, status: int, error: str, message: str, **headers: str) -> None:
    body = json.dumps(error_body(error, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        limit = state.config.max_body_bytes
        path = scope.get("path", "")
        start = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _send_error(send, 400, "bad_request", "Content-Length is not a number.")
                return
            if too_big:
                state.metrics.shed.labels("body_too_large").inc()
                await _send_error(
                    send,
                    413,
                    "payload_too_large",
                    f"the body is {int(declared):,} bytes; at most {limit:,} are accepted "
                    "(split a batch into smaller calls).",
                )
                return
        if path not in _UNGUARDED and self.in_flight >= state.config.max_in_flight:
            state.metrics.shed.labels("busy").inc()
            await _send_error(
                send,
                503,
                "busy",
                f"{self.in_flight} requests in progress (limit "
                f"{state.config.max_in_flight}); retry shortly.",
                retry_after="1",
            )
            return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        status = 500
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
            await send(message)

        self.in_flight += 1
        try:
            # let every request that has arrived get counted before this one is handled:
            # a short score runs to its end without suspending, so without this yield the
            # count never passes 1 and an overloaded server queues instead of shedding
            await asyncio.sleep(0)
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            status = 413
            state.metrics.shed.labels("body_too_large").inc()
            if not started:
                await _send_error(
                    send, 413, "payload_too_large", f"the body exceeds {limit:,} bytes."
                )
        finally:
            self.in_flight -= 1
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            state.metrics.observe(scope["method"], template, status, time.perf_counter() - start)
            scoped: dict[str, Any] = scope.get("state") or {}
            actor = scoped.get("actor")
            if actor is None and status == 401 and path.startswith("/v1"):
                actor = "anonymous"
            if actor is not None and template.startswith(("/v1", "/metrics")):
                state.audit(
                    AuditEvent(
                        actor=str(actor),
                        role=str(scoped.get("role", "")),
                        action=f"{scope['method']} {template}",
                        status=status,
                    )
                )
