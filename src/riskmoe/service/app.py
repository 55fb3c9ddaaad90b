"""The app factory: ``create_app(settings)`` builds one FastAPI app with its own state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from riskmoe import __version__
from riskmoe.config import Settings
from riskmoe.service.config import ServiceConfig
from riskmoe.service.errors import install_error_handlers
from riskmoe.service.guard import GuardMiddleware
from riskmoe.service.routes import (
    alerts,
    datasets,
    entities,
    health,
    keys,
    models,
    names,
    risk,
    score,
)
from riskmoe.service.state import ServiceState

__all__ = ["create_app"]

_DESCRIPTION = """\
The riskmoe API: score, explain, resolve names, answer questions, read grade histories,
alerts and market risk, manage models, datasets and keys. Every /v1 route needs an API key
(`X-API-Key` or `Authorization: Bearer`); roles: viewer (read) < analyst (score, explain,
ask) < admin (ingest, activate models, manage keys).
"""


def create_app(
    settings: Settings,
    config: ServiceConfig | None = None,
    *,
    warm: bool = False,
    dashboard: bool = True,
) -> FastAPI:
    """A FastAPI app over ``settings``' store.

    Parameters
    ----------
    settings : Settings
    config : ServiceConfig, optional
        Limits, rate limits, CORS; safe defaults.
    warm : bool
        Load the serving model and the entity resolver at startup instead of on first use.
    dashboard : bool
        Mount the web pages as well as the API.

    Examples
    --------
    >>> from riskmoe.config import Settings
    >>> app = create_app(Settings(home="/tmp/riskmoe-doctest"))
    >>> "/v1/score" in app.openapi()["paths"]
    True
    """
    config = config or ServiceConfig()
    state = ServiceState(settings, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start(warm=warm)
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="riskmoe",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.riskmoe = state
    install_error_handlers(app)
    for module in (health, score, names, entities, alerts, risk, models, datasets, keys):
        app.include_router(module.router)
    if dashboard:
        from riskmoe.service.pages import router as pages_router

        app.include_router(pages_router)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type"],
        )
    app.add_middleware(GuardMiddleware, state=state)
    return app
