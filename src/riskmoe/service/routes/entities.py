"""``/v1/entities/{code}``: an entity's grade history and changes."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Path

from riskmoe.service.deps import State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES, ApiError
from riskmoe.service.schemas import EntityHistory, GradePoint
from riskmoe.workflow.service_jobs import entity_history

router = APIRouter(prefix="/v1", tags=["entities"], responses=ERROR_RESPONSES)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$"


@router.get("/entities/{code}", response_model=EntityHistory, summary="Grade history")
def entity(
    code: Annotated[str, Path(pattern=CODE_PATTERN, description="600036.SH, AAPL, ...")],
    state: State,
    key: Viewer,
) -> EntityHistory:
    """PD and grade over time, and recorded upgrades / downgrades."""
    history, changes = state.with_store(lambda s: entity_history(s, code))
    name = None
    if history.empty:
        resolver = state.resolver()
        if code not in resolver.base.codes:
            raise ApiError(404, "not_found", f"no grade history and no known entity {code!r}.")
    if code in state.resolver().base.codes:
        name = state.resolver().base.name_of(code)
    points = [
        GradePoint(
            as_of=str(pd.Timestamp(r["as_of"]).date()),
            pd=None if pd.isna(r["pd"]) else float(r["pd"]),
            grade=str(r["grade"]),
            model_version=None if pd.isna(r.get("model_version")) else str(r["model_version"]),
        )
        for r in history.to_dict(orient="records")
    ]
    return EntityHistory(
        code=code,
        name=name,
        history=points,
        changes=[
            {str(k): v for k, v in r.items()} for r in changes.astype(str).to_dict(orient="records")
        ],
    )
