"""The multi-task MoE network: feature tokens -> MoE layer -> one linear head per task.

Heads are linear, so a task logit splits exactly into per-expert contributions:

.. math:: z_t(x) = b_t + \\sum_s w_t^\\top S_s(x) + \\sum_n g_{t,n}(x)\\, w_t^\\top E_n(x)

which is what :meth:`MoENetwork.contributions` returns and ``explain`` reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, cast

import torch
from torch import Tensor, nn
from torch.nn.modules.module import (
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)

from riskmoe.features import FeatureEmbedding
from riskmoe.models.moe._layers import Dispatch, MoELayer
from riskmoe.models.moe._stacked import STACKED_MAX_ROWS, StackedMembers

__all__ = ["MoEEnsemble", "MoENetwork", "NetworkOutput"]


class NetworkOutput(NamedTuple):
    """What the network returns.

    Attributes
    ----------
    logits : Tensor, shape (batch, n_requested_tasks)
        Raw task outputs (logits for binary tasks, standardised values for regression).
    aux_loss : Tensor, scalar
        Router auxiliary loss (zero in eval mode).
    gate_weights : Tensor, shape (batch, n_requested_tasks, n_experts)
        Sparse routed-expert gates per task.
    """

    logits: Tensor
    aux_loss: Tensor
    gate_weights: Tensor


class MoENetwork(nn.Module):
    """Embeddings, a multi-gate MoE layer and linear task heads.

    Parameters
    ----------
    embedding : FeatureEmbedding
        Column -> token embedding.
    token_views : sequence of (sequence of int or None)
        Per routed expert, the token (column) indices it sees; None for all tokens.
    n_shared : int
        Always-on experts over all tokens.
    d_hidden : int
        Expert width.
    top_k : int
        Routed experts per row and task.
    n_tasks : int
        Task 0 is the default-probability task; the rest are auxiliary.
    dropout, noisy_gating, balance_coef, z_loss_coef, dispatch
        Passed to :class:`~riskmoe.models.moe.MoELayer`.

    Notes
    -----
    ``forward(numeric, missing, categorical, tasks=None)``: (batch, F_num) float32,
    (batch, F_num) float32, (batch, F_cat) int64 -> :class:`NetworkOutput`.
    """

    def __init__(
        self,
        embedding: FeatureEmbedding,
        token_views: Sequence[Sequence[int] | None],
        n_shared: int,
        d_hidden: int,
        top_k: int,
        n_tasks: int = 1,
        dropout: float = 0.1,
        noisy_gating: bool = True,
        balance_coef: float = 0.01,
        z_loss_coef: float = 0.001,
        dispatch: Dispatch = "sparse",
    ) -> None:
        super().__init__()
        self.embedding = embedding
        d = embedding.d_embedding
        views = [
            None if toks is None else [j * d + i for j in toks for i in range(d)]
            for toks in token_views
        ]
        self.moe = MoELayer(
            d_in=embedding.n_tokens * d,
            views=views,
            n_shared=n_shared,
            d_hidden=d_hidden,
            top_k=top_k,
            n_tasks=n_tasks,
            dropout=dropout,
            noisy_gating=noisy_gating,
            balance_coef=balance_coef,
            z_loss_coef=z_loss_coef,
            dispatch=dispatch,
        )
        bound = d_hidden**-0.5
        self.head_weight = nn.Parameter(torch.empty(n_tasks, d_hidden).uniform_(-bound, bound))
        self.head_bias = nn.Parameter(torch.zeros(n_tasks))

    @property
    def dispatch(self) -> Dispatch:
        """Current dispatch mode of the MoE layer."""
        return self.moe.dispatch

    @dispatch.setter
    def dispatch(self, value: Dispatch) -> None:
        self.moe.dispatch = value

    def tokens(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        location: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:
        """Embed the encoded arrays: -> (batch, n_tokens, d_embedding).

        ``location`` is the embedding's ``locate(numeric)`` when the caller has it.
        """
        return self.embedding(numeric, missing, categorical, location)

    def forward_tokens(self, tokens: Tensor, tasks: Sequence[int] | None = None) -> NetworkOutput:
        """Run the MoE and heads on tokens (batch, n_tokens, d_embedding)."""
        chosen = list(range(self.head_bias.shape[0])) if tasks is None else list(tasks)
        x = tokens.flatten(1)
        idx = torch.as_tensor(chosen, dtype=torch.int64)
        w = self.head_weight.index_select(0, idx)
        bias = self.head_bias.index_select(0, idx)
        folded = self.moe.head_logits(x, w, bias, chosen)
        if folded is not None:  # scoring: the heads folded into the experts
            return NetworkOutput(folded[0], x.new_zeros(()), folded[1])
        moe = self.moe(x, chosen)
        logits = torch.einsum("bth,th->bt", moe.output, w) + bias
        return NetworkOutput(logits, moe.aux_loss, moe.gate_weights)

    def forward(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        tasks: Sequence[int] | None = None,
        location: tuple[Tensor, Tensor] | None = None,
    ) -> NetworkOutput:
        return self.forward_tokens(self.tokens(numeric, missing, categorical, location), tasks)

    def contributions(self, tokens: Tensor, task: int = 0) -> tuple[Tensor, Tensor]:
        """Split the task logit into shared and routed expert terms.

        Parameters
        ----------
        tokens : Tensor, shape (batch, n_tokens, d_embedding)
        task : int, default=0

        Returns
        -------
        terms : Tensor, shape (batch, n_shared + n_experts)
            :math:`w_t^\\top S_s(x)` for each shared expert, then
            :math:`g_{t,n}(x) w_t^\\top E_n(x)` for each routed expert (0 if not selected).
        gates : Tensor, shape (batch, n_experts)
            The task's routed gates. ``terms.sum(1) + head_bias[task]`` is the logit.
        """
        x = tokens.flatten(1)
        w = self.head_weight[task]
        shared = [expert(x) @ w for expert in self.moe.shared]
        gates = self.moe.route(x, [task])[0].gate_weights
        routed = self.moe.expert_outputs(x) @ w  # (b, N)
        shared_terms = torch.stack(shared, 1) if shared else x.new_zeros(x.shape[0], 0)
        terms = torch.cat([shared_terms, gates * routed], dim=1)
        return terms, gates


class _Registrations:
    """Counts parameters and modules registered on any module in this process."""

    count = 0

    @classmethod
    def seen(cls, *_: object) -> None:
        cls.count += 1  # returns None: the registered value is kept as it is


register_module_parameter_registration_hook(_Registrations.seen)
register_module_module_registration_hook(_Registrations.seen)


class _StackCache(NamedTuple):
    registrations: int
    parameters: list[nn.Parameter]
    versions: list[int]
    stacked: StackedMembers | None


class MoEEnsemble(nn.Module):
    """Independently trained networks whose task outputs are averaged.

    Parameters
    ----------
    members : sequence of MoENetwork

    Notes
    -----
    ``forward(numeric, missing, categorical, tasks=None)`` returns a
    :class:`NetworkOutput` whose ``logits`` are the member mean (batch, T) and whose
    ``gate_weights`` are the members' gates side by side (batch, T, n_members * n_experts).
    Out of training, members whose numeric embeddings share bin edges (all of one fit)
    share one search for each value's bin, and without gradients a batch of at most
    :data:`STACKED_MAX_ROWS` rows for the default task runs all members at once
    (:class:`~riskmoe.models.moe._stacked.StackedMembers`).
    """

    def __init__(self, members: Sequence[MoENetwork]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self._stacked: _StackCache | None = None

    def _stacked_members(self) -> StackedMembers | None:
        """The members stacked for small batches; rebuilt when any parameter changed.

        In place changes show in the parameters' versions; a parameter or layer replaced
        anywhere shows in ``_Registrations.count`` (walking the modules on every call would
        cost about half of scoring one record).
        """
        cache = self._stacked
        if (
            cache is None
            or cache.registrations != _Registrations.count
            or [p._version for p in cache.parameters] != cache.versions
        ):
            params = list(self.parameters())
            cache = _StackCache(
                _Registrations.count,
                params,
                [p._version for p in params],
                StackedMembers.build(list(self.members)),
            )
            self._stacked = cache
        return cache.stacked

    def _shared_location(self, numeric: Tensor) -> tuple[Tensor, Tensor] | None:
        if self.training or len(self.members) < 2:
            return None
        members = cast("list[MoENetwork]", list(self.members))
        first = members[0].embedding
        if not all(first.same_bins(m.embedding) for m in members[1:]):
            return None
        return first.locate(numeric)

    def forward(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        tasks: Sequence[int] | None = None,
    ) -> NetworkOutput:
        if (
            not self.training
            and not torch.is_grad_enabled()
            and tasks is not None
            and list(tasks) == [0]
            and numeric.shape[0] <= STACKED_MAX_ROWS
            and not torch.onnx.is_in_onnx_export()
        ):
            stacked = self._stacked_members()
            if stacked is not None:
                logits, gates = stacked(numeric, missing, categorical)
                return NetworkOutput(logits, logits.new_zeros(()), gates)
        location = self._shared_location(numeric)
        outs = [m(numeric, missing, categorical, tasks, location) for m in self.members]
        logits = torch.stack([o.logits for o in outs]).mean(0)
        aux = torch.stack([o.aux_loss for o in outs]).mean()
        gates = torch.cat([o.gate_weights for o in outs], dim=-1)
        return NetworkOutput(logits, aux, gates)
