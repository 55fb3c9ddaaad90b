"""Request and response bodies of the API — separate classes, so a response never echoes
what a client may send and a request never accepts server-made fields."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ActivateRequest",
    "AlertOut",
    "AskRequest",
    "AskResponse",
    "DatasetOut",
    "EntityHistory",
    "ErrorDetail",
    "ErrorResponse",
    "ExplainRequest",
    "ExplainResponse",
    "ExplainedRecord",
    "Health",
    "IngestRequest",
    "IngestResponse",
    "KeyCreateRequest",
    "KeyCreated",
    "KeyOut",
    "ModelOut",
    "ResolveResponse",
    "ScoreRequest",
    "ScoreResponse",
    "ScoredRecord",
    "VarResponse",
]

Value = str | float | int | bool | None
_MAX_FIELDS = 500
_MAX_TEXT = 500


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_records(records: list[dict[str, Value]]) -> list[dict[str, Value]]:
    for i, rec in enumerate(records):
        if len(rec) > _MAX_FIELDS:
            raise ValueError(f"record {i} has {len(rec)} fields; at most {_MAX_FIELDS}.")
        for k, v in rec.items():
            if len(k) > 200:
                raise ValueError(f"record {i}: field names are at most 200 characters.")
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(
                    f"record {i}, field {k!r}: {v} is not a finite number; "
                    "send null for a missing value."
                )
            if isinstance(v, str) and len(v) > _MAX_TEXT:
                raise ValueError(
                    f"record {i}, field {k!r}: text of {len(v)} characters; at most {_MAX_TEXT}."
                )
    return records


class ScoreRequest(_Request):
    """Records to score: field name -> value, as the model was trained on them."""

    records: list[dict[str, Value]] = Field(
        ..., min_length=1, description="One record or a batch (the size limit is configured)."
    )
    explain: bool = Field(
        default=False, description="Add reason codes and expert weights (slower: ~seconds per row)."
    )
    model_id: str | None = Field(
        default=None, max_length=200, description="A registered model; default: the active one."
    )

    _check = field_validator("records")(_check_records)


class ExplainRequest(_Request):
    """Records to explain (at most 100 per call)."""

    records: list[dict[str, Value]] = Field(..., min_length=1, max_length=100)
    model_id: str | None = Field(default=None, max_length=200)
    n_reasons: int = Field(default=3, ge=1, le=10)

    _check = field_validator("records")(_check_records)


class ScoredRecord(BaseModel):
    """PD, master-scale grade and tier of one record."""

    pd: float
    grade: int
    tier: str
    reasons: list[str] | None = None
    expert_weights: dict[str, float] | None = None


class ScoreResponse(BaseModel):
    model_id: str
    dataset: str
    results: list[ScoredRecord]


class ExplainedRecord(BaseModel):
    pd: float
    grade: int
    tier: str
    reasons: list[str]
    expert_weights: dict[str, float]
    contributions: dict[str, float]


class ExplainResponse(BaseModel):
    model_id: str
    results: list[ExplainedRecord]


class Candidate(BaseModel):
    code: str
    name: str
    score: float


class ResolveResponse(BaseModel):
    query: str
    code: str | None
    name: str | None
    score: float
    method: str
    abstained: bool
    candidates: list[dict[str, Any]]


class AskRequest(_Request):
    question: str = Field(..., min_length=1, max_length=500)


class AskResponse(BaseModel):
    question: dict[str, Any]
    facts: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    notes: list[str]


class GradePoint(BaseModel):
    as_of: str
    pd: float | None
    grade: str
    model_version: str | None = None


class EntityHistory(BaseModel):
    code: str
    name: str | None
    history: list[GradePoint]
    changes: list[dict[str, Any]]


class AlertOut(BaseModel):
    alert_id: str
    subject: str
    rule: str
    severity: str
    message: str
    as_of: str
    source: str
    value: float | None = None
    threshold: float | None = None
    status: str | None = None


class VarResponse(BaseModel):
    source: str
    first_date: str
    last_date: str
    level: float
    method: str
    var: float
    es: float
    detail: dict[str, Any]


class ModelOut(BaseModel):
    model_id: str
    dataset: str
    created_at: str
    auc: float | None = None
    ks: float | None = None
    brier: float | None = None
    ece: float | None = None
    active: bool


class ActivateRequest(_Request):
    model_id: str = Field(..., min_length=1, max_length=200)


class DatasetOut(BaseModel):
    name: str
    kind: str
    description: str
    license: str
    stored_versions: int


class IngestRequest(_Request):
    """A registered dataset name, or a file inside the service's upload folder."""

    dataset: str | None = Field(default=None, min_length=1, max_length=100)
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Relative to RISKMOE_HOME/uploads; '..' and absolute paths are refused.",
    )
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,62}$")
    target: str | None = Field(default=None, max_length=200)


class IngestResponse(BaseModel):
    name: str
    version: int
    rows: int
    columns: list[str]
    sha256: str
    created: bool


class KeyCreateRequest(_Request):
    name: str = Field(..., pattern=r"^[\w .@:-]{1,64}$")
    role: Literal["viewer", "analyst", "admin"]


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    active: bool


class KeyCreated(KeyOut):
    token: str = Field(..., description="Shown once; only its hash is stored.")


class Health(BaseModel):
    status: str
    detail: dict[str, Any] = Field(default_factory=dict)


class ErrorDetail(BaseModel):
    field: str
    problem: str
    allowed: str | None = None


class ErrorResponse(BaseModel):
    """Every error body: a message and, for bad input, each field's problem."""

    error: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
