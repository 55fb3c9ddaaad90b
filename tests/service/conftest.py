"""A real service for the tests: a trained model in a DuckDB store, keys for each role,
and uvicorn serving the app on a free loopback port in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store
from riskmoe.service import ServiceConfig, create_app
from riskmoe.workflow import keys as key_jobs
from riskmoe.workflow import models as model_jobs
from riskmoe.workflow.risk_jobs import grade_entities


@dataclass
class Live:
    """A running service: base URL, settings, a token per role, the model, a record."""

    url: str
    settings: Settings
    tokens: dict[str, str]
    model_id: str
    model_dir: Path
    record: dict[str, object]
    app: object

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {} if role is None else {"X-API-Key": self.tokens[role]}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="session")
def service_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str], str]:
    """A home with a small MoE trained on the bundled German credit data, keys for every
    role (and a revoked one), and a grade history for 600036.SH."""
    home = tmp_path_factory.mktemp("service") / "home"
    settings = Settings(home=home, use_shared_data=False, offline=True)
    res = model_jobs.train(
        "german_credit",
        home / "models" / "german",
        settings,
        model_params={"max_epochs": 4, "n_ensemble": 1, "expert_hidden": 16},
    )
    with Store(settings.resolved_store_path) as store:
        tokens = {
            role: key_jobs.create_key(store, f"test {role}", role).token for role in key_jobs.ROLES
        }
        revoked = key_jobs.create_key(store, "test revoked", "admin")
        key_jobs.revoke_key(store, revoked.key.key_id)
        tokens["revoked"] = revoked.token
    # grade history of one entity: mechanics only (PDs made up for the page to draw)
    grade_entities(
        pd.DataFrame(
            {
                "entity": ["600036.SH"] * 3,
                "as_of": ["2023-03-31", "2023-06-30", "2023-09-30"],
                "pd": [0.004, 0.009, 0.03],
                "model_version": [res.model_id] * 3,
            }
        ),
        settings,
    )
    return settings, tokens, res.model_id


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """uvicorn serving ``app`` on 127.0.0.1:<free port> in a thread; yields the base URL.
    Leaving the block stops the server the way a signal does (the app's shutdown runs)."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:  # pragma: no cover
        pytest.fail("the service did not become ready within 30 s")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="session")
def serve() -> Callable[[FastAPI], AbstractContextManager[str]]:
    """:func:`serving`, for tests that start and stop apps of their own."""
    return serving


@pytest.fixture(scope="session")
def live(service_home: tuple[Settings, dict[str, str], str]) -> Iterator[Live]:
    """uvicorn serving the app on 127.0.0.1:<free port> for the whole session."""
    settings, tokens, model_id = service_home
    config = ServiceConfig(rate_per_second=1000, burst=2000, max_body_bytes=2_000_000)
    app = create_app(settings, config)
    with serving(app) as url:
        X, _ = load_dataset("german_credit", settings=settings).X_y()
        record = {k: (v.item() if hasattr(v, "item") else v) for k, v in X.iloc[0].items()}
        yield Live(
            url, settings, tokens, model_id, settings.home / "models" / "german", record, app
        )
