"""The one training loop: AdamW, gradient clipping, L1, early stopping on a validation split."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import Tensor

from riskmoe.features import EncodedFrame
from riskmoe.models.moe._network import MoENetwork

__all__ = [
    "Batch",
    "Stopping",
    "TaskKind",
    "TrainConfig",
    "TrainResult",
    "make_batch",
    "train_network",
]

TaskKind = Literal["binary", "regression"]
#: What early stopping watches on the validation split: the main task's (weighted) loss,
#: or its ranking quality (the epoch with the highest AUC is kept).
Stopping = Literal["loss", "auc"]


class Batch(NamedTuple):
    """Tensors for a set of rows.

    Attributes
    ----------
    numeric, missing : Tensor, shape (n, F_num), float32
    categorical : Tensor, shape (n, F_cat), int64
    targets : Tensor, shape (n, n_tasks), float32
        Task 0 is the 0/1 default flag; regression targets are standardised.
    mask : Tensor, shape (n, n_tasks), float32
        1 where the target is known (auxiliary targets may have gaps).
    weight : Tensor, shape (n,), float32
        Class weight of each row for the main task.
    """

    numeric: Tensor
    missing: Tensor
    categorical: Tensor
    targets: Tensor
    mask: Tensor
    weight: Tensor

    def take(self, idx: Tensor) -> Batch:
        """Rows ``idx`` of every tensor."""
        return Batch(*(t.index_select(0, idx) for t in self))

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.numeric.shape[0])


def make_batch(
    enc: EncodedFrame, targets: np.ndarray, mask: np.ndarray, weight: np.ndarray
) -> Batch:
    """Wrap encoded arrays and targets as tensors (no copies where dtypes already match)."""
    return Batch(
        torch.from_numpy(np.ascontiguousarray(enc.numeric, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(enc.missing, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(enc.categorical, dtype=np.int64)),
        torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)),
    )


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (see the estimator's parameters)."""

    learning_rate: float
    weight_decay: float
    l1: float
    max_epochs: int
    patience: int
    batch_size: int
    aux_task_weight: float
    grad_clip: float = 1.0
    stopping: Stopping = "loss"


@dataclass(frozen=True)
class TrainResult:
    """How training went.

    Attributes
    ----------
    best_epoch : int
        1-based epoch whose weights were kept.
    n_epochs : int
        Epochs run.
    history : tuple of float
        Validation score per epoch, lower is better: the main task's class-weighted loss,
        or ``1 - AUC`` when stopping on AUC; the training loss when there was no
        validation split.
    """

    best_epoch: int
    n_epochs: int
    history: tuple[float, ...]


def task_loss(logits: Tensor, batch: Batch, kinds: Sequence[TaskKind], aux_weight: float) -> Tensor:
    """Class-weighted main-task log loss plus ``aux_weight`` x mean auxiliary-task loss.

    Parameters
    ----------
    logits : Tensor, shape (n, n_tasks)
    batch : Batch
    kinds : sequence of {"binary", "regression"}
        Kind of each task; task 0 is binary (classifier) or regression (regressor: squared error).
    aux_weight : float

    Returns
    -------
    Tensor
        Scalar loss.
    """
    main = _main_loss(logits[:, 0], batch.targets[:, 0], batch.weight, kinds[0], "sum")
    main = main / batch.weight.sum().clamp_min(1e-12)
    if len(kinds) == 1:
        return main
    aux = []
    for t in range(1, len(kinds)):
        m = batch.mask[:, t]
        if kinds[t] == "binary":
            per_row = F.binary_cross_entropy_with_logits(
                logits[:, t], batch.targets[:, t], reduction="none"
            )
        else:
            per_row = (logits[:, t] - batch.targets[:, t]).pow(2)
        aux.append((per_row * m).sum() / m.sum().clamp_min(1.0))
    return main + aux_weight * torch.stack(aux).mean()


def _main_loss(
    output: Tensor, target: Tensor, weight: Tensor, kind: TaskKind, reduction: str
) -> Tensor:
    """Weighted log loss (binary) or squared error (regression, e.g. MoERiskRegressor)."""
    if kind == "regression":
        per_row = weight * (output - target).pow(2)
        return per_row.sum() if reduction == "sum" else per_row
    return F.binary_cross_entropy_with_logits(output, target, weight=weight, reduction=reduction)


def _l1(net: MoENetwork) -> Tensor:
    terms = [p.abs().sum() for name, p in net.named_parameters() if p.ndim > 1]
    return torch.stack(terms).sum()


