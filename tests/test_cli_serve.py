"""``riskmoe keys``, ``riskmoe serve`` (a real process) and ``riskmoe report``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app
from riskmoe.data.store import Store
from riskmoe.workflow.audit import AUDIT_TABLE


@pytest.fixture()
def env(tmp_path, monkeypatch) -> dict[str, str]:
    home = tmp_path / "home"
    values = {"RISKMOE_HOME": str(home), "RISKMOE_OFFLINE": "1", "RISKMOE_USE_SHARED_DATA": "0"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_keys_create_list_revoke(env):
    res = _invoke("keys", "create", "risk desk", "--role", "analyst", "--json")
    assert res.exit_code == 0, res.output
    made = json.loads(res.stdout)
    assert made["role"] == "analyst" and made["token"].startswith(f"rmk_{made['key_id']}.")
    listed = json.loads(_invoke("keys", "list", "--json").stdout)
    assert [k["key_id"] for k in listed] == [made["key_id"]]
    assert "token" not in listed[0] and made["token"] not in _invoke("keys", "list").stdout
    res = _invoke("keys", "revoke", made["key_id"], "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["active"] is False
    with Store(Path(env["RISKMOE_HOME"]) / "riskmoe.duckdb") as store:
        log = store.table(AUDIT_TABLE)
    assert list(log.sort_values("at")["action"]) == ["keys.create", "keys.revoke"]
    assert made["token"].split(".")[1] not in log.to_csv()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "x", "--role", "root"], "unknown role 'root'"),
        (["keys", "create", "bad/name"], "is not allowed"),
        (["keys", "revoke", "0123456789ab"], "no API key with id"),
        (["report", "--out", "report.txt"], "must end in .html"),
    ],
)
def test_bad_arguments_get_one_error_line(env, args, message):
    res = _invoke(*args)
    assert res.exit_code == 2
    assert message in res.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_starts_a_server_that_honours_keys(env, tmp_path):
    token = json.loads(_invoke("keys", "create", "ops", "--role", "viewer", "--json").stdout)[
        "token"
    ]
    port = _free_port()
    exe = Path(sys.executable).parent / "riskmoe"
    log = tmp_path / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"not ready: {log.read_text()}")
        assert httpx.get(f"{url}/v1/models").status_code == 401
        r = httpx.get(f"{url}/v1/models", headers={"X-API-Key": token})
        assert r.status_code == 200 and r.json() == []
        r = httpx.get(f"{url}/v1/resolve", params={"q": "招行"}, headers={"X-API-Key": token})
        assert r.json()["code"] == "600036.SH"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_report_without_stored_results_says_what_to_run(env, tmp_path):
    res = _invoke("report", "--out", str(tmp_path / "r.html"))
    assert res.exit_code == 2
    assert "riskmoe run" in res.stderr
    assert not (tmp_path / "r.html").exists()
