"""What one running app holds: the store connection, loaded models, the resolver, keys.

Everything slow (models, the entity resolver) is built once per app and reused. DuckDB
allows one writing process per file, so the app keeps ONE connection and serialises
every use of it with a lock.

Scoring a record must not wait on that connection, so one background thread, the *store
worker*, does the per-request store work off the request path:

- audit entries are queued in memory and appended every ``audit_flush_seconds`` in one
  transaction (``Store.append_many``); a batch the store refuses is put back and retried;
  :meth:`ServiceState.close` writes whatever is still queued, so an orderly shutdown
  loses nothing;
- the key table and the choice of serving model are re-read every ``key_cache_seconds``
  / 2, so requests verify keys and find the model in memory. A key revoked or created
  through this app takes effect at once (the keys route re-reads the table).
"""

from __future__ import annotations

import gc
import logging
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
from riskmoe.models import MoERiskClassifier, RecordScorer
from riskmoe.normalization import EntityResolver
from riskmoe.service.config import ServiceConfig
from riskmoe.service.metrics import ServiceMetrics
from riskmoe.workflow import audit as audit_jobs
from riskmoe.workflow import keys as key_jobs
from riskmoe.workflow import models as model_jobs

__all__ = ["LoadedModel", "RateLimiter", "ServiceState"]

T = TypeVar("T")
log = logging.getLogger(__name__)
# an unknown key id re-reads the key table at most this often (a flood of bad keys must
# not turn into a flood of store reads)
_MISS_REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class LoadedModel:
    """A registered model, loaded and checked, with what the API reports about it."""

    model_id: str
    dataset: str
    model: MoERiskClassifier
    features: tuple[str, ...]
    expert_usage: dict[str, float]
    scorer: RecordScorer


def _freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's reach (``gc.freeze``).

    A served model and the entity resolver are ~650,000 long-lived objects; a full
    collection walks them all and pauses every request for ~200 ms (seen as the max
    latency under load). They live as long as the process, so they need not be walked.
    Garbage is collected first, so nothing collectable is frozen.
    """
    gc.collect()
    gc.freeze()


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
        self._generation = 0  # bumped by forget_models
        self._resolver: EntityResolver | None = None
        self._resolver_lock = threading.Lock()
        self._keys: dict[str, key_jobs.ApiKey] = {}
        self._keys_read = -float("inf")
        self._audit: list[audit_jobs.AuditEvent] = []
        self._audit_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._warm = False
        self.cache: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, *, warm: bool = False) -> None:
        """Open the store, start the store worker; with ``warm`` (a long-running server)
        load the serving model and the resolver and freeze them out of the garbage
        collector's reach (also each model loaded later)."""
        import torch

        # one thread per scoring call: small batches are latency-bound, and several
        # requests run at once on the server's threads
        torch.set_num_threads(self.config.torch_threads)
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self._store = Store(self.settings.resolved_store_path)
        self.keys(refresh=True)
        self._stop.clear()
        self._worker = threading.Thread(target=self._work_loop, daemon=True, name="store-worker")
        self._worker.start()
        self._warm = warm
        if warm:
            self.resolver()
            try:
                self.model()
            except LookupError:
                pass
            _freeze_heap()

    def close(self) -> None:
        """Stop the store worker, write every queued audit entry and close the store.

        Raises
        ------
        StoreError
            If the store refuses the last audit entries (they are logged first).
        """
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
            self._worker = None
        try:
            self.flush_audit()
        finally:
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

    def fresh_keys(self) -> dict[str, key_jobs.ApiKey] | None:
        """The cached keys if read within ``key_cache_seconds`` (no store access), else
        None: the caller must then call :meth:`keys` (off the event loop)."""
        if time.monotonic() - self._keys_read > self.config.key_cache_seconds:
            return None
        return self._keys

    def may_refresh_keys(self) -> bool:
        """Whether an unknown key id may trigger a re-read of the key table now (at most
        once a second, whatever is presented)."""
        return time.monotonic() - self._keys_read > _MISS_REFRESH_SECONDS

    # -- audit -------------------------------------------------------------------------
    def audit(self, event: audit_jobs.AuditEvent) -> None:
        """Queue an audit entry (written within ``audit_flush_seconds``)."""
        with self._audit_lock:
            self._audit.append(event)

    @property
    def audit_pending(self) -> int:
        """Audit entries queued and not yet written."""
        return len(self._audit)

    def flush_audit(self) -> int:
        """Write queued audit entries now, in one transaction; returns rows written.

        Raises
        ------
        StoreError
            If the store refuses them; they stay queued (in order) for the next flush.
        """
        with self._audit_lock:
            pending, self._audit = self._audit, []
        if not pending:
            return 0
        try:
            return self.with_store(lambda s: audit_jobs.record_events(s, pending))
        except BaseException:
            with self._audit_lock:
                self._audit[:0] = pending
            raise

    def _work_loop(self) -> None:
        """The store worker (see the module docstring)."""
        flush_every = self.config.audit_flush_seconds
        refresh_every = self.config.key_cache_seconds / 2
        tick = max(0.05, min(flush_every, refresh_every))
        next_flush = next_refresh = time.monotonic()
        while not self._stop.wait(tick):
            now = time.monotonic()
            if now >= next_flush:
                next_flush = now + flush_every
                try:
                    self.flush_audit()
                except StoreError as exc:  # kept queued; retried on the next tick
                    log.error(
                        "audit entries not written yet (%d queued): %s", len(self._audit), exc
                    )
            if refresh_every > 0 and now >= next_refresh:
                next_refresh = now + refresh_every
                try:
                    self.keys(refresh=True)
                    self._refresh_serving()
                except Exception as exc:  # the request path re-reads when this lags
                    log.warning("could not refresh keys / the serving model: %s", exc)

    def _refresh_serving(self) -> None:
        """Re-read which model serves and load it if new, so requests find it in memory."""
        if self._serving is None:
            return  # nothing served yet, or just activated: the next request loads it
        try:
            self.model(recheck=True)
        except LookupError:
            return

    # -- models and the resolver --------------------------------------------------------
    def loaded_model(self, model_id: str | None = None) -> LoadedModel | None:
        """What :meth:`model` would return, if that needs no store access now, else None.

        The serving model (``model_id`` None) is found in memory while its choice was
        checked within ``key_cache_seconds``; a named model always goes to the store
        (its registration is checked on every call).
        """
        if model_id is not None:
            return None
        cached = self._serving
        if cached is None or time.monotonic() - cached[1] > self.config.key_cache_seconds:
            return None
        return self._models.get(cached[0])

    def model(self, model_id: str | None = None, *, recheck: bool = False) -> LoadedModel:
        """A loaded model: ``model_id``, else the active one, else the newest registered.

        Raises
        ------
        LookupError
            When nothing is registered or ``model_id`` is unknown.
        StoreError, DataError
            When the model folder is missing or was changed after registration.
        """
        if model_id is None and not recheck:
            # which model serves is re-read at most every key_cache_seconds (activations
            # through this app clear it at once): no store query on the scoring hot path
            found = self.loaded_model()
            if found is not None:
                return found
        generation = self._generation
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
                RecordScorer(model),
            )
            if self._warm:
                _freeze_heap()
        loaded = self._models[mid]
        if model_id is None and generation == self._generation:
            # (an activation in the meantime makes this choice stale: leave it unset)
            self._serving = (mid, time.monotonic())
        return loaded

    @property
    def models_loaded(self) -> int:
        """How many models are loaded."""
        return len(self._models)

    def forget_models(self) -> None:
        """Drop loaded models (after an activation, the next call loads afresh)."""
        self._generation += 1
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
