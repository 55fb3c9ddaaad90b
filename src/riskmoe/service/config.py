"""Service settings: limits, rate limits, CORS — safe by default, refused when unsafe."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ServiceConfig"]


class ServiceConfig(BaseModel):
    """How the API and dashboard guard themselves.

    Parameters
    ----------
    max_body_bytes : int
        Larger request bodies get 413 before they are read.
    max_batch : int
        Most records in one ``/v1/score`` call.
    rate_per_second, burst : float
        Per-key token bucket: sustained requests per second and the burst allowed.
    max_in_flight : int
        Requests handled at once; more are shed with 503 and ``Retry-After``.
    cors_origins : list of str
        Origins allowed to call the API from a browser; empty (the default) = CORS off.
        ``"*"`` is refused: keys are credentials.
    torch_threads : int
        Threads torch may use per scoring call; one keeps single-record latency low.
    audit_flush_seconds : float
        Audit entries are queued in memory and appended by the store worker in one
        transaction this often (and at shutdown), never on the request path.
    key_cache_seconds : float
        How long the key table and the serving-model choice are trusted: the store
        worker re-reads them every half of this, so a key revoked behind the app's back
        (not through ``DELETE /v1/keys``, which applies at once) is refused within it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=4_000_000, ge=1_024, le=200_000_000)
    max_batch: int = Field(default=10_000, ge=1, le=1_000_000)
    rate_per_second: float = Field(default=50.0, gt=0)
    burst: float = Field(default=100.0, ge=1)
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    cors_origins: list[str] = Field(default_factory=list)
    torch_threads: int = Field(default=1, ge=1, le=64)
    audit_flush_seconds: float = Field(default=0.5, gt=0, le=60)
    key_cache_seconds: float = Field(default=2.0, ge=0, le=3600)
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, v: list[str]) -> list[str]:
        if any(o.strip() == "*" for o in v):
            raise ValueError(
                "cors_origins may not be '*': API keys are credentials; list the exact origins."
            )
        for o in v:
            if not o.startswith(("http://", "https://")):
                raise ValueError(f"cors origin {o!r} must start with http:// or https://.")
        return v