@torch.no_grad()
def _validation_loss(
    net: MoENetwork, batch: Batch, chunk: int = 8192, kind: TaskKind = "binary"
) -> float:
    net.eval()
    total, weight = 0.0, 0.0
    for start in range(0, batch.n_rows, chunk):
        idx = torch.arange(start, min(start + chunk, batch.n_rows))
        part = batch.take(idx)
        out = net(part.numeric, part.missing, part.categorical, tasks=[0])
        loss = _main_loss(out.logits[:, 0], part.targets[:, 0], part.weight, kind, "sum")
        total += float(loss)
        weight += float(part.weight.sum())
    return total / max(weight, 1e-12)


@torch.no_grad()
def _validation_score(
    net: MoENetwork, batch: Batch, kind: TaskKind, stopping: Stopping, chunk: int = 8192
) -> float:
    """Lower is better: the validation loss, or ``1 - AUC`` of the main-task logits.

    AUC needs both classes in ``batch``; without them this falls back to the loss.
    """
    y = batch.targets[:, 0].numpy()
    if stopping == "loss" or kind != "binary" or y.min() == y.max():
        return _validation_loss(net, batch, chunk, kind)
    net.eval()
    parts = []
    for start in range(0, batch.n_rows, chunk):
        part = batch.take(torch.arange(start, min(start + chunk, batch.n_rows)))
        parts.append(net(part.numeric, part.missing, part.categorical, tasks=[0]).logits[:, 0])
    return 1.0 - float(roc_auc_score(y, torch.cat(parts).double().numpy()))


def train_network(
    net: MoENetwork,
    train: Batch,
    val: Batch | None,
    kinds: Sequence[TaskKind],
    config: TrainConfig,
    generator: torch.Generator,
    *,
    module: torch.nn.Module | None = None,
    shard: Callable[[Tensor], tuple[Batch, Tensor]] | None = None,
    agree: Callable[[float], float] | None = None,
) -> TrainResult:
    """Train ``net`` in place and leave the best weights loaded.

    One loop for every model: shuffled mini-batches, AdamW, gradient-norm clipping, an
    L1 penalty on weight matrices, the routers' auxiliary loss, and early stopping with
    ``patience`` epochs on the validation loss or AUC (``config.stopping``).

    Parameters
    ----------
    net : MoENetwork
    train : Batch
    val : Batch or None
        Without a validation split, the model trains for ``max_epochs`` and keeps the
        epoch with the lowest training loss.
    kinds : sequence of {"binary", "regression"}
    config : TrainConfig
    generator : torch.Generator
        Source of the shuffling order (dropout and gating noise use the torch default
        generator, which the caller seeds inside ``torch.random.fork_rng``).
    module : torch.nn.Module, optional
        What runs the forward pass and owns the optimised parameters, if not ``net``
        itself (a ``DistributedDataParallel`` wrapper of it).
    shard : callable, optional
        ``rows -> (part, scale)``: this process's share of a mini-batch and the factor its
        task loss is scaled by (data-parallel training); by default the whole batch.
    agree : callable, optional
        Maps this process's training loss to the one all processes share, when there is
        no validation split to stop on.

    Returns
    -------
    TrainResult
    """
    model = net if module is None else module
    opt = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    n = train.n_rows
    batch_size = min(config.batch_size, n)
    best = math.inf
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    best_epoch, since_best, history = 0, 0, []
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator)
        running, seen = 0.0, 0
        # drop a last partial batch smaller than half a batch: tiny noisy steps hurt
        n_full = n if n < 2 * batch_size else (n // batch_size) * batch_size
        for start in range(0, max(n_full, 1), batch_size):
            rows = order[start : start + batch_size]
            part, scale = (train.take(rows), None) if shard is None else shard(rows)
            out = model(part.numeric, part.missing, part.categorical)
            loss = task_loss(out.logits, part, kinds, config.aux_task_weight)
            if scale is not None:
                loss = scale * loss
            loss = loss + out.aux_loss
            if config.l1 > 0:
                loss = loss + config.l1 * _l1(net)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            unscaled = 1.0 if scale is None else max(float(scale), 1e-12)
            running += loss.item() * part.n_rows / unscaled
            seen += part.n_rows
        score = (
            _validation_score(net, val, kinds[0], config.stopping)
            if val is not None
            else running / max(seen, 1)
        )
        if val is None and agree is not None:
            score = agree(score)
        history.append(score)
        if score < best - 1e-6 or not math.isfinite(best):
            best, best_epoch, since_best = score, epoch, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            since_best += 1
            if val is not None and since_best >= config.patience:
                break
    net.load_state_dict(best_state)
    net.eval()
    return TrainResult(best_epoch=best_epoch, n_epochs=epoch, history=tuple(history))
