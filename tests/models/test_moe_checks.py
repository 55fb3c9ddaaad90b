"""scikit-learn's estimator checks on a small MoERiskClassifier configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from riskmoe.models import MoERiskClassifier

# Small and quick: a few epochs of a narrow network. calibration=None so class weights move
# the predicted labels (Platt scaling would map them back to observed frequencies).
SMALL = MoERiskClassifier(
    n_experts=3,
    top_k=2,
    expert_hidden=8,
    d_embedding=4,
    n_bins=8,
    max_epochs=8,
    patience=3,
    learning_rate=2e-2,
    calibration=None,
    n_ensemble=1,
)

# Every check scikit-learn yields passes. (check_dataframe_column_names_consistency, not
# yielded by scikit-learn 1.9, would fail on purpose: columns are matched by name, so a
# reordered frame is accepted; unknown or missing columns raise a SchemaError naming them.)
EXPECTED_FAILURES: dict[str, str] = {}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    # tiny models: a second intra-op thread only adds synchronisation overhead
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@parametrize_with_checks([SMALL], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
