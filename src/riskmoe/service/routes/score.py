"""``/v1/score`` and ``/v1/explain``: PD, grade, tier, reason codes and expert weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter

from riskmoe.exceptions import SchemaError
from riskmoe.service.deps import Analyst, State
from riskmoe.service.errors import ERROR_RESPONSES, ApiError
from riskmoe.service.schemas import (
    ExplainedRecord,
    ExplainRequest,
    ExplainResponse,
    ScoredRecord,
    ScoreRequest,
    ScoreResponse,
)
from riskmoe.service.state import LoadedModel, ServiceState
from riskmoe.workflow.models import score_frame

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


def _model(state: ServiceState, model_id: str | None) -> LoadedModel:
    try:
        return state.model(model_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


def _frame(loaded: LoadedModel, records: list[dict[str, Any]]) -> pd.DataFrame:
    missing = sorted({f for rec in records for f in loaded.features if f not in rec})
    if missing:
        raise SchemaError(
            f"records lack {len(missing)} field(s) model {loaded.model_id} needs: "
            f"{missing[:10]}; it needs {len(loaded.features)} fields: "
            f"{list(loaded.features)[:30]}."
        )
    # only the model's own columns, in its order: extra fields are ignored
    cols = {f: [rec[f] for rec in records] for f in loaded.features}
    return pd.DataFrame(cols)


def _explained(loaded: LoadedModel, frame: pd.DataFrame, n_reasons: int) -> list[dict[str, Any]]:
    exp = loaded.model.explain(frame, n_reasons=n_reasons)
    out = []
    for i in range(len(frame)):
        out.append(
            {
                "reasons": list(exp.reason_codes[i]),
                "expert_weights": {
                    n: float(w) for n, w in zip(exp.expert_names, exp.gate_weights[i], strict=True)
                },
                "contributions": {
                    n: float(c) for n, c in zip(exp.term_names, exp.contributions[i], strict=True)
                },
            }
        )
    return out


@router.post("/score", response_model=ScoreResponse, summary="Score one record or a batch")
def score(body: ScoreRequest, state: State, key: Analyst) -> ScoreResponse:
    """PD (calibrated), master-scale grade and tier per record; with ``explain`` also the
    top reason codes and the router's expert weights."""
    if len(body.records) > state.config.max_batch:
        raise ApiError(
            422,
            "invalid_input",
            f"records: {len(body.records):,} records; at most {state.config.max_batch:,} per call.",
            details=[
                {
                    "field": "body.records",
                    "problem": "too many records",
                    "allowed": f"at most {state.config.max_batch}",
                }
            ],
        )
    loaded = _model(state, body.model_id)
    frame = _frame(loaded, body.records)
    scored = score_frame(loaded.model, frame)
    extra = _explained(loaded, frame, 3) if body.explain else None
    pds = scored["pd"].to_numpy(dtype=float)
    if not np.isfinite(pds).all():
        raise SchemaError("a record produced no finite PD; check its values.")
    grades = scored["grade"].to_numpy()
    tiers = scored["tier"].to_numpy()
    results = [
        ScoredRecord(
            pd=float(pds[i]),
            grade=int(grades[i]),
            tier=str(tiers[i]),
            reasons=None if extra is None else extra[i]["reasons"],
            expert_weights=None if extra is None else extra[i]["expert_weights"],
        )
        for i in range(len(pds))
    ]
    state.metrics.scored.inc(len(results))
    return ScoreResponse(model_id=loaded.model_id, dataset=loaded.dataset, results=results)


@router.post("/explain", response_model=ExplainResponse, summary="Explain records")
def explain(body: ExplainRequest, state: State, key: Analyst) -> ExplainResponse:
    """Reason codes (integrated gradients), expert gate weights and each expert's share
    of the logit, per record."""
    loaded = _model(state, body.model_id)
    frame = _frame(loaded, body.records)
    scored = score_frame(loaded.model, frame)
    extra = _explained(loaded, frame, body.n_reasons)
    return ExplainResponse(
        model_id=loaded.model_id,
        results=[
            ExplainedRecord(
                pd=float(scored["pd"].iloc[i]),
                grade=int(scored["grade"].iloc[i]),
                tier=str(scored["tier"].iloc[i]),
                **extra[i],
            )
            for i in range(len(frame))
        ],
    )
