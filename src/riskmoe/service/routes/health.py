"""``/healthz`` (the process answers), ``/readyz`` (the store is open), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from riskmoe.service.deps import State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES
from riskmoe.service.metrics import CONTENT_TYPE
from riskmoe.service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> Health:
    """Always ``ok`` while the process serves requests."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness",
    responses={503: {"model": Health, "description": "Not ready."}},
)
def readyz(state: State) -> Health | JSONResponse:
    """``ready`` once the store is open (models and resolver load on first use)."""
    if not state.ready:
        return JSONResponse(status_code=503, content={"status": "starting", "detail": {}})
    return Health(status="ready", detail={"models_loaded": state.models_loaded})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **ERROR_RESPONSES,
    },
)
def metrics(state: State, key: Viewer) -> Response:
    """Request counts and latency by route, shed requests, records scored (text format)."""
    return Response(content=state.metrics.render(), media_type=CONTENT_TYPE)
