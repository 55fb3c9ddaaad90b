"""Input guard: real held-out rows pass; crafted and malformed batches are refused with reasons."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmoe.exceptions import SchemaError
from riskmoe.monitoring import BatchRefused, InputGuard, psi


@pytest.fixture(scope="module")
def guard(german) -> InputGuard:
    return InputGuard.fit(german[0])


def test_held_out_rows_of_the_same_population_pass(guard, german):
    X_te = german[1]
    decision = guard.check(X_te)  # 200 rows: range, level and PSI checks all apply
    assert decision.accepted, decision.reason
    assert set(decision.worst) == {"out_of_range_share", "unseen_level_share", "psi"}


def test_a_crafted_batch_is_refused_whole_with_the_statistic_and_limit(guard, german):
    crafted = german[1].head(40).copy()
    crafted["credit_amount"] = 1_000_000  # every value far beyond the training range
    with pytest.raises(
        BatchRefused,
        match=r"out_of_range_share of column 'credit_amount' is 1\.0000, above the limit 0\.2500",
    ) as info:
        guard.enforce(crafted)
    d = info.value.decision
    assert (d.accepted, d.n_rows, d.statistic, d.column) == (
        False,
        40,
        "out_of_range_share",
        "credit_amount",
    )


def test_psi_refusal_matches_the_drift_room(german):
    X_tr, X_te = german[0], german[1]
    guard = InputGuard.fit(X_tr, max_out_of_range_share=1.0, max_unseen_level_share=1.0)
    # steer routing: every applicant with the longest durations seen in training
    shifted = X_te.copy()
    shifted["duration_in_month"] = X_tr["duration_in_month"].quantile(0.95)
    d = guard.check(shifted)
    assert not d.accepted and d.statistic == "psi" and d.column == "duration_in_month"
    sample = pd.Series(
        [v for v in next(c for c in guard.columns if c.name == "duration_in_month").sample]
    )
    assert d.value == pytest.approx(psi(sample, shifted["duration_in_month"]))


def test_schema_errors_name_the_column_and_rows(guard, german):
    bad = german[1].head(5).copy()
    bad["age_in_years"] = bad["age_in_years"].astype(object)
    bad.iloc[2, bad.columns.get_loc("age_in_years")] = "thirty"
    with pytest.raises(
        SchemaError, match=r"column 'age_in_years' must be numeric; rows \[\d+\] hold \['thirty'\]"
    ):
        guard.check(bad)
    with pytest.raises(SchemaError, match="lacks required columns"):
        guard.check(german[1].drop(columns=["purpose"]))


def test_row_problems_for_one_event(guard, german):
    row = german[1].iloc[0].to_dict()
    row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
    assert guard.row_problems(row) == []
    row["duration_in_month"] = "long"
    del row["purpose"]
    problems = guard.row_problems(row)
    assert any("missing required fields ['purpose']" in p for p in problems)
    assert any("'duration_in_month' must be a number" in p for p in problems)


def test_guard_round_trips_through_json(guard, german):
    again = InputGuard.from_dict(json.loads(json.dumps(guard.to_dict())))
    crafted = german[1].head(40).copy()
    crafted["credit_amount"] = 1_000_000
    assert again.check(crafted) == guard.check(crafted)
    assert again.check(german[1]).accepted
