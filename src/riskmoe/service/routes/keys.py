"""``/v1/keys``: create, list and revoke API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from riskmoe.exceptions import StoreError
from riskmoe.service.deps import Admin, State
from riskmoe.service.errors import ERROR_RESPONSES, ApiError
from riskmoe.service.schemas import KeyCreated, KeyCreateRequest, KeyOut
from riskmoe.workflow import keys as key_jobs

router = APIRouter(prefix="/v1", tags=["keys"], responses=ERROR_RESPONSES)


@router.get("/keys", response_model=list[KeyOut], summary="API keys")
def list_keys(state: State, key: Admin) -> list[KeyOut]:
    """Every key ever made (never a secret or its hash)."""
    return [KeyOut(**k.to_dict()) for k in state.with_store(key_jobs.list_keys)]


@router.post("/keys", response_model=KeyCreated, status_code=201, summary="Create a key")
def create_key(body: KeyCreateRequest, state: State, key: Admin) -> KeyCreated:
    """A new key; its token is in this response only."""
    new = state.with_store(lambda s: key_jobs.create_key(s, body.name, body.role))
    state.keys(refresh=True)
    return KeyCreated(**new.to_dict())


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke a key")
def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")], state: State, key: Admin
) -> KeyOut:
    """Revoke a key; it is refused from the next request on."""
    try:
        revoked = state.with_store(lambda s: key_jobs.revoke_key(s, key_id))
    except StoreError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    state.keys(refresh=True)
    return KeyOut(**revoked.to_dict())
