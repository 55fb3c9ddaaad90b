"""``/v1/resolve`` and ``/v1/ask``: names and questions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from riskmoe.service.deps import Analyst, State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES
from riskmoe.service.schemas import AskRequest, AskResponse, ResolveResponse
from riskmoe.workflow.ask import ask as ask_job

router = APIRouter(prefix="/v1", tags=["names"], responses=ERROR_RESPONSES)


@router.get("/resolve", response_model=ResolveResponse, summary="Resolve a company name")
def resolve(
    q: Annotated[str, Query(min_length=1, max_length=500, description="Name, code or question")],
    state: State,
    key: Viewer,
) -> ResolveResponse:
    """The company behind a name, code or question (or an abstention with candidates)."""
    res = state.resolver().resolve(q)
    return ResolveResponse(**res.to_dict())


@router.post("/ask", response_model=AskResponse, summary="Answer a risk question")
def ask(body: AskRequest, state: State, key: Analyst) -> AskResponse:
    """Facts from the store (each with its source table), and the data that is missing."""
    with state.store():  # the job opens the same file: serialise with the app's writes
        answer = ask_job(body.question, state.settings)
    return AskResponse(**answer.to_dict())
