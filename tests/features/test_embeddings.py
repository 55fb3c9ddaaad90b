"""Embeddings: piecewise-linear encoding against a plain loop, periodic, categorical tables."""

from __future__ import annotations

import pytest
import torch

from riskmoe.features import (
    CategoricalEmbedding,
    FeatureEmbedding,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
)

EDGES = [(0.0, 1.0, 3.0, 7.0), (10.0, 20.0)]


def ple_loop(x: float, edges: tuple[float, ...]) -> list[float]:
    """Gorishniy et al. (2022), eq. 2, written out bin by bin (clipped to [0, 1])."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if x < lo:
            out.append(0.0)
        elif x >= hi:
            out.append(1.0)
        else:
            out.append((x - lo) / (hi - lo))
    return out


@pytest.mark.parametrize("values", [(-5.0, 15.0), (0.5, 10.0), (2.0, 25.0), (100.0, float("inf"))])
def test_piecewise_linear_encoding_matches_the_loop(values):
    emb = PiecewiseLinearEmbedding(EDGES, d_embedding=4)
    x = torch.tensor([values])
    missing = torch.tensor([[0.0, 1.0]])
    enc = emb.encode(x, missing)
    assert enc.shape == (1, 2, 4)  # max 3 bins + missing flag
    assert enc[0, 0, :3].tolist() == pytest.approx(ple_loop(values[0], EDGES[0]))
    # the second feature has one bin; padded bins stay 0; last channel is the missing flag
    assert enc[0, 1, :3].tolist() == pytest.approx(ple_loop(values[1], EDGES[1]) + [0.0, 0.0])
    assert enc[0, :, 3].tolist() == [0.0, 1.0]
    assert emb(x, missing).shape == (1, 2, 4)


def test_periodic_embedding_shapes_and_quantile_position():
    emb = PeriodicEmbedding(EDGES, d_embedding=5, n_frequencies=3)
    x = torch.tensor([[3.0, 10.0], [7.0, 20.0]])
    enc = emb.encode(x, torch.zeros(2, 2))
    assert enc.shape == (2, 2, 7)
    assert emb(x, torch.zeros(2, 2)).shape == (2, 2, 5)
    # x = 7 is the top edge (u = 1, s = 1) and 20 too: same periodic features per frequency
    freq = emb.frequencies.detach()
    expected = torch.cos(2 * torch.pi * freq[0] * 1.0)
    torch.testing.assert_close(enc[1, 0, :3], expected)


def test_categorical_unseen_index_embeds_to_zero():
    emb = CategoricalEmbedding([4, 3], d_embedding=2)
    out = emb(torch.tensor([[0, 1], [2, 0]]))
    assert out.shape == (2, 2, 2)
    assert out[0, 0].abs().sum() == 0 and out[1, 1].abs().sum() == 0
    assert out[0, 1].abs().sum() > 0
    # column offsets: index 1 of column 1 is row 4 + 1 of the shared table
    torch.testing.assert_close(out[0, 1], emb.weight[5])


def test_feature_embedding_orders_numeric_then_categorical():
    emb = FeatureEmbedding(EDGES, [4], d_embedding=3)
    out = emb(torch.zeros(5, 2), torch.zeros(5, 2), torch.full((5, 1), 2))
    assert out.shape == (5, 3, 3)
    assert emb.n_tokens == 3
    only_cat = FeatureEmbedding([], [4, 5], d_embedding=3)
    out = only_cat(torch.zeros(2, 0), torch.zeros(2, 0), torch.ones(2, 2).long())
    assert out.shape == (2, 2, 3)
    with pytest.raises(ValueError, match="must be 'piecewise_linear' or 'periodic'; got 'fourier'"):
        FeatureEmbedding(EDGES, [], d_embedding=3, kind="fourier")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["piecewise_linear", "periodic"])
def test_tokens_without_gradient_equal_the_concatenated_parts(kind: str):
    """Scoring writes numeric and categorical tokens into one output instead of cat."""
    torch.manual_seed(3)
    emb = FeatureEmbedding(EDGES, [4, 3], d_embedding=5, kind=kind).eval()  # type: ignore[arg-type]
    numeric = torch.randn(40, 2) * 5
    missing = (torch.rand(40, 2) < 0.3).float()
    categorical = torch.stack([torch.randint(0, 4, (40,)), torch.randint(0, 3, (40,))], 1)
    categorical[:5] = 0  # unseen: zero tokens
    graph = emb(numeric, missing, categorical)  # gradient on: the concatenating path
    assert graph.requires_grad
    with torch.no_grad():
        scored = emb(numeric, missing, categorical)
    assert scored.shape == (40, 4, 5)
    assert torch.equal(scored, graph.detach())
    assert scored[:5, 2:].abs().sum() == 0
    only_cat = FeatureEmbedding([], [4], d_embedding=2).eval()
    codes = torch.tensor([[0], [1], [3]])
    with torch.no_grad():
        out = only_cat(torch.zeros(3, 0), torch.zeros(3, 0), codes)
    assert torch.equal(out, only_cat(torch.zeros(3, 0), torch.zeros(3, 0), codes).detach())


def test_piecewise_linear_lookup_equals_the_encoding_and_its_gradient():
    """Out of training the embedding looks up prefix sums instead of encoding every bin."""
    torch.manual_seed(0)
    edges = [tuple(sorted(torch.randn(33).tolist())), *EDGES]  # 32, 3 and 1 bins (padded)
    emb = PiecewiseLinearEmbedding(edges, d_embedding=6)
    x = torch.randn(500, 3) * 4
    x[0] = torch.tensor([float("inf"), float("-inf"), 20.0])  # saturate, below, top edge
    x[1] = torch.tensor([edges[0][7], 3.0, 10.0])  # exactly on inner and bottom edges
    missing = (torch.rand(500, 3) < 0.2).float()
    slow = torch.relu(emb.linear(emb.encode(x, missing)))
    emb.eval()
    index, fraction = emb.locate(x)
    # rows of 33 (32 bins + the pad): past every bin; before any bin; the one bin full
    assert index[0].tolist() == [32, 33 + 0, 66 + 1]
    torch.testing.assert_close(emb(x, missing), slow, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(emb(x, missing, (index, fraction)), emb(x, missing))
    # the same derivative in the value (one slope per bin) and in the weights
    xs = x[2:].clone().requires_grad_(True)
    emb.train()
    (g_slow_x,) = torch.autograd.grad(emb(xs, missing[2:]).sum(), xs)
    emb.eval()
    (g_fast_x,) = torch.autograd.grad(emb(xs, missing[2:]).sum(), xs)
    torch.testing.assert_close(g_fast_x, g_slow_x, rtol=1e-4, atol=1e-5)


def test_feature_embedding_shares_bins_only_with_equal_edges():
    a, b = FeatureEmbedding(EDGES, [], d_embedding=3), FeatureEmbedding(EDGES, [4], d_embedding=5)
    assert a.same_bins(b)
    assert not a.same_bins(FeatureEmbedding([(0.0, 2.0, 3.0, 7.0), (10.0, 20.0)], [], 3))
    periodic = FeatureEmbedding(EDGES, [], d_embedding=3, kind="periodic")
    assert not periodic.same_bins(periodic) and periodic.locate(torch.zeros(1, 2)) is None
