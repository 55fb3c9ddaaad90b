"""Expert pruning: the router renormalises over the kept experts; the pruned model is valid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.features import FeatureEmbedding
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import MoENetwork, prune_experts
from riskmoe.models.moe._pruning import slice_network


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _net(views) -> MoENetwork:
    embedding = FeatureEmbedding([(0.0, 1.0, 2.0), (5.0, 9.0)], [4], d_embedding=4)
    return MoENetwork(embedding, views, n_shared=1, d_hidden=8, top_k=2, noisy_gating=True)


def test_sliced_router_is_the_old_softmax_renormalised_over_kept_experts():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        full = _net([[0], [1], [2], None]).eval()
        keep = [0, 2, 3]
        small = slice_network(full, keep, _net([[0], [2], None]).eval())
    rng = np.random.default_rng(0)
    numeric = torch.from_numpy(rng.uniform(0, 9, (50, 2)).astype(np.float32))
    missing = torch.zeros(50, 2)
    categorical = torch.from_numpy(rng.integers(0, 4, (50, 1)))
    with torch.no_grad():
        x = full.tokens(numeric, missing, categorical).flatten(1)
        p_old = torch.softmax(full.moe.routers[0].gate(x), -1)[:, keep]
        p_new = torch.softmax(small.moe.routers[0].gate(x), -1)
        # definition of renormalisation: p_new = p_old / sum over kept of p_old
        torch.testing.assert_close(p_new, p_old / p_old.sum(1, keepdim=True))
        # kept experts compute exactly what they computed before
        torch.testing.assert_close(small.moe.expert_outputs(x), full.moe.expert_outputs(x)[:, keep])
        gates = small(numeric, missing, categorical).gate_weights[:, 0]
    assert torch.all((gates > 0).sum(1) == 2)
    torch.testing.assert_close(gates.sum(1), torch.ones(50))


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.Series, dict]:
    home = tmp_path_factory.mktemp("home")
    ds = load_dataset(
        "german_credit", settings=Settings(home=home, use_shared_data=False, offline=True)
    )
    X, y = ds.X_y()
    return X, y, dict(ds.feature_groups)


@pytest.mark.slow  # trains on German credit
def test_pruned_model_is_smaller_valid_and_saves(german, tmp_path: Path):
    X, y, groups = german
    # no balancing loss, so utilisation is free to skew and some experts fall below 10 %
    model = MoERiskClassifier(
        feature_groups=groups, n_experts=8, balance_coef=0.0, n_ensemble=1, max_epochs=4,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    threshold = float(np.sort(model.expert_usage_)[2]) + 1e-9  # drops at least 3 experts
    res = prune_experts(model, X, y, threshold=threshold, max_epochs=2)
    pruned = res.model
    assert len(res.dropped) >= 3 and len(res.kept) + len(res.dropped) == 8
    assert all(res.usage_before[name] < threshold for name in res.dropped)
    assert pruned.n_experts_ == len(res.kept) and pruned.expert_names_ == list(res.kept)
    assert res.n_parameters_after < res.n_parameters_before
    assert res.n_parameters_after == sum(p.numel() for p in pruned.module_.parameters())
    assert model.n_experts_ == 8  # the input model is untouched
    p = pruned.predict_proba(X)[:, 1]
    assert np.all(np.isfinite(p)) and np.all((p > 0) & (p < 1))
    assert pruned.expert_usage_.sum() == pytest.approx(pruned.top_k)
    loaded = MoERiskClassifier.load(pruned.save(tmp_path / "pruned"))
    np.testing.assert_array_equal(loaded.predict_proba(X)[:, 1], p)
    assert loaded.expert_names_ == list(res.kept)
    with pytest.raises(ValueError, match=r"threshold must be a share in \[0, 1\]; got threshold=2"):
        prune_experts(model, X, y, threshold=2)


@pytest.mark.slow  # trains on German credit
def test_at_least_top_k_experts_survive(german):
    X, y, _ = german
    model = MoERiskClassifier(n_experts=4, n_ensemble=1, max_epochs=2, random_state=1).fit(X, y)
    res = prune_experts(model, X, y, threshold=1.0, max_epochs=1)
    top = np.argsort(-model.expert_usage_, kind="stable")[: model.top_k]
    assert set(res.kept) == {model.expert_names_[k] for k in top}
