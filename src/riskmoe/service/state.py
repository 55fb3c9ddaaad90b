"""What one running app holds: the store connection, loaded models, the resolver, keys.

Everything slow (models, the entity resolver) is built once per app and reused. DuckDB
allows one writing process per file, so the app keeps ONE connection and serialises
every use of it with a lock; audit entries are buffered and written in one transaction
every ``audit_flush_seconds`` so a request never waits on a disk write for them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.exceptions import StoreError
from riskmoe.models import MoERiskClassifier
from riskmoe.normalization import EntityResolver
from riskmoe.service.config import ServiceConfig
from riskmoe.service.metrics import ServiceMetrics
from riskmoe.workflow import audit as audit_jobs
from riskmoe.workflow import keys as key_jobs
from riskmoe.workflow import models as model_jobs

__all__ = ["LoadedModel", "RateLimiter", "ServiceState"]

T = TypeVar("T")


@dataclass(frozen=True)
class LoadedModel:
    """A registered model, loaded and checked, with what the API reports about it."""

    model_id: str
    dataset: str
    model: MoERiskClassifier
    features: tuple[str, ...]
    expert_usage: dict[str, float]


class RateLimiter:
    """Per-key token buckets: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 if a request may go now, else the seconds until one may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


@dataclass
class _Sessions:
    """Dashboard sessions: random id -> (key id, expiry). Held in memory only."""

    hours: float
    items: dict[str, tuple[str, float]] = field(default_factory=dict)

    def open(self, key_id: str) -> str:
        sid = secrets.token_urlsafe(32)
        self.items[sid] = (key_id, time.time() + self.hours * 3600)
        return sid

    def key_of(self, sid: str) -> str | None:
        found = self.items.get(sid)
        if found is None or found[1] < time.time():
            self.items.pop(sid, None)
            return None
        return found[0]


class ServiceState:
    """The per-app state (see the module docstring)."""

    def __init__(self, settings: Settings, config: ServiceConfig) -> None:
        self.settings = settings
        self.config = config
        self.metrics = ServiceMetrics()
        self.limiter = RateLimiter(config.rate_per_second, config.burst)
        self.sessions = _Sessions(config.session_hours)
        self._store: Store | None = None
        self._lock = threading.RLock()
        self._models: dict[str, LoadedModel] = {}
        self._serving: tuple[str, float] | None = None
        self._resolver: EntityResolver | None = None
        self._resolver_lock = threading.Lock()
        self._keys: dict[str, key_jobs.ApiKey] = {}
        self._keys_read = 0.0
        self._audit: list[audit_jobs.AuditEvent] = []
        self._audit_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self.cache: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, *, warm: bool = False) -> None:
        """Open the store, start the audit writer; with ``warm`` load model and resolver."""
        import torch

        # one thread per scoring call: small batches are latency-bound, and several
        # requests run at once on the server's threads
        torch.set_num_threads(self.config.torch_threads)
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self._store = Store(self.settings.resolved_store_path)
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True, name="audit")
        self._flusher.start()
        if warm:
            self.resolver()
            try:
                self.model()
            except LookupError:
                pass

    def close(self) -> None:
        """Write pending audit entries and close the store."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
        self.flush_audit()
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    @property
    def ready(self) -> bool:
        """The store is open."""
        return self._store is not None

    # -- the store ---------------------------------------------------------------------
    @contextmanager
    def store(self) -> Iterator[Store]:
        """The app's store connection, held under the lock for the ``with`` block."""
        with self._lock:
            if self._store is None:
                raise StoreError("the service is not started (no store connection).")
            yield self._store

    def with_store(self, fn: Callable[[Store], T]) -> T:
        """``fn(store)`` under the lock."""
        with self.store() as store:
            return fn(store)

    # -- keys --------------------------------------------------------------------------
    def keys(self, *, refresh: bool = False) -> dict[str, key_jobs.ApiKey]:
        """Known keys by id, re-read from the store when older than the cache time."""
        now = time.monotonic()
        if refresh or now - self._keys_read > self.config.key_cache_seconds:
            found = self.with_store(key_jobs.list_keys)
            self._keys = {k.key_id: k for k in found}
            self._keys_read = now
        return self._keys

    # -- audit -------------------------------------------------------------------------
    def audit(self, event: audit_jobs.AuditEvent) -> None:
        """Queue an audit entry (written within ``audit_flush_seconds``)."""
        with self._audit_lock:
            self._audit.append(event)

    def flush_audit(self) -> int:
        """Write queued audit entries now, in one transaction."""
        with self._audit_lock:
            pending, self._audit = self._audit, []
        if not pending or self._store is None:
            return 0
        return self.with_store(lambda s: audit_jobs.record_events(s, pending))

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.config.audit_flush_seconds):
            try:
                self.flush_audit()
            except StoreError:  # pragma: no cover - retried on the next tick
                continue

    # -- models and the resolver --------------------------------------------------------
    def model(self, model_id: str | None = None) -> LoadedModel:
        """A loaded model: ``model_id``, else the active one, else the newest registered.

        Raises
        ------
        LookupError
            When nothing is registered or ``model_id`` is unknown.
        StoreError, DataError
            When the model folder is missing or was changed after registration.
        """
        if model_id is None:
            # which model serves is re-read at most every key_cache_seconds (activations
            # through this app clear it at once): no store query on the scoring hot path
            cached = self._serving
            if cached is not None and time.monotonic() - cached[1] <= self.config.key_cache_seconds:
                found = self._models.get(cached[0])
                if found is not None:
                    return found
        with self.store() as store:
            if model_id is None:
                row = model_jobs.serving_model(store)
                if row is None:
                    raise LookupError(
                        "no model is registered; train one first: "
                        "riskmoe train --dataset german_credit --out models/german_credit"
                    )
            else:
                reg = model_jobs.registered_models(store)
                rows = reg[reg["model_id"] == model_id]
                if rows.empty:
                    have = ", ".join(map(str, reg["model_id"])) or "none"
                    raise LookupError(f"no registered model {model_id!r}; registered: {have}.")
                row = rows.iloc[-1]
        mid = str(row["model_id"])
        if mid not in self._models:
            model = model_jobs.load_registered(row)
            self._models[mid] = LoadedModel(
                mid,
                str(row["dataset"]),
                model,
                tuple(map(str, model.feature_names_in_)),
                model_jobs.expert_usage_by_name(model),
            )
        if model_id is None:
            self._serving = (mid, time.monotonic())
        return self._models[mid]

    @property
    def models_loaded(self) -> int:
        """How many models are loaded."""
        return len(self._models)

    def forget_models(self) -> None:
        """Drop loaded models (after an activation, the next call loads afresh)."""
        self._serving = None
        self._models.clear()

    def resolver(self) -> EntityResolver:
        """The entity resolver, built on first use and kept."""
        with self._resolver_lock:
            if self._resolver is None:
                self._resolver = self.with_store(
                    lambda s: EntityResolver.default(self.settings, store=s)
                )
            return self._resolver

    def table_or_none(self, name: str) -> pd.DataFrame | None:
        """A stored (versioned or log) table, or None if absent."""

        def read(s: Store) -> pd.DataFrame | None:
            if s.latest(name) is None and name not in s.log_names():
                return None
            return s.table(name)

        return self.with_store(read)
