"""Mixture-of-Experts building blocks: Expert, Router, MoELayer.

The layer computes, per task :math:`t`,

.. math:: y_t(x) = \\sum_s S_s(x) + \\sum_{n \\in \\mathrm{TopK}_t(x)} g_{t,n}(x)\\, E_n(x_{v(n)})

where :math:`S_s` are always-on shared experts that see every feature (DeepSeekMoE),
:math:`E_n` routed experts that see only their view :math:`x_{v(n)}` (a feature group),
and :math:`g_t` the sparse gate of task :math:`t`'s router (MMoE: one gate per task).

References
----------
.. [1] N. Shazeer et al., "Outrageously Large Neural Networks: The Sparsely-Gated
   Mixture-of-Experts Layer", ICLR 2017.
.. [2] W. Fedus, B. Zoph, N. Shazeer, "Switch Transformers", JMLR 2022 (arXiv 2021).
.. [3] B. Zoph et al., "ST-MoE: Designing Stable and Transferable Sparse Expert Models",
   arXiv 2022.
.. [4] J. Ma et al., "Modeling Task Relationships in Multi-task Learning with
   Multi-gate Mixture-of-Experts", KDD 2018.
.. [5] D. Dai et al., "DeepSeekMoE: Towards Ultimate Expert Specialization in
   Mixture-of-Experts Language Models", arXiv 2024.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Literal, NamedTuple, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Dispatch", "Expert", "MoELayer", "MoEOutput", "Router", "RouterOutput"]

Dispatch = Literal["sparse", "dense"]


class Expert(nn.Module):
    """A feed-forward expert: two ReLU layers with dropout.

    Parameters
    ----------
    d_in : int
        Input width (the flattened tokens of the expert's view).
    d_hidden : int
        Hidden and output width.
    dropout : float
        Dropout after each hidden layer.

    Notes
    -----
    ``forward(x)``: (batch, d_in) -> (batch, d_hidden).
    """

    def __init__(self, d_in: int, d_hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, d_hidden),
            nn.ReLU(inplace=True),  # on the Linear's fresh output: saves an allocation
            nn.Dropout(dropout),
            nn.Linear(d_hidden, d_hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def plain_expert(expert: nn.Module) -> bool:
    """Whether ``expert`` is an :class:`Expert` whose two layers are plain float
    :class:`~torch.nn.Linear` (not quantised or otherwise replaced)."""
    if type(expert) is not Expert:
        return False
    layers = list(cast(Expert, expert).net)
    return len(layers) == 6 and all(type(layers[i]) is nn.Linear for i in (0, 3))


def _aligned_blocks(positions: list[int], d_in: int) -> tuple[int, Tensor] | None:
    """``positions`` as whole blocks of ``w > 1`` consecutive positions starting at
    multiples of ``w`` (the largest such ``w`` dividing ``d_in``): ``(w, block numbers)``,
    else None.

    Examples
    --------
    >>> _aligned_blocks([4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15], 16)
    (4, tensor([1, 0, 2, 3]))
    >>> _aligned_blocks([1, 2, 3, 4], 8) is None
    True
    """
    if not positions:
        return None
    starts = [0] + [i for i in range(1, len(positions)) if positions[i] != positions[i - 1] + 1]
    ends = [*starts[1:], len(positions)]
    lengths = [b - a for a, b in zip(starts, ends, strict=True)]
    width = math.gcd(d_in, *(positions[a] for a in starts), *lengths)
    if width < 2:
        return None
    return width, torch.tensor(positions[::width], dtype=torch.int64) // width


def _hooked(modules: Sequence[nn.Module]) -> bool:
    """Whether a forward hook would see any of ``modules`` run (e.g. ``routing_noise``)."""
    from torch.nn.modules import module as torch_module

    if torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks:
        return True
    return any(m._forward_hooks or m._forward_pre_hooks for m in modules)


class RouterOutput(NamedTuple):
    """What a router decides for a batch.

    Attributes
    ----------
    gate_weights : Tensor, shape (batch, n_experts)
        Top-k probabilities renormalised to sum to 1; zero for unselected experts.
    indices : Tensor, shape (batch, top_k), int64
        Selected experts, best first.
    logits : Tensor, shape (batch, n_experts), float32
        Clean router logits (no noise), for the auxiliary losses.
    """

    gate_weights: Tensor
    indices: Tensor
    logits: Tensor


class Router(nn.Module):
    """Float32 linear router with softmax, top-k selection and noisy gating in training.

    .. math::
        h(x) = x W_g + \\epsilon \\cdot \\mathrm{softplus}(x W_{noise}),\\ \\epsilon \\sim N(0, 1)
        \\text{ (training only)}

        p = \\mathrm{softmax}(h(x)),\\quad
        g_n = p_n / \\sum_{m \\in \\mathrm{TopK}(p)} p_m \\text{ for } n \\in \\mathrm{TopK}(p),
        \\text{ else } 0.

    The router always runs in float32, even if the rest of the network does not (ST-MoE:
    routing is sensitive to round-off).

    Parameters
    ----------
    d_in : int
        Input width.
    n_experts : int
        Number of routed experts.
    top_k : int
        Experts selected per row.
    noisy : bool, default=True
        Add learned Gaussian noise to the logits while training (Shazeer 2017).

    Notes
    -----
    ``forward(x)``: (batch, d_in) -> :class:`RouterOutput`.
    """

    def __init__(self, d_in: int, n_experts: int, top_k: int, noisy: bool = True) -> None:
        super().__init__()
        if not 1 <= top_k <= n_experts:
            raise ValueError(
                f"n_experts must be >= top_k >= 1; got n_experts={n_experts}, top_k={top_k}."
            )
        self.top_k = top_k
        self.n_experts = n_experts
        self.gate = nn.Linear(d_in, n_experts, dtype=torch.float32)
        self.noise: nn.Linear | None = None
        if noisy:
            self.noise = nn.Linear(d_in, n_experts, dtype=torch.float32)
            # zero init: the noise starts at softplus(0) ~ 0.69 and is learned from there
            nn.init.zeros_(self.noise.weight)
            nn.init.zeros_(self.noise.bias)

    def forward(self, x: Tensor) -> RouterOutput:
        x32 = x.float()
        logits = self.gate(x32)
        std = None
        if self.training and self.noise is not None:
            std = F.softplus(self.noise(x32))
        return self.decide(logits, std)

    def decide(self, logits: Tensor, noise_std: Tensor | None = None) -> RouterOutput:
        """Gates from the clean logits (batch, n_experts), plus noise of ``noise_std``."""
        selection = logits
        if noise_std is not None:
            selection = logits + torch.randn_like(logits) * noise_std
        # the top-k softmax probabilities renormalised are the softmax of the top-k
        # logits: no softmax over all experts needed
        top_logits, indices = selection.topk(self.top_k, dim=-1)
        top_p = torch.softmax(top_logits, dim=-1)
        gates = torch.zeros_like(selection).scatter(1, indices, top_p)
        return RouterOutput(gates, indices, logits)


class MoEOutput(NamedTuple):
    """What :class:`MoELayer` returns.

    Attributes
    ----------
    output : Tensor, shape (batch, n_tasks, d_hidden)
        Mixture per task.
    aux_loss : Tensor, scalar
        Load-balancing plus router z-loss, averaged over the task routers (zero in eval).
    gate_weights : Tensor, shape (batch, n_tasks, n_experts)
        Sparse gates per task; each row sums to 1 with exactly ``top_k`` non-zeros.
    """

    output: Tensor
    aux_loss: Tensor
    gate_weights: Tensor


class MoELayer(nn.Module):
    """Routed experts with per-task gates plus always-on shared experts.

    Parameters
    ----------
    d_in : int
        Width of the flat input (all tokens).
    views : sequence of (sequence of int or None)
        One entry per routed expert: positions of the flat input the expert sees
        (its feature group), or None for the whole input.
    n_shared : int
        Always-on experts that see the whole input.
    d_hidden : int
        Expert hidden and output width.
    top_k : int
        Routed experts per row and task.
    n_tasks : int, default=1
        Number of task gates (MMoE).
    dropout : float, default=0.1
    noisy_gating : bool, default=True
    balance_coef : float, default=0.01
        :math:`\\alpha` of the Switch load-balancing loss.
    z_loss_coef : float, default=0.001
        Coefficient of the router z-loss.
    dispatch : {"sparse", "dense"}, default="sparse"
        ``"sparse"`` runs each routed expert only on the rows routed to it (gather,
        then ``index_add``); ``"dense"`` runs every expert on every row and weights by
        the same sparse gates (static graph, for ONNX export). Both give the same output.

    Notes
    -----
    ``forward(x, tasks=None)``: (batch, d_in) -> :class:`MoEOutput` with outputs for the
    tasks listed in ``tasks`` (default: all), in that order. In sparse mode only experts
    selected by those tasks' routers run.
    """

    def __init__(
        self,
        d_in: int,
        views: Sequence[Sequence[int] | None],
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
        n_experts = len(views)
        if not 1 <= top_k <= n_experts:
            raise ValueError(
                f"n_experts must be >= top_k >= 1; got n_experts={n_experts}, top_k={top_k}."
            )
        self.d_hidden = d_hidden
        self.top_k = top_k
        self.balance_coef = balance_coef
        self.z_loss_coef = z_loss_coef
        self.dispatch: Dispatch = dispatch
        self._views: list[bool] = []
        #: a view of consecutive positions as a slice: read in place, not gathered
        self._view_slices: list[slice | None] = []
        for n, view in enumerate(views):
            idx = torch.arange(d_in) if view is None else torch.as_tensor(list(view))
            self.register_buffer(f"view_{n}", idx.to(torch.int64))
            self._views.append(view is not None)
            consecutive = view is not None and list(view) == list(
                range(int(idx[0]), int(idx[0]) + len(idx))
            )
            self._view_slices.append(slice(int(idx[0]), int(idx[-1]) + 1) if consecutive else None)
        #: a scattered view made of whole aligned blocks (feature tokens): (width, block
        #: numbers), gathered a block at a time
        self._view_blocks = [
            None if view is None or cut is not None else _aligned_blocks(list(view), d_in)
            for view, cut in zip(views, self._view_slices, strict=True)
        ]
        self.experts = nn.ModuleList(
            Expert(d_in if view is None else len(view), d_hidden, dropout) for view in views
        )
        self.shared = nn.ModuleList(Expert(d_in, d_hidden, dropout) for _ in range(n_shared))
        self.routers = nn.ModuleList(
            Router(d_in, n_experts, top_k, noisy=noisy_gating) for _ in range(n_tasks)
        )

    @property
    def n_experts(self) -> int:
        """Number of routed experts."""
        return len(self.experts)

    def view(self, n: int) -> Tensor:
        """Flat-input positions routed expert ``n`` sees, int64 (d_view,)."""
        return cast(Tensor, getattr(self, f"view_{n}"))

    def _expert_input(self, x: Tensor, n: int, rows: Tensor | None = None) -> Tensor:
        """Routed expert ``n``'s columns of ``x``, of the rows ``rows`` (default: all).

        A scattered view is gathered columns first when that copies fewer values than
        gathering the rows first (narrow views), a whole token at a time where it is
        made of tokens.
        """
        if not self._views[n]:
            return x if rows is None else x.index_select(0, rows)
        cut = self._view_slices[n]
        if cut is not None:
            return x[:, cut] if rows is None else x[:, cut].index_select(0, rows)
        view = self.view(n)
        if rows is not None and x.shape[0] * view.numel() > rows.numel() * x.shape[1]:
            return x.index_select(0, rows).index_select(1, view)
        blocks = self._view_blocks[n]
        if blocks is None:
            columns = x.index_select(1, view)
        else:
            width, numbers = blocks
            columns = x.unflatten(1, (-1, width)).index_select(1, numbers).flatten(1)
        return columns if rows is None else columns.index_select(0, rows)

    def auxiliary_loss(self, logits: Tensor, selected: Tensor) -> Tensor:
        """Switch load-balancing loss plus ST-MoE router z-loss for one router.

        Override this one method to change the auxiliary objective.

        .. math::
            L_{bal} = \\alpha N \\sum_{i=1}^{N} f_i P_i,\\quad
            f_i = \\frac{1}{Bk}\\sum_{x} 1[i \\in \\mathrm{TopK}(x)],\\quad
            P_i = \\frac{1}{B}\\sum_x p_i(x)

            L_z = \\beta \\frac{1}{B} \\sum_x \\left(\\log \\sum_i e^{h_i(x)}\\right)^2

        :math:`L_{bal}` equals :math:`\\alpha` under perfectly uniform routing.

        Parameters
        ----------
        logits : Tensor, shape (batch, n_experts)
            Clean router logits :math:`h`.
        selected : Tensor, shape (batch, n_experts), bool
            True for the experts each row was dispatched to.

        Returns
        -------
        Tensor
            Scalar :math:`L_{bal} + L_z` (coefficients ``balance_coef``, ``z_loss_coef``).
        """
        n_experts = logits.shape[-1]
        probs = torch.softmax(logits.float(), dim=-1)
        sel = selected.float()
        f = sel.sum(0) / sel.sum().clamp_min(1.0)
        p = probs.mean(0)
        balance = self.balance_coef * n_experts * torch.sum(f * p)
        z = self.z_loss_coef * torch.logsumexp(logits.float(), dim=-1).pow(2).mean()
        return balance + z

    def route(self, x: Tensor, tasks: Sequence[int] | None = None) -> list[RouterOutput]:
        """Run the routers of ``tasks`` (default: all) on ``x`` (batch, d_in)."""
        chosen = range(len(self.routers)) if tasks is None else tasks
        return [self.routers[t](x) for t in chosen]

    def shared_output(self, x: Tensor) -> Tensor:
        """Sum of the shared experts: (batch, d_in) -> (batch, d_hidden)."""
        if len(self.shared) == 0:
            return x.new_zeros(x.shape[0], self.d_hidden)
        outs = [expert(x) for expert in self.shared]
        return outs[0] if len(outs) == 1 else torch.stack(outs).sum(0)

    def expert_outputs(self, x: Tensor) -> Tensor:
        """Every routed expert on every row: (batch, d_in) -> (batch, n_experts, d_hidden)."""
        return torch.stack(
            [expert(self._expert_input(x, n)) for n, expert in enumerate(self.experts)], dim=1
        )

    def forward(self, x: Tensor, tasks: Sequence[int] | None = None) -> MoEOutput:
        routed, shared = self._route_and_share(x, tasks)
        gates = torch.stack([r.gate_weights for r in routed], dim=1)  # (b, T, N)
        mixture = self._mix_sparse(x, gates) if self.dispatch == "sparse" else None
        if mixture is None:
            mixture = torch.einsum("btn,bnh->bth", gates, self.expert_outputs(x))
        output = mixture + shared.unsqueeze(1)
        if self.training:
            losses = []
            for r in routed:
                selected = torch.zeros_like(r.logits, dtype=torch.bool)
                selected.scatter_(1, r.indices, True)
                losses.append(self.auxiliary_loss(r.logits, selected))
            aux = torch.stack(losses).mean()
        else:
            aux = x.new_zeros(())
        return MoEOutput(output, aux, gates)

    def _route_and_share(
        self, x: Tensor, tasks: Sequence[int] | None
    ) -> tuple[list[RouterOutput], Tensor]:
        """:meth:`route` and :meth:`shared_output`; without a gradient, the routers' gates
        ride along with the first shared expert's first layer in one product.

        A router's product alone has only ``n_experts`` columns, which the CPU computes
        barely faster than the expert's 64 (German credit: 33 vs 58 ms a scoring pass).
        """
        chosen = list(range(len(self.routers))) if tasks is None else list(tasks)
        routers = [cast(Router, self.routers[t]) for t in chosen]
        if (
            self.training
            or torch.is_grad_enabled()
            or not self.shared
            or not plain_expert(self.shared[0])
            or x.dtype != torch.float32
            or cast(Expert, self.shared[0]).net[0].weight.dtype != torch.float32
            or any(type(r.gate) is not nn.Linear for r in routers)
            or _hooked([*(r.gate for r in routers), cast(Expert, self.shared[0]).net[0]])
            or torch.onnx.is_in_onnx_export()
        ):
            return self.route(x, chosen), self.shared_output(x)
        first = cast(Expert, self.shared[0]).net
        layer = cast(nn.Linear, first[0])
        width = layer.out_features
        h = F.linear(
            x,
            torch.cat([layer.weight, *(r.gate.weight for r in routers)]),
            torch.cat([layer.bias, *(r.gate.bias for r in routers)]),
        )
        n = self.n_experts
        routed = [
            r.decide(h[:, width + i * n : width + (i + 1) * n]) for i, r in enumerate(routers)
        ]
        shared = first[1:](h[:, :width])  # the in-place ReLU leaves the logits' columns
        for expert in self.shared[1:]:
            shared = shared + expert(x)
        return routed, shared

    def head_logits(
        self, x: Tensor, weight: Tensor, bias: Tensor, tasks: Sequence[int]
    ) -> tuple[Tensor, Tensor] | None:
        """Linear task heads on the mixture, :math:`w_t^\\top y_t(x) + b_t`, without
        forming the mixture; None where only :meth:`forward` applies.

        The heads are linear, so each selected expert's output is reduced to its head
        score before it is gated and added up: (rows, tasks) per expert instead of
        (rows, tasks, d_hidden), and no mixture tensor at all. The same function as
        ``forward`` followed by the heads, equal to it up to float rounding (tested).
        Used only out of training, without a gradient, with sparse dispatch, float32
        heads and no forward hook on this layer (a hook expects :meth:`forward` to run).

        Parameters
        ----------
        x : Tensor, shape (batch, d_in)
        weight : Tensor, shape (n_tasks, d_hidden)
            Head weights of ``tasks``, in order.
        bias : Tensor, shape (n_tasks,)
        tasks : sequence of int
            Router (task) indices.

        Returns
        -------
        logits : Tensor, shape (batch, n_tasks)
        gates : Tensor, shape (batch, n_tasks, n_experts)
        """
        if (
            self.training
            or torch.is_grad_enabled()
            or self.dispatch != "sparse"
            or x.dtype != torch.float32
            or weight.dtype != torch.float32
            or _hooked([self])
            or torch.onnx.is_in_onnx_export()
        ):
            return None
        routed, shared = self._route_and_share(x, tasks)
        gates = torch.stack([r.gate_weights for r in routed], dim=1)  # (b, T, N)
        logits = torch.addmm(bias, shared, weight.t())
        for rows, h, w in self._routed_outputs(x, gates):
            logits.index_add_(0, rows, (h @ weight.t()).mul_(w))
        return logits, gates

    def _routed_outputs(self, x: Tensor, gates: Tensor) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """Each routed expert run on the rows any requested task sent to it: the rows,
        the expert's output on them (r, H) and their gates for it (r, T)."""
        active = (gates > 0).any(dim=1)  # (b, N)
        for n, expert in enumerate(self.experts):
            rows = active[:, n].nonzero().squeeze(1)
            if rows.numel():
                h = expert(self._expert_input(x, n, rows))
                yield rows, h, gates[:, :, n].index_select(0, rows)

    def _mix_sparse(self, x: Tensor, gates: Tensor) -> Tensor:
        """The gated sum of the routed experts, each run only on its rows."""
        batch, n_tasks, _ = gates.shape
        out = x.new_zeros(batch, n_tasks, self.d_hidden)
        for rows, h, w in self._routed_outputs(x, gates):
            out.index_add_(0, rows, w.unsqueeze(-1) * h.unsqueeze(1))
        return out
