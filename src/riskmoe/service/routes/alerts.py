"""``/v1/alerts``: what monitoring raised, newest first."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from riskmoe.service.deps import State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES
from riskmoe.service.schemas import AlertOut
from riskmoe.workflow.service_jobs import alert_rows

router = APIRouter(prefix="/v1", tags=["monitoring"], responses=ERROR_RESPONSES)


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts")
def alerts(
    state: State,
    key: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    severity: Literal["info", "warning", "critical"] | None = None,
    subject: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AlertOut]:
    """Stored alerts (empty when monitoring has raised none)."""
    rows = state.with_store(
        lambda s: alert_rows(s, limit=limit, severity=severity, subject=subject)
    )
    return [AlertOut(**r) for r in rows]
