"""``/v1/models``: the registry, and activating the model scoring uses."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter

from riskmoe.service.deps import Admin, State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES, ApiError
from riskmoe.service.schemas import ActivateRequest, ModelOut
from riskmoe.service.state import ServiceState
from riskmoe.workflow import models as model_jobs

router = APIRouter(prefix="/v1", tags=["models"], responses=ERROR_RESPONSES)


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _listing(state: ServiceState) -> list[ModelOut]:
    def read(store: model_jobs.Store) -> list[ModelOut]:
        reg = model_jobs.registered_models(store)
        active = model_jobs.serving_model(store)
        active_id = None if active is None else str(active["model_id"])
        return [
            ModelOut(
                model_id=str(r["model_id"]),
                dataset=str(r["dataset"]),
                created_at=str(r["created_at"]),
                auc=_num(r.get("auc")),
                ks=_num(r.get("ks")),
                brier=_num(r.get("brier")),
                ece=_num(r.get("ece")),
                active=str(r["model_id"]) == active_id,
            )
            for r in reg.to_dict(orient="records")
        ]

    return state.with_store(read)


@router.get("/models", response_model=list[ModelOut], summary="Registered models")
def list_models(state: State, key: Viewer) -> list[ModelOut]:
    """Every registered model with its held-out metrics; ``active`` marks the one scoring
    uses (the last activated, else the newest)."""
    return _listing(state)


@router.post("/models/activate", response_model=ModelOut, summary="Activate a model")
def activate(body: ActivateRequest, state: State, key: Admin) -> ModelOut:
    """Make a registered model the one ``/v1/score`` uses. Its folder is verified first:
    a model whose files changed after registration is refused (409)."""

    def run(store: model_jobs.Store) -> None:
        reg = model_jobs.registered_models(store)
        if not (reg["model_id"] == body.model_id).any():
            have = ", ".join(map(str, reg["model_id"])) or "none"
            raise ApiError(
                404, "not_found", f"no registered model {body.model_id!r}; registered: {have}."
            )
        model_jobs.activate_model(store, body.model_id, by=key.key_id)

    state.with_store(run)
    state.forget_models()
    return next(m for m in _listing(state) if m.model_id == body.model_id)
