"""explain(): gate weights, additive expert contributions, IG completeness, reason codes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import torch

from riskmoe.models import Explanation, MoERiskClassifier
from riskmoe.models.moe._explain import format_value


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def frame(n: int = 400, seed: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    status = rng.choice(["paid duly", "revolving", "late"], n, p=[0.5, 0.3, 0.2])
    limit = rng.lognormal(11, 0.6, n)
    limit[rng.random(n) < 0.05] = np.nan
    X = pd.DataFrame(
        {
            "LIMIT_BAL": limit,
            "BILL_AMT1": rng.gamma(2.0, 5000.0, n),
            "PAY_STATUS_1": pd.Categorical(status),
            "EDUCATION": pd.Series(rng.choice(["university", "high school"], n), dtype="string"),
        }
    )
    z = 2.0 * (status == "late") - 0.8 * (np.nan_to_num(np.log(limit), nan=11.0) - 11) - 1.2
    return X, pd.Series((rng.random(n) < 1 / (1 + np.exp(-z))).astype(int))


SMALL = dict(expert_hidden=16, d_embedding=4, n_bins=8, max_epochs=5, n_ensemble=1, random_state=0)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    return frame()


@pytest.fixture(scope="module")
def explained(data) -> tuple[MoERiskClassifier, Explanation]:
    X, y = data
    clf = MoERiskClassifier(n_experts=4, top_k=2, **SMALL).fit(X, y)
    return clf, clf.explain(X.head(40), n_reasons=3)


def test_gates_sum_to_one_with_top_k_experts(explained):
    _, exp = explained
    np.testing.assert_allclose(exp.gate_weights.sum(1), 1.0, rtol=1e-6)
    assert ((exp.gate_weights > 0).sum(1) == 2).all()


def test_expert_contributions_add_up_to_the_logit(explained, data):
    clf, exp = explained
    X, _ = data
    np.testing.assert_allclose(exp.contributions.sum(1) + exp.bias, exp.logit, atol=1e-5)
    np.testing.assert_allclose(exp.logit, clf.decision_logits(X.head(40)), atol=1e-5)
    np.testing.assert_allclose(exp.probability, clf.predict_proba(X.head(40))[:, 1], atol=1e-6)
    assert exp.term_names == ("shared_0", *clf.expert_names_)
    # experts a row was not routed to contribute exactly nothing
    routed = exp.contributions[:, 1:]
    assert (routed[exp.gate_weights == 0] == 0).all()


def test_reason_codes_name_real_columns(explained, data):
    _, exp = explained
    X, _ = data
    # a column at its baseline value (median / mode) has no attribution and no reason code
    assert all(1 <= len(codes) <= 3 for codes in exp.reason_codes)
    for i, codes in enumerate(exp.reason_codes):
        for code in codes:
            column, rest = code.split(" = ", 1)
            assert column in X.columns
            assert rest.endswith(("(raises risk)", "(lowers risk)"))
            assert rest.startswith(format_value(X[column].iloc[i]) + " (")
    late = [i for i in range(40) if X["PAY_STATUS_1"].iloc[i] == "late"]
    assert any("PAY_STATUS_1 = late (raises risk)" in exp.reason_codes[i] for i in late)


def test_attributions_are_complete_for_a_smooth_router(data):
    # With top_k == n_experts the gates are a smooth softmax, so integrated gradients must
    # satisfy completeness: sum_j IG_j(x) = logit(x) - logit(baseline), up to quadrature error.
    X, y = data
    clf = MoERiskClassifier(n_experts=2, top_k=2, **SMALL).fit(X, y)
    exp = clf.explain(X.head(25), n_steps=64)
    gap = exp.logit - exp.baseline_logit
    np.testing.assert_allclose(exp.attributions.sum(1), gap, atol=0.02 + 0.02 * np.abs(gap).max())
    np.testing.assert_allclose(exp.delta, gap - exp.attributions.sum(1), atol=1e-9)


def test_delta_reports_routing_switches(explained):
    _, exp = explained
    assert exp.delta.shape == (40,)
    assert np.isfinite(exp.delta).all()


def test_to_dict_is_json_and_to_frame_is_tabular(explained):
    _, exp = explained
    payload = json.loads(json.dumps(exp.to_dict()))
    assert len(payload["rows"]) == 40
    row = payload["rows"][0]
    assert set(row["attributions"]) == set(exp.feature_names)
    assert row["reason_codes"] == list(exp.reason_codes[0])
    table = exp.to_frame()
    assert table.shape[0] == 40
    assert {"logit", "probability", "reason_1", "gate:routed_0[all]"} <= set(table.columns)


def test_ensemble_explanations_name_members(data):
    X, y = data
    clf = MoERiskClassifier(n_experts=2, top_k=1, **{**SMALL, "n_ensemble": 2}).fit(X, y)
    exp = clf.explain(X.head(5))
    assert exp.expert_names == (
        "m0.routed_0[all]",
        "m0.routed_1[all]",
        "m1.routed_0[all]",
        "m1.routed_1[all]",
    )
    np.testing.assert_allclose(exp.contributions.sum(1) + exp.bias, exp.logit, atol=1e-5)
    np.testing.assert_allclose(exp.gate_weights.sum(1), 2.0, rtol=1e-6)


def test_bad_explain_arguments(explained, data):
    clf, _ = explained
    with pytest.raises(ValueError, match="n_steps must be >= 1; got n_steps=0"):
        clf.explain(data[0].head(2), n_steps=0)


def test_reason_code_values_read_naturally():
    assert format_value(50000.0) == "50000"
    assert format_value(np.float32(0.25)) == "0.25"
    assert format_value(None) == "missing"
    assert format_value(pd.NA) == "missing"
    assert format_value("paid duly") == "paid duly"
