"""Expert pruning: drop rarely used routed experts, renormalise the router, fine-tune briefly.

An expert the router almost never picks costs parameters (and, in dense / exported
scoring, compute on every row) for little effect. Pruning keeps the experts whose
utilisation -- the share of rows the default-task router sends to them -- is at least a
threshold, removes the dropped experts' rows from every router's gate (and noise)
matrix, so the softmax renormalises over the experts that remain, and fine-tunes the
smaller network for a few epochs with the estimator's own training loop before
re-fitting the calibration on the held-out split.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from riskmoe.models.moe._base import routed_share
from riskmoe.models.moe._calibration import fit_calibrator
from riskmoe.models.moe._inputs import as_frame, encode_target
from riskmoe.models.moe._layers import Router
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork
from riskmoe.models.moe._training import TrainConfig, make_batch, train_network

if TYPE_CHECKING:
    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = ["PruneResult", "prune_experts", "slice_network", "uniform_share"]


@dataclass(frozen=True)
class PruneResult:
    """A pruned, fine-tuned copy of a model and what pruning did.

    Attributes
    ----------
    model : MoERiskClassifier
        The pruned model (the input model is left untouched).
    kept, dropped : tuple of str
        Routed expert names.
    usage_before : dict of str to float
        Utilisation of every routed expert before pruning (share of rows routed).
    threshold : float
    n_parameters_before, n_parameters_after : int
    n_active_parameters_before, n_active_parameters_after : int
    fine_tune_epochs : int
        Epochs run while fine-tuning (best epoch kept), summed over members.
    """

    model: MoERiskClassifier
    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    usage_before: dict[str, float]
    threshold: float
    n_parameters_before: int
    n_parameters_after: int
    n_active_parameters_before: int
    n_active_parameters_after: int
    fine_tune_epochs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (without the model)."""
        out = {k: v for k, v in self.__dict__.items() if k != "model"}
        out["kept"], out["dropped"] = list(self.kept), list(self.dropped)
        return out


@torch.no_grad()
def slice_network(net: MoENetwork, keep: Sequence[int], build: MoENetwork) -> MoENetwork:
    """Copy ``net``'s weights into ``build``, which has only the routed experts ``keep``.

    Embedding, shared experts and heads are copied whole; routed expert ``keep[j]``
    becomes expert ``j``; each router keeps the gate (and noise) rows of ``keep``, so
    its softmax runs over the remaining experts only.
    """
    index = torch.as_tensor(list(keep), dtype=torch.int64)
    build.embedding.load_state_dict(net.embedding.state_dict())
    build.moe.shared.load_state_dict(net.moe.shared.state_dict())
    build.head_weight.copy_(net.head_weight)
    build.head_bias.copy_(net.head_bias)
    for j, k in enumerate(keep):
        build.moe.experts[j].load_state_dict(net.moe.experts[k].state_dict())
    for old, new in zip(net.moe.routers, build.moe.routers, strict=True):
        assert isinstance(old, Router) and isinstance(new, Router)
        new.gate.weight.copy_(old.gate.weight.index_select(0, index))
        new.gate.bias.copy_(old.gate.bias.index_select(0, index))
        if old.noise is not None and new.noise is not None:
            new.noise.weight.copy_(old.noise.weight.index_select(0, index))
            new.noise.bias.copy_(old.noise.bias.index_select(0, index))
    return build


