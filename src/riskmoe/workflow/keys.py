"""API keys: created, listed, revoked and verified against the store.

A key is shown once, as ``rmk_<key_id>.<secret>``; the store keeps only the sha256 of
the secret (log table ``api_keys``). Revoking appends a row to ``api_key_revocations``
— both tables are append-only, so the history of who could do what is never rewritten.
Secrets are 32 random bytes, so a plain sha256 suffices (a slow password hash guards
low-entropy passwords, which these are not); comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

import pandas as pd

from riskmoe.data.store import Store
from riskmoe.exceptions import AuthError, StoreError

__all__ = [
    "KEY_TABLE",
    "REVOCATION_TABLE",
    "ROLES",
    "ApiKey",
    "NewKey",
    "Role",
    "create_key",
    "hash_secret",
    "list_keys",
    "revoke_key",
    "role_allows",
    "split_key",
    "verify_key",
]

KEY_TABLE = "api_keys"
REVOCATION_TABLE = "api_key_revocations"
Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_PREFIX = "rmk_"
_KEY = re.compile(r"^rmk_([0-9a-f]{12})\.([A-Za-z0-9_\-]{20,100})$")
_NAME = re.compile(r"^[\w .@:-]{1,64}$")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hash_secret(secret: str) -> str:
    """The sha256 (hex) the store keeps instead of the secret.

    Examples
    --------
    >>> hash_secret("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def role_allows(have: str, need: str) -> bool:
    """Whether role ``have`` may do what ``need`` may (viewer < analyst < admin).

    Examples
    --------
    >>> role_allows("admin", "analyst"), role_allows("viewer", "analyst")
    (True, False)
    """
    return ROLES.index(cast(Role, have)) >= ROLES.index(cast(Role, need))


def split_key(presented: str) -> tuple[str, str]:
    """``(key_id, secret)`` of a presented key.

    Raises
    ------
    AuthError
        If the text is not shaped like a riskmoe key (``rmk_<12 hex>.<secret>``).

    Examples
    --------
    >>> split_key("rmk_0123456789ab." + "x" * 43)[0]
    '0123456789ab'
    """
    m = _KEY.match(presented.strip())
    if m is None:
        raise AuthError("the API key is malformed; expected rmk_<key id>.<secret>.")
    return m.group(1), m.group(2)


@dataclass(frozen=True)
class ApiKey:
    """A key as the store knows it (never the secret)."""

    key_id: str
    name: str
    role: Role
    created_at: datetime
    secret_sha256: str
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, without the hash."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "active": self.active,
        }


@dataclass(frozen=True)
class NewKey:
    """A freshly created key and its full text, which is shown once and never stored."""

    key: ApiKey
    token: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, with the token."""
        return {**self.key.to_dict(), "token": self.token}


def create_key(store: Store, name: str, role: str) -> NewKey:
    """Create a key with ``role`` and record its hash in the store.

    Raises
    ------
    ValueError
        For an unknown role or a name outside 1-64 letters, digits, ``space . @ : _ -``.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if not _NAME.match(name):
        raise ValueError(
            f"key name {name!r} is not allowed; use 1-64 letters, digits, spaces or . @ : _ -."
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(key_id, name, cast(Role, role), _now(), hash_secret(secret))
    row = pd.DataFrame(
        [
            {
                "key_id": key.key_id,
                "name": key.name,
                "role": key.role,
                "secret_sha256": key.secret_sha256,
                "created_at": pd.Timestamp(key.created_at),
            }
        ]
    )
    store.append(KEY_TABLE, row, key="key_id")
    return NewKey(key, f"{_PREFIX}{key_id}.{secret}")


def list_keys(store: Store) -> list[ApiKey]:
    """Every key ever created, oldest first, with its revocation time if revoked."""
    if KEY_TABLE not in store.log_names():
        return []
    keys = store.table(KEY_TABLE).sort_values("created_at")
    revoked: dict[str, datetime] = {}
    if REVOCATION_TABLE in store.log_names():
        for r in store.table(REVOCATION_TABLE).itertuples(index=False):
            revoked[str(r.key_id)] = pd.Timestamp(str(r.revoked_at)).to_pydatetime()
    return [
        ApiKey(
            str(r.key_id),
            str(r.name),
            cast(Role, str(r.role)),
            pd.Timestamp(str(r.created_at)).to_pydatetime(),
            str(r.secret_sha256),
            revoked.get(str(r.key_id)),
        )
        for r in keys.itertuples(index=False)
    ]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key (idempotent: revoking twice keeps the first time).

    Raises
    ------
    StoreError
        If no key has that id.
    """
    found = {k.key_id: k for k in list_keys(store)}
    if key_id not in found:
        have = ", ".join(found) or "none"
        raise StoreError(f"no API key with id {key_id!r}; keys: {have}.")
    if found[key_id].revoked_at is not None:
        return found[key_id]
    at = _now()
    store.append(
        REVOCATION_TABLE,
        pd.DataFrame([{"key_id": key_id, "revoked_at": pd.Timestamp(at)}]),
        key="key_id",
    )
    k = found[key_id]
    return ApiKey(k.key_id, k.name, k.role, k.created_at, k.secret_sha256, at)


def verify_key(keys: dict[str, ApiKey], presented: str) -> ApiKey:
    """The active key matching ``presented`` among ``keys`` (by key id).

    Raises
    ------
    AuthError
        Malformed, unknown, wrong secret or revoked (the message does not echo the key).
    """
    key_id, secret = split_key(presented)
    key = keys.get(key_id)
    if key is None or not hmac.compare_digest(key.secret_sha256, hash_secret(secret)):
        raise AuthError("the API key is not valid.")
    if not key.active:
        raise AuthError(f"the API key {key_id} was revoked.")
    return key
