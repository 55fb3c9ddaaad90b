"""The API over a real uvicorn server: auth, roles, scoring, 422s, limits, audit."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from riskmoe.data.store import Store
from riskmoe.monitoring import Alert, alert_id_for
from riskmoe.workflow.audit import AUDIT_TABLE
from riskmoe.workflow.service_jobs import append_alerts

# every route with the least role it needs and a body that passes validation
ROUTES = [
    ("GET", "/metrics", "viewer", None),
    ("POST", "/v1/score", "analyst", {"records": [{"x": 1}]}),
    ("POST", "/v1/explain", "analyst", {"records": [{"x": 1}]}),
    ("GET", "/v1/resolve?q=abc", "viewer", None),
    ("POST", "/v1/ask", "analyst", {"question": "招行的信用风险"}),
    ("GET", "/v1/entities/600036.SH", "viewer", None),
    ("GET", "/v1/alerts", "viewer", None),
    ("GET", "/v1/risk/var", "viewer", None),
    ("GET", "/v1/models", "viewer", None),
    ("POST", "/v1/models/activate", "admin", {"model_id": "x"}),
    ("GET", "/v1/datasets", "viewer", None),
    ("POST", "/v1/datasets/ingest", "admin", {"dataset": "german_credit"}),
    ("GET", "/v1/keys", "admin", None),
    ("POST", "/v1/keys", "admin", {"name": "x", "role": "viewer"}),
    ("DELETE", "/v1/keys/0123456789ab", "admin", None),
]
_RANK = {"viewer": 0, "analyst": 1, "admin": 2}


def _send(client, method, path, body):
    return (
        client.request(method, path, json=body)
        if body is not None
        else client.request(method, path)
    )


def test_every_route_refuses_a_missing_and_a_revoked_key(live):
    with live.client() as anon, live.client("revoked") as revoked:
        for method, path, _, body in ROUTES:
            r = _send(anon, method, path, body)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"] == "unauthorized"
            r = _send(revoked, method, path, body)
            assert r.status_code == 401, (method, path, r.text)
            assert "revoked" in r.json()["message"]


def test_every_route_refuses_a_role_below_its_own(live):
    for method, path, need, body in ROUTES:
        for role in ("viewer", "analyst"):
            if _RANK[role] >= _RANK[need]:
                continue
            with live.client(role) as c:
                r = _send(c, method, path, body)
            assert r.status_code == 403, (role, method, path, r.text)
            assert need in r.json()["message"]


def test_a_malformed_or_forged_key_is_refused_without_echoing_it(live):
    forged = live.tokens["admin"][:-4] + "AAAA"
    for token in ("nonsense", forged):
        with live.client() as c:
            r = c.get("/v1/models", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert token not in r.text


def test_health_and_readiness_need_no_key(live):
    with live.client() as c:
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.get("/readyz").json()["status"] == "ready"


def test_score_one_record_matches_the_model_in_process(live):
    from riskmoe.models import MoERiskClassifier
    from riskmoe.risk import MasterScale

    with live.client("analyst") as c:
        r = c.post("/v1/score", json={"records": [live.record]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_id"] == live.model_id
    (res,) = body["results"]

    model = MoERiskClassifier.load(live.model_dir)
    expected = float(model.predict_proba(pd.DataFrame([live.record]))[0, 1])
    assert res["pd"] == pytest.approx(expected, rel=1e-9)
    assert res["grade"] == int(MasterScale().grade(expected))
    assert res["tier"] == str(MasterScale().tier(expected))
    assert res["reasons"] is None


def test_score_a_batch_of_a_thousand(live):
    records = [dict(live.record, credit_amount=1000 + 10 * i) for i in range(1000)]
    with live.client("analyst") as c:
        r = c.post("/v1/score", json={"records": records})
    assert r.status_code == 200, r.text
    pds = [x["pd"] for x in r.json()["results"]]
    assert len(pds) == 1000 and all(0.0 <= p <= 1.0 for p in pds)
    assert len(set(pds)) > 1  # the amount changes the score


def test_explain_returns_reasons_and_expert_weights_that_sum_to_one(live):
    with live.client("analyst") as c:
        r = c.post("/v1/score", json={"records": [live.record], "explain": True})
    assert r.status_code == 200, r.text
    (res,) = r.json()["results"]
    assert len(res["reasons"]) == 3
    assert sum(res["expert_weights"].values()) == pytest.approx(1.0, abs=1e-5)
    assert any(name.startswith("routed_") for name in res["expert_weights"])


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({}, "body.records", "required"),
        ({"records": []}, "body.records", "at least 1"),
        ({"records": [{"age_in_years": [1]}]}, "body.records.0.age_in_years", ""),
        ({"records": [{"x": 1}], "extra": 1}, "body.extra", "not permitted"),
        ({"records": [{"x": 1}], "explain": "maybe"}, "body.explain", "boolean"),
    ],
)
def test_bad_score_input_gets_422_naming_the_field(live, body, field, fragment):
    with live.client("analyst") as c:
        r = c.post("/v1/score", json=body)
    assert r.status_code == 422, r.text
    details = r.json()["details"]
    assert any(d["field"].startswith(field) and fragment in d["problem"] for d in details), details


def test_missing_model_fields_and_text_in_numbers_get_422(live):
    with live.client("analyst") as c:
        r = c.post("/v1/score", json={"records": [{"duration_in_month": 6}]})
        assert r.status_code == 422
        assert "credit_amount" in r.json()["message"]
        bad = dict(live.record, credit_amount="lots")
        r = c.post("/v1/score", json={"records": [bad]})
        assert r.status_code == 422, r.text
        assert "credit_amount" in r.json()["message"]
        r = c.post(
            "/v1/score",
            content=json.dumps({"records": [dict(live.record, age_in_years=1e400)]}).replace(
                "inf", "Infinity"
            ),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422, r.text


def test_oversize_bodies_get_413_before_they_are_read(live):
    big = {"records": [dict(live.record, note="x" * 400)] * 6000}
    with live.client("analyst") as c:
        r = c.post("/v1/score", json=big)
        assert r.status_code == 413
        assert "at most 2,000,000" in r.json()["message"]

        def chunks():  # no Content-Length: counted while streaming
            for _ in range(300):
                yield b" " * 10_000

        r = c.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_ingest_refuses_paths_outside_the_upload_folder(live):
    with live.client("admin") as c:
        for path in ("../riskmoe.duckdb", "/etc/passwd", "a/../../x.csv", "~/x.csv"):
            r = c.post("/v1/datasets/ingest", json={"path": path})
            assert r.status_code == 422, (path, r.text)
            assert "upload folder" in r.json()["message"]
        r = c.post("/v1/datasets/ingest", json={"dataset": "no_such_set"})
        assert r.status_code == 404
        r = c.post("/v1/datasets/ingest", json={"dataset": "german_credit", "path": "a.csv"})
        assert r.status_code == 422


def test_ingest_an_uploaded_file(live):
    uploads = live.settings.home / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / "limits.csv").write_text("desk,limit\nfx,10\nrates,20\n")
    with live.client("admin") as c:
        r = c.post("/v1/datasets/ingest", json={"path": "limits.csv", "name": "desk_limits"})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 2 and r.json()["columns"] == ["desk", "limit"]


def test_a_tampered_model_folder_is_refused_on_activation(live, tmp_path):
    from riskmoe.workflow import models as model_jobs

    copy = tmp_path / "tampered"
    shutil.copytree(live.model_dir, copy)
    with live.app.state.riskmoe.store() as store:  # register the copy as its own model
        reg = model_jobs.registered_models(store)
        row = reg[reg["model_id"] == live.model_id].iloc[[-1]].copy()
        row["model_id"] = "tampered-1"
        row["path"] = str(copy)
        store.ingest(model_jobs.REGISTRY_TABLE, pd.concat([reg, row], ignore_index=True))
    try:
        _refuse_tampered(live, copy)
    finally:  # later tests (the monitor replay) take the newest model of the dataset
        with live.app.state.riskmoe.store() as store:
            store.ingest(model_jobs.REGISTRY_TABLE, reg)


def _refuse_tampered(live, copy):
    weights = copy / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with live.client("admin") as c:
        r = c.post("/v1/models/activate", json={"model_id": live.model_id})
        assert r.status_code == 200 and r.json()["active"]
        r = c.post("/v1/models/activate", json={"model_id": "tampered-1"})
        assert r.status_code in (409, 422), r.text
        assert "weights.safetensors" in r.json()["message"]
        models = {m["model_id"]: m for m in c.get("/v1/models").json()}
        assert models[live.model_id]["active"] and not models["tampered-1"]["active"]
        assert c.post("/v1/models/activate", json={"model_id": "nope"}).status_code == 404
    with live.client("analyst") as c:  # scoring still uses the untouched model
        r = c.post("/v1/score", json={"records": [live.record]})
        assert r.json()["model_id"] == live.model_id
        r = c.post("/v1/score", json={"records": [live.record], "model_id": "tampered-1"})
        assert r.status_code in (409, 422) and "weights.safetensors" in r.json()["message"]


def test_keys_lifecycle_through_the_api(live):
    with live.client("admin") as admin:
        r = admin.post("/v1/keys", json={"name": "ci bot", "role": "viewer"})
        assert r.status_code == 201, r.text
        token, key_id = r.json()["token"], r.json()["key_id"]
        listed = admin.get("/v1/keys").json()
        assert all("token" not in k and "secret_sha256" not in k for k in listed)
        with live.client() as c:
            assert c.get("/v1/models", headers={"X-API-Key": token}).status_code == 200
        assert admin.delete(f"/v1/keys/{key_id}").json()["active"] is False
        with live.client() as c:
            assert c.get("/v1/models", headers={"X-API-Key": token}).status_code == 401
        assert admin.delete("/v1/keys/ffffffffffff").status_code == 404


def test_resolve_and_entity_history(live):
    with live.client("viewer") as c:
        r = c.get("/v1/resolve", params={"q": "招行"})
        assert r.status_code == 200 and r.json()["code"] == "600036.SH"
        h = c.get("/v1/entities/600036.SH").json()
        assert [p["as_of"] for p in h["history"]] == ["2023-03-31", "2023-06-30", "2023-09-30"]
        # the master scale grades of 0.4%, 0.9%, 3% (bounds 0.45, 1.10, 2.72, 6.69%)
        assert [p["grade"] for p in h["history"]] == ["4", "5", "7"]
        assert c.get("/v1/entities/NOPE.XX").status_code == 404
        assert c.get("/v1/entities/..%2F..%2Fetc").status_code in (404, 422)


def test_alerts_appear_once_stored(live):
    alert = Alert(
        alert_id_for("pd_above_threshold", "600000.SH", "2024-01-31"),
        "600000.SH",
        "pd_above_threshold",
        "critical",
        "PD 12% above the 5% threshold",
        __import__("datetime").datetime(2024, 1, 31),
        "test",
        0.12,
        0.05,
    )
    with live.app.state.riskmoe.store() as store:
        append_alerts(store, [alert])
    with live.client("viewer") as c:
        got = c.get("/v1/alerts", params={"severity": "critical"}).json()
        assert alert.alert_id in [a["alert_id"] for a in got]
        assert c.get("/v1/alerts", params={"severity": "bad"}).status_code == 422


def test_rate_limit_sheds_with_429(live):
    state = live.app.state.riskmoe
    original = state.limiter
    from riskmoe.service.state import RateLimiter

    state.limiter = RateLimiter(rate=1.0, burst=2.0)
    try:
        with live.client("viewer") as c:
            codes = [c.get("/v1/alerts").status_code for _ in range(5)]
        assert codes[:2] == [200, 200] and 429 in codes
    finally:
        state.limiter = original


def test_audit_log_records_who_did_what_without_secrets(live):
    with live.client("viewer") as c:
        c.get("/v1/models")
    state = live.app.state.riskmoe
    state.flush_audit()
    with state.store() as store:
        log = store.table(AUDIT_TABLE)
    assert {"GET /v1/models", "POST /v1/score"} <= set(log["action"])
    assert (log["status"] == 401).any() and (log["actor"] == "anonymous").any()
    text = log.to_csv()
    for token in live.tokens.values():
        assert token.split(".")[1] not in text


def test_metrics_in_prometheus_text(live):
    with live.client("viewer") as c:
        r = c.get("/metrics")
    assert r.status_code == 200
    assert 'riskmoe_requests_total{method="POST",route="/v1/score",status="200"}' in r.text
    assert "riskmoe_request_seconds_bucket" in r.text


def test_var_matches_the_workflow_job(live):
    from riskmoe.workflow.risk_jobs import market_risk

    with live.client("viewer") as c:
        r = c.get("/v1/risk/var", params={"source": "sp500", "level": 0.99})
        assert r.status_code == 200, r.text
        expected = market_risk("sp500", live.settings, level=0.99)
        assert r.json()["var"] == pytest.approx(expected.estimate.var)
        assert c.get("/v1/risk/var", params={"source": "/etc/passwd"}).status_code == 422
        r = c.get("/v1/risk/var", params={"method": "magic"})
        assert r.status_code == 422 and "historical" in json.dumps(r.json()["details"])


def test_cors_is_off_by_default(live):
    with live.client("viewer") as c:
        r = c.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_unsafe_cors_is_refused():
    from pydantic import ValidationError

    from riskmoe.service import ServiceConfig

    with pytest.raises(ValidationError, match="may not be"):
        ServiceConfig(cors_origins=["*"])


def test_store_is_usable_after_shutdown_flush(live):
    # the audit writer flushes on its own within audit_flush_seconds
    state = live.app.state.riskmoe
    with live.client("viewer") as c:
        c.get("/v1/datasets")
    time.sleep(state.config.audit_flush_seconds * 3)
    with state.store() as store:
        assert "GET /v1/datasets" in set(store.table(AUDIT_TABLE)["action"])
    assert isinstance(Store, type)


def test_stored_report_renders_models_grades_alerts_and_lineage(live, tmp_path):
    from riskmoe.reporting import write_html
    from riskmoe.risk import credit_portfolio_summary
    from riskmoe.workflow.service_jobs import stored_report

    # a graded portfolio as the credit stage of `riskmoe run` stores it (mechanics only)
    rng = np.random.default_rng(0)
    pds = rng.uniform(0.001, 0.3, 200)
    exposures = pd.DataFrame(
        {"pd": pds, "lgd": 0.45, "ead": 1000.0, "asset_class": "other_retail", "segment": "all"}
    )
    graded = credit_portfolio_summary(exposures).exposures.assign(
        y=(rng.uniform(size=200) < pds).astype(int)
    )
    graded["grade"] = graded["grade"].astype(str)
    with live.app.state.riskmoe.store() as store:
        store.ingest("demo_portfolio", graded.reset_index(drop=True))
        report = stored_report(store)
    keys = [s.key for s in report.sections]
    assert "models" in keys and "entities" in keys and "demo_portfolio" in keys
    (section,) = [s for s in report.sections if s.key == "demo_portfolio"]
    by_grade = section.tables[0]
    el_col = list(by_grade.columns).index("el")
    assert sum(r[el_col] for r in by_grade.rows) == pytest.approx(graded["el"].sum())
    assert [f.title for f in section.figures] == ["EL and capital by grade", "ROC", "Calibration"]
    assert any(k.startswith("model ") for k in report.lineage)
    assert any("grade_history__v" in k for k in report.lineage)
    html = write_html(report, tmp_path / "report.html").read_text(encoding="utf-8")
    assert live.model_id in html and "<script src=" not in html