def prune_experts(
    model: MoERiskClassifier,
    X: Any,
    y: Any,
    *,
    threshold: float = 0.05,
    max_epochs: int = 5,
    learning_rate: float | None = None,
    random_state: int = 0,
) -> PruneResult:
    """Drop routed experts used by fewer than ``threshold`` of rows, then fine-tune.

    Parameters
    ----------
    model : MoERiskClassifier
        A fitted model; it is copied, not changed.
    X, y : training data
        Used to fine-tune (with the model's validation split for early stopping and to
        re-fit the calibration). Use the model's training rows, never test rows.
    threshold : float, default 0.05
        Minimum utilisation (``model.expert_usage_``, the share of training rows routed
        to an expert; shares sum to ``top_k``). At least ``top_k`` experts are always
        kept (the most used ones).
    max_epochs : int, default 5
        Fine-tuning epochs (early stopping with the model's ``patience``).
    learning_rate : float, optional
        Fine-tuning rate; default a third of the model's.
    random_state : int, default 0
        Seeds the split, dropout and shuffling of the fine-tuning.

    Returns
    -------
    PruneResult

    Raises
    ------
    ValueError
        For a threshold outside [0, 1] or ``max_epochs`` < 1.

    Notes
    -----
    With the kept set :math:`K`, the pruned router computes
    :math:`p_n = e^{h_n} / \\sum_{m \\in K} e^{h_m}` for :math:`n \\in K` -- the old
    probabilities renormalised over :math:`K` -- before the top-k selection. All ensemble
    members keep the same experts (chosen from the member-averaged utilisation), so the
    pruned model saves and loads like any other.
    """
    model._check_fitted()
    if not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be a share in [0, 1]; got threshold={threshold!r}.")
    if not isinstance(max_epochs, int) or isinstance(max_epochs, bool) or max_epochs < 1:
        raise ValueError(f"max_epochs must be an integer >= 1; got max_epochs={max_epochs!r}.")
    usage = np.asarray(model.expert_usage_, dtype=float)
    order = np.argsort(-usage, kind="stable")
    keep = sorted(set(np.flatnonzero(usage >= threshold).tolist()) | set(order[: model.top_k]))
    names = list(model.expert_names_)
    before = int(model.n_parameters_)
    active_before = int(model.n_active_parameters_)

    pruned = copy.deepcopy(model)
    groups = model.feature_groups_
    # expert j of the pruned model sees the group of kept expert keep[j]: listing the
    # groups in that order keeps the "expert n sees group n mod n_groups" rule of load
    pruned.feature_groups_ = tuple(groups[k % len(groups)] for k in keep)
    pruned.n_experts_ = len(keep)
    pruned.expert_names_ = [names[k] for k in keep]
    pruned.set_params(n_experts=len(keep))
    views = pruned._token_views(pruned.encoder_, pruned.feature_groups_)
    n_tasks = 1 + len(model.aux_tasks_)

    frame, _ = as_frame(X)
    y01, classes = encode_target(y, frame.shape[0], type(model).__name__)
    encoded = model._encode(frame)[1]
    targets = np.zeros((frame.shape[0], n_tasks), np.float32)
    targets[:, 0] = y01
    mask = np.zeros_like(targets)
    mask[:, 0] = 1.0
    full = make_batch(encoded, targets, mask, model._row_weights(y01, classes))
    train_idx, val_idx = model._split(y01, random_state)
    train = full.take(torch.from_numpy(train_idx))
    val = full.take(torch.from_numpy(val_idx)) if val_idx.size else None
    rate = float(learning_rate) if learning_rate is not None else float(model.learning_rate) / 3
    config = TrainConfig(
        learning_rate=rate,
        weight_decay=float(model.weight_decay),
        l1=float(model.l1),
        max_epochs=max_epochs,
        patience=int(model.patience),
        batch_size=128 if model.batch_size == "auto" else int(model.batch_size),
        aux_task_weight=0.0,
    )
    kinds: list[Any] = ["binary"] + ["regression"] * (n_tasks - 1)
    members: list[MoENetwork] = []
    epochs = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        generator = torch.Generator().manual_seed(random_state)
        for member in model.module_.members:
            assert isinstance(member, MoENetwork)
            net = slice_network(member, keep, pruned._build_network(model.encoder_, views, n_tasks))
            net.dispatch = model.dispatch
            epochs += train_network(net, train, val, kinds, config, generator).n_epochs
            members.append(net)
    pruned.module_ = MoEEnsemble(members).eval()
    if val is not None and pruned.calibration is not None:
        logits = pruned._logits(pruned.module_, val, [0])[:, 0]
        pruned.calibrator_ = fit_calibrator(pruned.calibration, logits, y01[val_idx])
    pruned.expert_usage_ = routed_share(pruned.module_, full, len(keep))
    pruned.n_parameters_ = int(sum(p.numel() for p in pruned.module_.parameters()))
    pruned.n_active_parameters_ = pruned._active_parameters(pruned.module_)
    return PruneResult(
        model=pruned,
        kept=tuple(names[k] for k in keep),
        dropped=tuple(n for k, n in enumerate(names) if k not in set(keep)),
        usage_before={n: float(u) for n, u in zip(names, usage, strict=True)},
        threshold=float(threshold),
        n_parameters_before=before,
        n_parameters_after=pruned.n_parameters_,
        n_active_parameters_before=active_before,
        n_active_parameters_after=pruned.n_active_parameters_,
        fine_tune_epochs=epochs,
    )


def uniform_share(model: MoERiskClassifier) -> float:
    """Utilisation every expert would have under perfectly balanced routing: top_k / N."""
    return float(model.top_k) / int(model.n_experts_)
