"""An ensemble's members evaluated side by side, for the few rows a service scores at once.

Scoring one record with an ensemble of ten networks runs each network in turn: some forty
small tensor operations a member, four hundred a record, nearly all of it interpreter
overhead (~0.2 ms a member). :class:`StackedMembers` stacks the members' weights along a
leading member axis once, and runs the default-probability task for all members with
batched matrix products: one embedding lookup, one router product, two products per
expert, whatever the number of members. Every expert runs on every row and is weighted
by the sparse top-k gates, as on the dense dispatch path -- the same function as the
sparse path, equal to it up to float rounding (tested) -- so it is used only for small
batches (:data:`STACKED_MAX_ROWS`), where running the unchosen experts costs nothing.

Only plain ensembles qualify: members that are :class:`MoENetwork` with piecewise-linear
numeric embeddings sharing bin edges, float32 ``nn.Linear`` experts and routers (not
quantised or pruned into other layer types) and the same architecture.
:meth:`StackedMembers.build` returns None for anything else and the caller runs members
one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, cast

import torch
from torch import Tensor, nn

from riskmoe.features.embeddings import CategoricalEmbedding, PiecewiseLinearEmbedding
from riskmoe.features.encoder import UNSEEN_INDEX
from riskmoe.models.moe._layers import Expert, MoELayer, Router, plain_expert

if TYPE_CHECKING:
    from riskmoe.models.moe._network import MoENetwork

__all__ = ["STACKED_MAX_ROWS", "StackedMembers"]

#: batches up to this many rows are scored by :class:`StackedMembers` when it applies
STACKED_MAX_ROWS = 64


class _StackedExpert(NamedTuple):
    view: Tensor | slice | None  # flat-input positions (a slice if consecutive), None for all
    w1: Tensor  # (M, d_in, H)
    b1: Tensor  # (M, 1, H)
    w2: Tensor  # (M, H, H)
    b2: Tensor  # (M, 1, H)

    def __call__(self, x: Tensor) -> Tensor:
        if self.view is None:
            xv = x
        elif isinstance(self.view, slice):
            xv = x[..., self.view]
        else:
            xv = x.index_select(2, self.view)
        h = torch.baddbmm(self.b1, xv, self.w1).relu_()
        return torch.baddbmm(self.b2, h, self.w2).relu_()


def _stack_expert(experts: Sequence[nn.Module], view: Tensor | slice | None) -> _StackedExpert:
    first = [cast(nn.Linear, cast(Expert, e).net[0]) for e in experts]
    second = [cast(nn.Linear, cast(Expert, e).net[3]) for e in experts]
    return _StackedExpert(
        view=view,
        w1=torch.stack([lin.weight.t() for lin in first]).contiguous(),
        b1=torch.stack([lin.bias for lin in first]).unsqueeze(1),
        w2=torch.stack([lin.weight.t() for lin in second]).contiguous(),
        b2=torch.stack([lin.bias for lin in second]).unsqueeze(1),
    )


class StackedMembers:
    """Default-task logits and gates of all ensemble members at once (see module notes).

    Build with :meth:`build`; call with the encoded tensors of a batch to get the member
    mean of the task-0 logits (batch, 1) and the members' gates side by side
    (batch, 1, n_members * n_experts), as :class:`MoEEnsemble` returns them.
    """

    def __init__(self, members: Sequence[MoENetwork]) -> None:
        first = members[0]
        embedding = first.embedding
        # the first member's: locate() depends on the bin edges only, shared by all
        self.numeric = cast("PiecewiseLinearEmbedding | None", embedding.numeric)
        self.d = int(embedding.d_embedding)
        self.n_members = len(members)
        self.n_experts = first.moe.n_experts
        self.top_k = first.moe.top_k
        if self.numeric is not None:
            tables, missing = zip(
                *(
                    cast(PiecewiseLinearEmbedding, m.embedding.numeric).lookup_table()
                    for m in members
                ),
                strict=True,
            )
            self.table = torch.stack(tables)  # (M, F * (n_bins + 1), 2d)
            self.missing_weight = torch.stack(missing).unsqueeze(1)  # (M, 1, F, d)
        categorical = embedding.categorical
        self.offsets = None if categorical is None else categorical.offsets
        if categorical is not None:
            self.category_weight = torch.stack(
                [cast(CategoricalEmbedding, m.embedding.categorical).weight for m in members]
            )
        router = [cast(Router, m.moe.routers[0]) for m in members]
        self.gate_w = torch.stack([r.gate.weight.t() for r in router]).contiguous()
        self.gate_b = torch.stack([r.gate.bias for r in router]).unsqueeze(1)
        self.experts = [
            _stack_expert(
                [m.moe.experts[n] for m in members],
                (first.moe._view_slices[n] or first.moe.view(n)) if first.moe._views[n] else None,
            )
            for n in range(self.n_experts)
        ]
        self.shared = [
            _stack_expert([m.moe.shared[s] for m in members], None)
            for s in range(len(first.moe.shared))
        ]
        self.head_w = torch.stack([m.head_weight[0] for m in members]).unsqueeze(1)  # (M,1,H)
        self.head_b = torch.stack([m.head_bias[0] for m in members]).unsqueeze(1)  # (M, 1)

    @classmethod
    @torch.no_grad()
    def build(cls, modules: Sequence[nn.Module]) -> StackedMembers | None:
        """Stack ``modules`` if they qualify (module notes), else None."""
        from riskmoe.models.moe._network import MoENetwork

        if len(modules) < 2 or any(type(m) is not MoENetwork for m in modules):
            return None
        members = cast("list[MoENetwork]", list(modules))
        first = members[0]
        first_moe: MoELayer = first.moe
        for m in members:
            moe: MoELayer = m.moe
            emb = m.embedding
            if not (
                (emb.numeric is None or isinstance(emb.numeric, PiecewiseLinearEmbedding))
                and (emb.numeric is None or first.embedding.same_bins(emb))
                and emb.d_embedding == first.embedding.d_embedding
                and emb.n_numeric == first.embedding.n_numeric
                and emb.n_categorical == first.embedding.n_categorical
                and moe.n_experts == first_moe.n_experts
                and moe.top_k == first_moe.top_k
                and len(moe.shared) == len(first_moe.shared)
                and moe._views == first_moe._views
                and all(type(r) is Router and type(r.gate) is nn.Linear for r in moe.routers)
                and all(plain_expert(e) for e in [*moe.experts, *moe.shared])
                and all(torch.equal(moe.view(n), first_moe.view(n)) for n in range(moe.n_experts))
                and all(p.dtype == torch.float32 for p in m.parameters())
            ):
                return None
            theirs, ours = emb.categorical, first.embedding.categorical
            if theirs is not None and not torch.equal(
                cast(Tensor, theirs.offsets), cast(Tensor, cast(nn.Module, ours).offsets)
            ):
                return None
        return cls(members)

    def __call__(
        self, numeric: Tensor, missing: Tensor, categorical: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Member-mean task-0 logits (batch, 1) and gates (batch, 1, M * N)."""
        batch = numeric.shape[0] if self.numeric is not None else categorical.shape[0]
        parts = []
        if self.numeric is not None:
            index, fraction = self.numeric.locate(numeric)
            n_features = index.shape[1]
            rows = self.table.index_select(1, index.reshape(-1))
            rows = rows.view(self.n_members, batch, n_features, 2 * self.d)
            tokens = torch.addcmul(rows[..., : self.d], fraction.unsqueeze(-1), rows[..., self.d :])
            tokens = tokens.addcmul_(missing.unsqueeze(-1), self.missing_weight).relu_()
            parts.append(tokens)
        if self.offsets is not None:
            idx = categorical + self.offsets
            emb = self.category_weight.index_select(1, idx.reshape(-1))
            emb = emb.view(self.n_members, batch, categorical.shape[1], self.d)
            parts.append(emb * (categorical != UNSEEN_INDEX).unsqueeze(-1).to(emb.dtype))
        x = torch.cat(parts, dim=2).flatten(2)  # (M, b, n_tokens * d)
        logits = torch.baddbmm(self.gate_b, x, self.gate_w)
        top_logits, indices = logits.topk(self.top_k, dim=-1)  # as Router.decide
        gates = torch.zeros_like(logits).scatter(2, indices, torch.softmax(top_logits, dim=-1))
        out = None
        for n, expert in enumerate(self.experts):
            term = gates[..., n : n + 1] * expert(x)
            out = term if out is None else out + term
        assert out is not None
        for expert in self.shared:
            out = out + expert(x)
        logits = (out * self.head_w).sum(-1) + self.head_b  # (M, b)
        mean = logits.mean(0).unsqueeze(-1)  # (b, 1)
        side_by_side = gates.permute(1, 0, 2).reshape(batch, 1, -1)
        return mean, side_by_side
