"""MoE building blocks: routing, sparse vs dense dispatch, auxiliary losses on hand cases."""

from __future__ import annotations

import math

import pytest
import torch

from riskmoe.models.moe import MoELayer, Router
from riskmoe.models.moe._base import scoring_chunk


def _layer(dispatch: str = "sparse", n_tasks: int = 2) -> MoELayer:
    torch.manual_seed(0)
    # 4 routed experts: two with views (feature groups), two over the whole input
    return MoELayer(
        d_in=12,
        views=[[0, 1, 2, 3], None, [4, 5, 6, 7, 8, 9, 10, 11], None],
        n_shared=1,
        d_hidden=8,
        top_k=2,
        n_tasks=n_tasks,
        dropout=0.1,
        dispatch=dispatch,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("training", [False, True])
def test_gates_sum_to_one_with_exactly_k_experts(training: bool):
    torch.manual_seed(1)
    router = Router(d_in=6, n_experts=5, top_k=2).train(training)
    out = router(torch.randn(64, 6))
    assert out.gate_weights.shape == (64, 5)
    torch.testing.assert_close(out.gate_weights.sum(1), torch.ones(64))
    assert ((out.gate_weights > 0).sum(1) == 2).all()
    picked = torch.zeros_like(out.gate_weights, dtype=torch.bool).scatter(1, out.indices, True)
    assert torch.equal(picked, out.gate_weights > 0)
    assert out.logits.dtype == torch.float32


def test_router_is_float32_even_for_double_input():
    router = Router(d_in=3, n_experts=3, top_k=1)
    out = router(torch.randn(4, 3, dtype=torch.float64))
    assert out.logits.dtype == torch.float32


def test_noise_only_in_training():
    torch.manual_seed(2)
    router = Router(d_in=4, n_experts=4, top_k=1)
    x = torch.randn(256, 4)
    router.eval()
    assert torch.equal(router(x).indices, router(x).indices)
    router.train()
    # with learned noise std softplus(0) ~ 0.69, some rows change expert between draws
    assert not torch.equal(router(x).indices, router(x).indices)


def test_sparse_dispatch_equals_dense():
    sparse = _layer("sparse").eval()
    dense = _layer("dense").eval()
    dense.load_state_dict(sparse.state_dict())
    x = torch.randn(50, 12)
    a, b = sparse(x), dense(x)
    torch.testing.assert_close(a.output, b.output, rtol=1e-5, atol=1e-6)
    assert torch.equal(a.gate_weights, b.gate_weights)
    assert a.output.shape == (50, 2, 8)
    assert a.gate_weights.shape == (50, 2, 4)


def test_scoring_without_gradient_fuses_routers_into_the_shared_expert(monkeypatch):
    """Without a gradient the routers' gates ride along with the shared expert's first
    layer in one product; outputs and expert choices equal the separate products'."""
    layer = _layer("sparse").eval()
    x = torch.randn(300, 12)
    separate = layer(x)  # gradient on: routers and shared expert run one by one
    calls: list[int] = []
    plain_forward = Router.forward

    def counting(self: Router, inputs: torch.Tensor):  # type: ignore[no-untyped-def]
        calls.append(inputs.shape[0])
        return plain_forward(self, inputs)

    monkeypatch.setattr(Router, "forward", counting)
    with torch.no_grad():
        fused = layer(x)
        assert calls == []  # no router ran on its own
        one_task = layer(x, [1])
    torch.testing.assert_close(fused.output, separate.output.detach(), rtol=1e-5, atol=1e-6)
    assert torch.equal(fused.gate_weights > 0, separate.gate_weights > 0)
    torch.testing.assert_close(one_task.output[:, 0], fused.output[:, 1])
    # a forward hook on a gate (routing_noise) must see its module run: no fusion then
    layer.routers[0].gate.register_forward_hook(lambda _m, _i, out: out)
    with torch.no_grad():
        layer(x)
    assert calls == [300, 300]


def test_router_gates_are_the_renormalised_top_k_of_the_softmax():
    """Shazeer et al. (2017): g = p_n / sum_{m in TopK} p_m, with p = softmax(logits)."""
    torch.manual_seed(4)
    router = Router(d_in=6, n_experts=5, top_k=3).eval()
    out = router(torch.randn(100, 6))
    probs = torch.softmax(out.logits, dim=-1)
    top_p, top_i = probs.topk(3, dim=-1)
    expected = torch.zeros_like(probs).scatter(1, top_i, top_p / top_p.sum(-1, keepdim=True))
    torch.testing.assert_close(out.gate_weights, expected)


def test_consecutive_views_are_read_in_place():
    layer = MoELayer(
        d_in=12, views=[[0, 1, 2, 3], [4, 6], None, [5, 6, 7]], n_shared=0, d_hidden=4, top_k=1
    )
    assert layer._view_slices == [slice(0, 4), None, None, slice(5, 8)]
    x = torch.randn(20, 12)
    rows = torch.tensor([0, 3, 19])
    for n, view in enumerate([[0, 1, 2, 3], [4, 6], list(range(12)), [5, 6, 7]]):
        assert torch.equal(layer._expert_input(x, n), x[:, view])
        assert torch.equal(layer._expert_input(x, n, rows), x[rows][:, view])


def test_scattered_views_are_gathered_a_token_at_a_time_and_columns_first():
    """Views made of whole tokens are gathered token-wise; with few rows picked from
    many the rows go first. Every way gives exactly the flat gather."""
    views = [[4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15], [1, 5, 9], [8, 9, 10, 11, 2, 3]]
    layer = MoELayer(d_in=16, views=views, n_shared=0, d_hidden=4, top_k=1)
    first, scattered, last = layer._view_blocks
    assert first is not None and last is not None and scattered is None
    assert (first[0], first[1].tolist()) == (4, [1, 0, 3])  # tokens of width 4
    assert (last[0], last[1].tolist()) == (2, [4, 5, 1])
    x = torch.randn(40, 16)
    for rows in (None, torch.tensor([0, 7, 39]), torch.arange(0, 40, 2)):
        picked = x if rows is None else x[rows]
        for n, view in enumerate(views):
            assert torch.equal(layer._expert_input(x, n, rows), picked[:, view])


def test_head_logits_fold_the_heads_into_the_experts():
    """Scoring folds the linear heads into each expert's output: the same logits as the
    mixture times the heads; training, a gradient, dense dispatch or a hook on the layer
    take the plain forward."""
    layer = _layer("sparse").eval()
    torch.manual_seed(5)
    weight, bias = torch.randn(2, 8), torch.randn(2)
    x = torch.randn(300, 12)
    plain = layer(x)
    expected = torch.einsum("bth,th->bt", plain.output, weight) + bias
    with torch.no_grad():
        folded = layer.head_logits(x, weight, bias, [0, 1])
        assert folded is not None
        torch.testing.assert_close(folded[0], expected.detach(), rtol=1e-5, atol=1e-5)
        assert torch.equal(folded[1], plain.gate_weights)
        one = layer.head_logits(x, weight[1:], bias[1:], [1])
        assert one is not None
        torch.testing.assert_close(one[0][:, 0], folded[0][:, 1])
        layer.dispatch = "dense"
        assert layer.head_logits(x, weight, bias, [0, 1]) is None
        layer.dispatch = "sparse"
        handle = layer.register_forward_hook(lambda _m, _i, out: out)
        assert layer.head_logits(x, weight, bias, [0, 1]) is None
        handle.remove()
        assert layer.train().head_logits(x, weight, bias, [0, 1]) is None
    assert layer.eval().head_logits(x, weight, bias, [0, 1]) is None  # gradient on


def test_scoring_chunk_keeps_a_chunks_tokens_near_4_mib():
    from types import SimpleNamespace

    def net(n_tokens: int, d: int) -> SimpleNamespace:
        return SimpleNamespace(embedding=SimpleNamespace(n_tokens=n_tokens, d_embedding=d))

    assert scoring_chunk(net(64, 8)) == 2048  # 2**20 floats / 512
    assert scoring_chunk(net(20, 16)) == 3276
    assert scoring_chunk(net(2, 4)) == 8192  # at most
    assert scoring_chunk(net(2000, 32)) == 256  # at least


def test_sparse_dispatch_runs_each_expert_only_on_its_rows():
    layer = _layer("sparse", n_tasks=1).eval()
    seen: list[int] = []
    for expert in layer.experts:
        expert.register_forward_hook(lambda _m, inp, _out: seen.append(inp[0].shape[0]))
    layer(torch.randn(40, 12))
    assert sum(seen) == 40 * 2  # top_k rows per expert call, summed: exactly k per row
    seen.clear()
    layer.dispatch = "dense"
    layer(torch.randn(40, 12))
    assert seen == [40, 40, 40, 40]


def test_expert_views_only_see_their_columns():
    layer = _layer("dense", n_tasks=1).eval()
    x = torch.randn(10, 12)
    y = x.clone()
    y[:, 4:] += 5.0  # outside expert 0's view
    out_x = layer.experts[0](layer._expert_input(x, 0))
    out_y = layer.experts[0](layer._expert_input(y, 0))
    torch.testing.assert_close(out_x, out_y)


def test_load_balancing_loss_hand_computed():
    # 4 rows, 2 experts, top-1. Router probabilities (logits = log p, so softmax gives p):
    #   [0.8, 0.2] -> e0, [0.6, 0.4] -> e0, [0.3, 0.7] -> e1, [0.9, 0.1] -> e0
    # f = [3/4, 1/4] (share of rows dispatched), P = mean probs = [0.65, 0.35]
    # L = alpha * N * sum f_i P_i = 1 * 2 * (0.75*0.65 + 0.25*0.35) = 2 * 0.575 = 1.15
    layer = MoELayer(d_in=2, views=[None, None], n_shared=0, d_hidden=2, top_k=1)
    layer.balance_coef, layer.z_loss_coef = 1.0, 0.0
    probs = torch.tensor([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    selected = torch.tensor([[True, False], [True, False], [False, True], [True, False]])
    loss = layer.auxiliary_loss(probs.log(), selected)
    assert loss.item() == pytest.approx(1.15, abs=1e-6)


def test_load_balancing_loss_is_alpha_when_uniform():
    # uniform probabilities and every expert chosen equally often: f_i = P_i = 1/N, L = alpha
    layer = MoELayer(d_in=2, views=[None] * 4, n_shared=0, d_hidden=2, top_k=2)
    layer.balance_coef, layer.z_loss_coef = 0.01, 0.0
    logits = torch.zeros(4, 4)
    selected = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]]).bool()
    assert layer.auxiliary_loss(logits, selected).item() == pytest.approx(0.01, abs=1e-8)


def test_router_z_loss_hand_computed():
    # logsumexp([0, 0]) = ln 2; logsumexp([ln 3, 0]) = ln 4 = 2 ln 2
    # z = mean of squares = (ln2^2 + 4 ln2^2) / 2 = 2.5 ln2^2 = 1.2011325...
    layer = MoELayer(d_in=2, views=[None, None], n_shared=0, d_hidden=2, top_k=1)
    layer.balance_coef, layer.z_loss_coef = 0.0, 1.0
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    selected = torch.tensor([[True, False], [True, False]])
    assert layer.auxiliary_loss(logits, selected).item() == pytest.approx(
        2.5 * math.log(2) ** 2, rel=1e-6
    )


def test_aux_loss_in_training_only():
    layer = _layer()
    x = torch.randn(16, 12)
    assert layer.train()(x).aux_loss.item() > 0
    assert layer.eval()(x).aux_loss.item() == 0


def test_router_rejects_top_k_above_n_experts():
    with pytest.raises(ValueError, match="must be >= top_k >= 1; got n_experts=2, top_k=3"):
        Router(d_in=3, n_experts=2, top_k=3)
