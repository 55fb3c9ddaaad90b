"""The stream consumer on both backends: scores, grades and alerts in the store exactly once,
poison events dead-lettered with their reason, crafted batches refused by the guard."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from riskmoe.data.store import Store
from riskmoe.monitoring import ALERT_TABLE, MonitorRules, event_fields
from riskmoe.workflow.monitor import (
    GRADES_TABLE,
    GUARD_TABLE,
    SCORES_TABLE,
    build_consumer,
    publish_frame,
)


def _consumer(backend, small_moe, german, store_path, name="c1", **kw):
    X_tr, X_te = german[0], german[1]
    known = {f"german_credit:{i}" for i in list(X_tr.index) + list(X_te.index)}
    return build_consumer(
        backend,
        small_moe,
        X_tr,
        store_path,
        name=name,
        known_entities=known,
        rules=kw.pop("rules", MonitorRules(pd_thresholds={"calm": 0.5}, regime="calm")),
        batch_size=kw.pop("batch_size", 25),
        claim_idle_ms=kw.pop("claim_idle_ms", 60_000),
        **kw,
    )


def test_replay_scores_every_event_once_and_dead_letters_poison(
    backend, small_moe, german, tmp_path
):
    X_te = german[1].head(60)
    publish_frame(backend, X_te, "german_credit")
    good = json.loads(event_fields("x", "german_credit:0", datetime(2024, 1, 1), {})["data"])
    backend.publish({"data": "{not json"})
    backend.publish({"data": json.dumps({**good, "features": "no"})})
    unknown = X_te.iloc[0].to_dict()
    backend.publish(event_fields("u1", "acme:1", datetime(2024, 1, 1), unknown))
    store_path = tmp_path / "s.duckdb"
    stats = _consumer(backend, small_moe, german, store_path).run(until_idle=True, block_ms=10)
    assert (stats.scored, stats.dead_lettered) == (60, 3)
    reasons = sorted(m.fields["reason"] for m in backend.dead_letters())
    assert reasons[0].startswith("bad JSON")
    assert reasons[1] == "unknown entity 'acme:1'"
    assert reasons[2] == "wrong schema: 'features' must be a non-empty dict"
    assert backend.pending() == {}
    with Store(store_path) as store:
        scores = store.table(SCORES_TABLE)
        grades = store.table(GRADES_TABLE)
    expected = {f"replay:german_credit:{i}" for i in X_te.index}
    assert set(scores["event_id"]) == expected and len(scores) == 60
    assert set(grades["event_id"]) == expected
    # the stored PD is the model's own
    direct = small_moe.predict_proba(X_te)[:, 1]
    by_id = scores.set_index("event_id")["pd"]
    stored = [by_id[f"replay:german_credit:{i}"] for i in X_te.index]
    assert stored == pytest.approx(direct, abs=1e-6)
    shares = pd.DataFrame([json.loads(s) for s in scores["gate_shares"]])
    assert set(shares.columns) == set(german[4]) and shares.sum(axis=1).to_numpy() == pytest.approx(
        1.0
    )

    # the same events again (a producer retry): nothing is added
    publish_frame(backend, X_te, "german_credit")
    again = _consumer(backend, small_moe, german, store_path, name="c2").run(block_ms=10)
    assert again.scored == 60
    with Store(store_path) as store:
        assert len(store.table(SCORES_TABLE)) == 60


def test_a_consumer_dying_mid_batch_is_recovered_exactly_once(backend, small_moe, german, tmp_path):
    X_te = german[1].head(50)
    publish_frame(backend, X_te, "german_credit")
    store_path = tmp_path / "s.duckdb"
    first = _consumer(backend, small_moe, german, store_path, name="first", batch_size=20)
    first.poll()  # one batch committed and acknowledged
    backend.read("first", count=20)  # the next batch delivered, then the consumer "dies"
    assert backend.pending() == {"first": 20}
    live = _consumer(backend, small_moe, german, store_path, name="live", claim_idle_ms=0)
    stats = live.run(block_ms=10)
    assert stats.claimed == 20 and stats.read == 10
    assert backend.pending() == {}
    with Store(store_path) as store:
        scores = store.table(SCORES_TABLE)
    assert len(scores) == 50 and scores["event_id"].is_unique
    assert (scores.loc[scores["consumer"] == "live", "deliveries"] >= 2).sum() == 20


def test_pd_alerts_open_once_and_resolve(backend, small_moe, german, tmp_path):
    X_te = german[1]
    pds = small_moe.predict_proba(X_te)[:, 1]
    thr = float(pd.Series(pds).quantile(0.7))
    risky = X_te.iloc[[int(pd.Series(pds).idxmax())]]
    safe = X_te.iloc[[int(pd.Series(pds).idxmin())]]
    entity = "german_credit:1"
    at = datetime(2024, 3, 1)
    for i, row in enumerate([risky, risky, safe]):
        rec = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].items()}
        backend.publish(event_fields(f"e{i}", entity, at.replace(day=i + 1), rec))
    rules = MonitorRules(pd_thresholds={"calm": thr}, regime="calm")
    store_path = tmp_path / "s.duckdb"
    _consumer(backend, small_moe, german, store_path, rules=rules, batch_size=1).run(block_ms=10)
    with Store(store_path) as store:
        alerts = store.table(ALERT_TABLE).sort_values("as_of")
        grades = store.table(GRADES_TABLE).sort_values("as_of")
    mine = alerts[alerts["subject"] == entity]
    assert mine["status"].tolist() == ["open", "resolved"]  # the second risky event: no repeat
    assert mine["source"].tolist() == ["e0", "e2"]
    assert mine["resolves"].iloc[1] == mine["alert_id"].iloc[0]
    assert mine["regime"].iloc[0] == "calm" and mine["dimension"].iloc[0] in german[4]
    assert grades["change"].tolist()[0] == 0 and grades["change"].tolist()[2] < 0


def test_a_crafted_batch_is_refused_whole_and_logged(backend, small_moe, german, tmp_path):
    crafted = german[1].head(30).copy()
    crafted["credit_amount"] = 10_000_000
    publish_frame(backend, crafted, "german_credit")
    store_path = tmp_path / "s.duckdb"
    stats = _consumer(backend, small_moe, german, store_path, batch_size=30).run(block_ms=10)
    assert (stats.scored, stats.refused_batches, stats.dead_lettered) == (0, 1, 30)
    reasons = {m.fields["reason"] for m in backend.dead_letters()}
    assert reasons == {
        "guard: batch of 30 rows refused as out of distribution: out_of_range_share of column "
        "'credit_amount' is 1.0000, above the limit 0.2500."
    }
    with Store(store_path) as store:
        logged = store.table(GUARD_TABLE)
        assert SCORES_TABLE not in store.log_names()
    assert logged["statistic"].tolist() == ["out_of_range_share"]
    assert logged["column_name"].tolist() == ["credit_amount"]
    assert len(json.loads(logged["event_ids"].iloc[0])) == 30


def test_expert_share_shift_names_the_dimension(backend, small_moe, german, tmp_path):
    X_te = german[1].head(40)
    publish_frame(backend, X_te, "german_credit")
    store_path = tmp_path / "s.duckdb"
    c = _consumer(
        backend,
        small_moe,
        german,
        store_path,
        rules=MonitorRules(
            pd_thresholds={"calm": 0.99}, regime="calm", share_window=40, share_shift=0.01
        ),
        batch_size=40,
    )
    # a reference far from what the model routes: every dimension moved by >= 1 pp
    shares = {k: (0.0 if v > 0.5 else 1.0) for k, v in c.reference_shares.items()}
    c.reference_shares = shares
    c.run(block_ms=10)
    with Store(store_path) as store:
        alerts = store.table(ALERT_TABLE)
    shift = alerts[alerts["rule"] == "expert_share_shift"]
    assert set(shift["dimension"]) == set(shares)
    assert all("expert share" in m and "pp over the last 40 events" in m for m in shift["message"])
