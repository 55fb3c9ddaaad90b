"""Fixtures of the monitoring tests: a small MoE on German credit, the real Redis, backends."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import redis
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.models import MoERiskClassifier
from riskmoe.monitoring import MemoryStreamBackend, RedisStreamBackend
from riskmoe.workflow.models import train

REDIS_URL = "redis://127.0.0.1:6379/0"
SMALL = dict(expert_hidden=16, d_embedding=4, n_bins=8, max_epochs=5, n_ensemble=1, random_state=0)


@pytest.fixture(scope="session")
def german(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series, Any]:
    """Bundled German credit (works offline): train/test split and its feature groups."""
    settings = Settings(home=tmp_path_factory.mktemp("german"), use_shared_data=False, offline=True)
    ds = load_dataset("german_credit", settings=settings)
    X, y = ds.X_y()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return X_tr, X_te, y_tr, y_te, dict(ds.feature_groups)


@pytest.fixture(scope="session")
def registered(tmp_path_factory) -> Settings:
    """A home whose store registers a small MoE trained once per session on German credit
    (``riskmoe train``'s job; 5 epochs: mechanics, not accuracy)."""
    # one folder per session, so the CLI tests (which import this fixture) reuse the model
    home = tmp_path_factory.getbasetemp() / "registered-german"
    settings = Settings(home=home, use_shared_data=False, offline=True)
    if not (home / "model" / "manifest.json").is_file():
        train("german_credit", home / "model", settings, model_params=SMALL)
    return settings


@pytest.fixture(scope="session")
def small_moe(registered) -> MoERiskClassifier:
    """The registered model (its training split is ``german``'s)."""
    return MoERiskClassifier.load(registered.home / "model")


@pytest.fixture()
def registered_home(registered, tmp_path) -> Settings:
    """A fresh home holding a copy of the registering store (tests write to their own)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(registered.resolved_store_path, home / "riskmoe.duckdb")
    return Settings(home=home, use_shared_data=False, offline=True)


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis:
    """The real Redis on 127.0.0.1:6379 (run in CI and here)."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=5)
    client.ping()
    return client


@pytest.fixture()
def stream_name(redis_client) -> Iterator[str]:
    """A unique stream name, deleted (with its dead-letter stream) afterwards."""
    name = f"riskmoe-test:{uuid.uuid4().hex}"
    yield name
    redis_client.delete(name, f"{name}:dead", f"{name}:alerts")


@pytest.fixture(params=["memory", "redis"])
def backend(request, redis_client, stream_name) -> Any:
    """The same consumer-group semantics on both backends."""
    if request.param == "memory":
        b: Any = MemoryStreamBackend(stream_name, "g")
    else:
        b = RedisStreamBackend(redis_client, stream_name, "g")
    b.ensure_group()
    return b
