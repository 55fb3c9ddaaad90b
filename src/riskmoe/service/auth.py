"""Who is calling: API keys from the ``X-API-Key`` header or ``Authorization: Bearer``,
or a dashboard session cookie; roles checked, rate limited, and remembered for the audit.

The dependencies are ``async``: they only read memory (the key table is cached and kept
fresh by the app's store worker), so they run on the event loop instead of costing a
thread hand-off each. When the cache is stale, or an unknown key id may have just been
created, the store is read in the thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from riskmoe.exceptions import AuthError
from riskmoe.service.errors import ApiError
from riskmoe.service.state import ServiceState
from riskmoe.workflow.keys import ApiKey, Role, role_allows, split_key, verify_key

__all__ = ["SESSION_COOKIE", "get_state", "principal", "require", "session_key", "state_dependency"]

SESSION_COOKIE = "riskmoe_session"
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="rmk_<id>.<secret>")
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer rmk_<id>.<secret>")


def get_state(request: Request) -> ServiceState:
    """The app's :class:`ServiceState`."""
    state = request.app.state.riskmoe
    assert isinstance(state, ServiceState)
    return state


async def state_dependency(request: Request) -> ServiceState:
    """:func:`get_state` as a dependency that runs on the event loop."""
    return get_state(request)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def principal(
    request: Request,
    state: Annotated[ServiceState, Depends(state_dependency)],
    header: Annotated[str | None, Security(_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> ApiKey:
    """The key behind this request.

    Raises
    ------
    ApiError
        401 without a key, or with a malformed, unknown or revoked one.
    """
    presented = header or (bearer.credentials if bearer is not None else None)
    if not presented:
        raise _unauthorized(
            "an API key is required: send X-API-Key or Authorization: Bearer "
            "(create one with `riskmoe keys create NAME --role viewer|analyst|admin`)."
        )
    keys = state.fresh_keys()
    if keys is None:
        keys = await run_in_threadpool(state.keys)
    try:
        key_id, _ = split_key(presented)
        if key_id not in keys and state.may_refresh_keys():
            # maybe a key created a moment ago: look again (at most once a second, so a
            # flood of made-up ids is not a flood of store reads)
            keys = await run_in_threadpool(state.keys, refresh=True)
        key = verify_key(keys, presented)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None
    request.state.actor = key.key_id
    request.state.role = key.role
    return key


def session_key(request: Request, state: ServiceState) -> ApiKey | None:
    """The key of a valid dashboard session cookie, or None."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    key_id = state.sessions.key_of(sid)
    if key_id is None:
        return None
    key = state.keys().get(key_id)
    if key is None or not key.active:
        return None
    request.state.actor = key.key_id
    request.state.role = key.role
    return key


def require(role: Role) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's key, if its role covers ``role`` and it is within its
    rate limit (403 / 429 otherwise)."""

    async def dependency(
        key: Annotated[ApiKey, Depends(principal)],
        state: Annotated[ServiceState, Depends(state_dependency)],
    ) -> ApiKey:
        if not role_allows(key.role, role):
            raise ApiError(
                403,
                "forbidden",
                f"key {key.key_id} has role {key.role!r}; this needs {role!r} or higher "
                "(viewer < analyst < admin).",
            )
        wait = state.limiter.take(key.key_id)
        if wait > 0:
            state.metrics.shed.labels("rate_limit").inc()
            raise ApiError(
                429,
                "rate_limited",
                f"key {key.key_id} is over {state.config.rate_per_second:g} requests/s; "
                f"retry in {wait:.2f} s.",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        return key

    dependency.__name__ = f"require_{role}"
    return dependency
