"""The monitoring stage of `riskmoe run`: the held-out split replayed in-process."""

from __future__ import annotations

import json

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store
from riskmoe.workflow.context import RunConfig, RunContext
from riskmoe.workflow.monitor import SCORES_TABLE
from riskmoe.workflow.stages_monitor import MAX_EVENTS, stage_monitor


def test_stage_replays_the_held_out_rows_and_reports(small_moe, german, tmp_path):
    X_tr, X_te = german[0], german[1]
    settings = Settings(home=tmp_path / "home", use_shared_data=False, offline=True)
    with Store(tmp_path / "run.duckdb") as store:
        ctx = RunContext(settings=settings, config=RunConfig(), store=store)
        ctx.dataset = load_dataset("german_credit", settings=settings)
        ctx.X_train, ctx.X_test = X_tr, X_te
        ctx.models["moe"] = small_moe
        stage_monitor(ctx)
        scores = store.table(SCORES_TABLE)
    res = ctx.results["monitoring"]
    n = min(len(X_te), MAX_EVENTS)
    assert res["backend"] == "in-process" and res["published"] == n
    assert res["stats"]["scored"] == n and res["dead_letters"] == 0
    assert len(scores) == n
    assert res["regime"] in ("calm", "stressed") and res["regime_details"]["as_of"] == "2018-12"
    # a random split: the training and held-out populations are alike
    assert all(f["band"] == "stable" for f in res["drift"]["features"]), res["drift"]
    (section,) = ctx.sections
    assert section.key == "monitoring"
    assert section.tables[0].rows[0][0] == "score"
    assert {t.name for t in section.figures[0].traces} == set(german[4])
    shares = [json.loads(s) for s in scores["gate_shares"]]
    assert all(abs(sum(s.values()) - 1) < 1e-6 for s in shares)
