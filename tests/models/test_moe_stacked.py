"""Small batches score all ensemble members at once: the same logits and gates as one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.models.test_moe_estimator import SMALL, credit_frame

from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe._network import MoEEnsemble
from riskmoe.models.moe._stacked import STACKED_MAX_ROWS, StackedMembers


@pytest.fixture(scope="module")
def fitted() -> tuple[MoERiskClassifier, object]:
    X, y = credit_frame()
    params = {**SMALL, "n_ensemble": 3, "n_shared_experts": 1, "max_epochs": 3}
    model = MoERiskClassifier(**params).fit(X, y)
    return model, model._batch(model.encoder_.transform(X.iloc[:STACKED_MAX_ROWS]))


def _one_by_one(module: MoEEnsemble, batch) -> tuple[torch.Tensor, torch.Tensor]:
    outs = [m(batch.numeric, batch.missing, batch.categorical, [0]) for m in module.members]
    logits = torch.stack([o.logits for o in outs]).mean(0)
    return logits, torch.cat([o.gate_weights for o in outs], dim=-1)


def test_stacked_members_equal_the_members_one_by_one(fitted):
    model, batch = fitted
    module = model.module_.eval()
    with torch.no_grad():
        expected_logits, expected_gates = _one_by_one(module, batch)
        stacked = module(batch.numeric, batch.missing, batch.categorical, [0])
    assert module._stacked is not None and module._stacked[1] is not None  # it was used
    torch.testing.assert_close(stacked.logits, expected_logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stacked.gate_weights, expected_gates, rtol=1e-5, atol=1e-6)
    assert ((stacked.gate_weights > 0).sum(-1) == 2 * 3).all()  # top_k per member
    # a larger batch runs member by member; the rows it shares agree to rounding
    big = model.decision_logits(credit_frame()[0])[:STACKED_MAX_ROWS]
    np.testing.assert_allclose(big, stacked.logits[:, 0].double().numpy(), rtol=1e-5, atol=1e-6)


def test_stacked_weights_follow_parameter_changes(fitted):
    model, batch = fitted
    module = model.module_.eval()
    with torch.no_grad():
        before = module(batch.numeric, batch.missing, batch.categorical, [0]).logits.clone()
        head = module.members[1].head_bias
        head += 1.0  # member 1's logit up by 1: the mean up by 1/3
        try:
            after = module(batch.numeric, batch.missing, batch.categorical, [0]).logits
            torch.testing.assert_close(after, before + 1 / 3, rtol=1e-5, atol=1e-5)
        finally:
            head -= 1.0
        # a parameter replaced rather than changed in place
        member = module.members[2]
        original = member.head_bias
        member.head_bias = torch.nn.Parameter(original.detach() + 3.0)
        try:
            after = module(batch.numeric, batch.missing, batch.categorical, [0]).logits
            torch.testing.assert_close(after, before + 1.0, rtol=1e-5, atol=1e-5)
        finally:
            member.head_bias = original
        restored = module(batch.numeric, batch.missing, batch.categorical, [0]).logits
        torch.testing.assert_close(restored, before)


def test_stacking_refuses_what_it_cannot_run(fitted):
    model, _ = fitted
    members = list(model.module_.members)
    assert StackedMembers.build(members[:1]) is None  # nothing to stack
    odd = MoERiskClassifier(**{**SMALL, "n_ensemble": 2}).fit(*credit_frame(seed=1))
    other = list(odd.module_.members)
    original = other[0].moe.experts[0].net[0]

    class Swapped(torch.nn.Linear):  # e.g. a quantised or pruned replacement layer
        pass

    other[0].moe.experts[0].net[0] = Swapped(original.in_features, original.out_features)
    try:
        assert StackedMembers.build(other) is None
    finally:
        other[0].moe.experts[0].net[0] = original
    assert StackedMembers.build(other) is not None
    # members of two fits have different bin edges
    assert StackedMembers.build([members[0], other[0]]) is None


def test_gradients_and_other_tasks_take_the_member_path(fitted):
    model, batch = fitted
    module = model.module_.eval()
    module._stacked = None
    with torch.enable_grad():
        out = module(batch.numeric, batch.missing, batch.categorical, [0])
    assert out.logits.requires_grad and module._stacked is None
