"""``/v1/score`` and ``/v1/explain``: PD, grade, tier, reason codes and expert weights.

A plain score of a few records with the serving model (in memory) runs on the event loop:
the records are encoded without a DataFrame and the network runs once
(:class:`~riskmoe.models.RecordScorer`), well under a millisecond a record. Batches
above :data:`INLINE_RECORDS`, explanations, named models and (re)loading a model run in
the thread pool so they do not hold up other requests.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

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
from riskmoe.workflow.models import score_records

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)

#: requests with at most this many records are scored on the event loop
INLINE_RECORDS = 16


def _model(state: ServiceState, model_id: str | None) -> LoadedModel:
    try:
        return state.model(model_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


def _check_fields(loaded: LoadedModel, records: list[dict[str, Any]]) -> None:
    missing = loaded.scorer.encoder.missing_fields(records)
    if missing:
        raise SchemaError(
            f"records lack {len(missing)} field(s) model {loaded.model_id} needs: "
            f"{missing[:10]}; it needs {len(loaded.features)} fields: "
            f"{list(loaded.features)[:30]}."
        )


def _frame(loaded: LoadedModel, records: list[dict[str, Any]]) -> pd.DataFrame:
    _check_fields(loaded, records)
    # only the model's own columns, in its order: extra fields are ignored
    return loaded.scorer.encoder.frame(records)


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


def _scored(
    state: ServiceState, loaded: LoadedModel, records: list[dict[str, Any]], explain: bool
) -> ScoreResponse:
    _check_fields(loaded, records)
    scored = score_records(loaded.scorer, records)
    extra = _explained(loaded, _frame(loaded, records), 3) if explain else None
    results = [
        ScoredRecord(
            pd=p,
            grade=g,
            tier=t,
            reasons=None if extra is None else extra[i]["reasons"],
            expert_weights=None if extra is None else extra[i]["expert_weights"],
        )
        for i, (p, g, t) in enumerate(
            zip(scored.pd.tolist(), scored.grade.tolist(), scored.tier.tolist(), strict=True)
        )
    ]
    state.metrics.scored.inc(len(results))
    return ScoreResponse(model_id=loaded.model_id, dataset=loaded.dataset, results=results)


def _scored_in_thread(state: ServiceState, body: ScoreRequest) -> ScoreResponse:
    return _scored(state, _model(state, body.model_id), body.records, body.explain)


@router.post("/score", response_model=ScoreResponse, summary="Score one record or a batch")
async def score(body: ScoreRequest, state: State, key: Analyst) -> ScoreResponse:
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
    loaded = state.loaded_model(body.model_id)
    if loaded is not None and not body.explain and len(body.records) <= INLINE_RECORDS:
        # well under a millisecond of work: cheaper here than a hand-off to a thread
        return _scored(state, loaded, body.records, False)
    # batches, explanations and (re)loading a model would hold up the event loop
    return await run_in_threadpool(_scored_in_thread, state, body)


@router.post("/explain", response_model=ExplainResponse, summary="Explain records")
def explain(body: ExplainRequest, state: State, key: Analyst) -> ExplainResponse:
    """Reason codes (integrated gradients), expert gate weights and each expert's share
    of the logit, per record."""
    loaded = _model(state, body.model_id)
    frame = _frame(loaded, body.records)
    scored = score_records(loaded.scorer, body.records)
    extra = _explained(loaded, frame, body.n_reasons)
    return ExplainResponse(
        model_id=loaded.model_id,
        results=[
            ExplainedRecord(pd=p, grade=g, tier=t, **extra[i])
            for i, (p, g, t) in enumerate(
                zip(scored.pd.tolist(), scored.grade.tolist(), scored.tier.tolist(), strict=True)
            )
        ],
    )
