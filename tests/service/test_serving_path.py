"""The fast scoring path over a real uvicorn server and a real DuckDB store: the same PDs
as ``riskmoe score``, keys verified from memory (revocations still take effect), and an
audit log that holds every request once the app has shut down."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmoe.cli import app as cli_app
from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store
from riskmoe.exceptions import StoreError
from riskmoe.service import ServiceConfig, create_app
from riskmoe.service.routes.score import INLINE_RECORDS
from riskmoe.service.state import ServiceState
from riskmoe.workflow import keys as key_jobs
from riskmoe.workflow import models as model_jobs
from riskmoe.workflow.audit import AUDIT_TABLE, AuditEvent


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def _riskmoe_score(model_dir: Path, rows: pd.DataFrame, tmp: Path, monkeypatch) -> list[float]:
    """PDs from the ``riskmoe score`` command on a CSV of ``rows``."""
    monkeypatch.setenv("RISKMOE_HOME", str(tmp / "cli-home"))
    src, out = tmp / "rows.csv", tmp / "scores.csv"
    rows.to_csv(src, index=False)
    res = CliRunner().invoke(
        cli_app, ["score", "--model", str(model_dir), "--input", str(src), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return pd.read_csv(out)["pd"].tolist()


def test_pds_equal_riskmoe_score_for_a_batch_and_for_single_records(live, tmp_path, monkeypatch):
    X, _ = load_dataset("german_credit", settings=live.settings).X_y()
    rows = X.iloc[100:300]
    expected = _riskmoe_score(live.model_dir, rows, tmp_path, monkeypatch)
    with live.client("analyst") as c:
        r = c.post("/v1/score", json={"records": _records(rows)})  # the thread-pool path
        assert r.status_code == 200, r.text
        assert [x["pd"] for x in r.json()["results"]] == expected
        # one record at a time (scored on the event loop) against a one-row file each:
        # a row's PD may differ in the last bits with the rows it is batched with
        for i in range(3):
            row = rows.iloc[[i]]
            (res,) = c.post("/v1/score", json={"records": _records(row)}).json()["results"]
            assert [res["pd"]] == _riskmoe_score(live.model_dir, row, tmp_path, monkeypatch)
    assert INLINE_RECORDS < len(rows)


@pytest.fixture(scope="module")
def own_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    """A home of its own (the session's live server holds the shared one): a tiny model
    and a key per role."""
    home = tmp_path_factory.mktemp("serving") / "home"
    settings = Settings(home=home, use_shared_data=False, offline=True)
    model_jobs.train(
        "german_credit",
        home / "models" / "tiny",
        settings,
        model_params={"max_epochs": 1, "n_ensemble": 1, "expert_hidden": 8},
    )
    with Store(settings.resolved_store_path) as store:
        tokens = {r: key_jobs.create_key(store, f"own {r}", r).token for r in key_jobs.ROLES}
    return settings, tokens


def _record(settings: Settings) -> dict[str, object]:
    X, _ = load_dataset("german_credit", settings=settings).X_y()
    return _records(X.iloc[[0]])[0]


def test_scoring_needs_no_store_access(own_home, serve):
    settings, tokens = own_home
    app = create_app(settings, ServiceConfig(key_cache_seconds=600))
    state = app.state.riskmoe
    body = {"records": [_record(settings)]}
    with serve(app) as url, httpx.Client(base_url=url, timeout=20) as c:
        assert c.post("/v1/score", json=body, headers={"X-API-Key": tokens["analyst"]}).is_success
        with state.store():  # hold the one store connection: any use of it would wait
            r = c.post("/v1/score", json=body, headers={"X-API-Key": tokens["analyst"]})
            assert r.status_code == 200, r.text
            r = c.post("/v1/score", json=body, headers={"X-API-Key": tokens["viewer"]})
            assert r.status_code == 403


def test_a_key_revoked_behind_the_apps_back_is_refused_after_the_refresh(own_home, serve):
    settings, _ = own_home
    with Store(settings.resolved_store_path) as store:
        new = key_jobs.create_key(store, "revoked later", "analyst")
    app = create_app(settings, ServiceConfig(key_cache_seconds=0.5))
    state = app.state.riskmoe
    body = {"records": [_record(settings)]}
    headers = {"X-API-Key": new.token}
    with serve(app) as url, httpx.Client(base_url=url, timeout=20) as c:
        assert c.post("/v1/score", json=body, headers=headers).status_code == 200
        with state.store() as store:  # not through the keys route: no immediate re-read
            key_jobs.revoke_key(store, new.key.key_id)
        deadline = time.monotonic() + 30
        codes = []
        while time.monotonic() < deadline:
            codes.append(c.post("/v1/score", json=body, headers=headers).status_code)
            if codes[-1] != 200:
                break
            time.sleep(0.1)
    assert codes[-1] == 401, codes
    assert set(codes[:-1]) <= {200}


def test_every_request_is_in_the_audit_log_after_shutdown(own_home, serve):
    settings, tokens = own_home
    with Store(settings.resolved_store_path) as store:
        before = len(store.table(AUDIT_TABLE)) if AUDIT_TABLE in store.log_names() else 0
    # nothing is written while serving: the shutdown must write all of it
    app = create_app(settings, ServiceConfig(audit_flush_seconds=60))
    body = {"records": [_record(settings)]}
    sent: Counter[tuple[str, str, str, int]] = Counter()
    with serve(app) as url, httpx.Client(base_url=url, timeout=20) as c:
        key_id = {r: key_jobs.split_key(t)[0] for r, t in tokens.items()}
        for _ in range(40):
            assert c.post("/v1/score", json=body, headers={"X-API-Key": tokens["analyst"]})
            sent[(key_id["analyst"], "analyst", "POST /v1/score", 200)] += 1
        for _ in range(5):
            c.post("/v1/score", json=body)
            sent[("anonymous", "", "POST /v1/score", 401)] += 1
            c.post("/v1/score", json=body, headers={"X-API-Key": tokens["viewer"]})
            sent[(key_id["viewer"], "viewer", "POST /v1/score", 403)] += 1
            c.get("/v1/models", headers={"X-API-Key": tokens["viewer"]})
            sent[(key_id["viewer"], "viewer", "GET /v1/models", 200)] += 1
        # the guard queues an entry just after its response is sent: wait for the last
        deadline = time.monotonic() + 10
        while app.state.riskmoe.audit_pending < sum(sent.values()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.riskmoe.audit_pending == sum(sent.values())  # none written yet
    with Store(settings.resolved_store_path) as store:
        log = store.table(AUDIT_TABLE)
    assert len(log) - before == sum(sent.values())
    new = log.sort_values("at").iloc[before:]
    got = Counter(
        (str(r.actor), str(r.role), str(r.action), int(r.status))
        for r in new.itertuples(index=False)
    )
    assert got == sent
    assert new["event_id"].is_unique
    for token in tokens.values():
        assert token.split(".")[1] not in log.to_csv()


def test_audit_entries_the_store_refuses_stay_queued(own_home):
    settings, _ = own_home
    state = ServiceState(settings, ServiceConfig())
    state.audit(AuditEvent("k1", "viewer", "GET /v1/models", 200))
    with pytest.raises(StoreError, match="not started"):
        state.flush_audit()  # no store connection yet
    assert state.audit_pending == 1
    state.start()
    try:
        with state.store() as store:
            before = len(store.table(AUDIT_TABLE))
        assert state.flush_audit() == 1
        assert state.audit_pending == 0
        with state.store() as store:
            assert len(store.table(AUDIT_TABLE)) == before + 1
    finally:
        state.close()
