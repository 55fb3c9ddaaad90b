"""Shared fixtures: isolated settings, a loopback HTTP file server, the shared data root."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskmoe.config import Settings, default_shared_data_dirs

SHARED_DATA = next((d for d in default_shared_data_dirs() if d.is_dir()), None)


@pytest.fixture()
def isolated_settings(tmp_path: Path) -> Settings:
    """Settings that see no shared data and never download: only explicit paths and bundles."""
    return Settings(home=tmp_path / "home", use_shared_data=False, offline=True)


@pytest.fixture()
def shared_settings(tmp_path: Path) -> Settings:
    """Settings over ../shared/data (skips the test when it is absent)."""
    if SHARED_DATA is None:
        pytest.skip("../shared/data is not beside the project")
    return Settings(home=tmp_path / "home", offline=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temporary folder: (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
