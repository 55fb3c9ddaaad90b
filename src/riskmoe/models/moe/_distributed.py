"""Data-parallel training of the MoE with PyTorch DistributedDataParallel (DDP).

Every process (rank) holds the whole training set and the same seeds, so all ranks draw the
same inner split and the same shuffled order. Each mini-batch of ``batch_size`` rows is
dealt out round-robin (rank ``r`` takes rows ``r, r + W, ...``); DDP averages the gradients
over the ``W`` ranks before every AdamW step, and each rank's loss is scaled by

.. math:: W \\cdot \\frac{\\sum_{i \\in \\text{shard}} w_i}{\\sum_{i \\in \\text{batch}} w_i}

so that the averaged gradient of the class-weighted log loss equals the single-process
full-batch gradient. The router losses (load balancing, z-loss) and auxiliary tasks are
computed per shard, dropout and gating noise draw per rank: those make DDP training differ
slightly from one process; with them off, the two agree to round-off. Early stopping uses
the validation loss each rank computes on the whole validation split (identical on all
ranks, so they stop together). During training the network uses dense dispatch, so every
parameter gets a gradient on every rank (DDP needs that; the output is the same as sparse).

Launch with ``torchrun`` (``riskmoe train --distributed``); the process group must be
initialised (gloo on CPU, NCCL on GPUs) before :meth:`DistributedMoERiskClassifier.fit`.
Without an initialised process group it trains exactly like :class:`MoERiskClassifier`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from riskmoe.models.moe._estimator import MoERiskClassifier
from riskmoe.models.moe._network import MoENetwork
from riskmoe.models.moe._training import (
    Batch,
    TaskKind,
    TrainConfig,
    TrainResult,
    train_network,
)

__all__ = ["DistributedMoERiskClassifier", "train_network_ddp"]


def train_network_ddp(
    net: MoENetwork,
    train: Batch,
    val: Batch | None,
    kinds: Sequence[TaskKind],
    config: TrainConfig,
    generator: torch.Generator,
) -> TrainResult:
    """:func:`~riskmoe.models.moe._training.train_network` under DDP: each rank trains on its
    shard of every mini-batch, with the loss scaled as in the module docstring.

    Parameters and result as ``train_network``; needs an initialised process group.
    """
    rank, world = dist.get_rank(), dist.get_world_size()

    def shard(rows: torch.Tensor) -> tuple[Batch, torch.Tensor]:
        part = train.take(rows[rank::world])
        total_weight = train.weight.index_select(0, rows).sum().clamp_min(1e-12)
        return part, world * part.weight.sum() / total_weight

    def agree(score: float) -> float:  # the training loss differs per shard: share the mean
        shared = torch.tensor([score], dtype=torch.float64)
        dist.all_reduce(shared)
        return float(shared[0]) / world

    dispatch = net.dispatch
    net.dispatch = "dense"
    try:
        return train_network(
            net,
            train,
            val,
            kinds,
            config,
            generator,
            module=DistributedDataParallel(net),
            shard=shard,
            agree=agree,
        )
    finally:
        net.dispatch = dispatch


class DistributedMoERiskClassifier(MoERiskClassifier):
    """:class:`MoERiskClassifier` whose members train with DistributedDataParallel.

    Same parameters, attributes and saved format as :class:`MoERiskClassifier` (a saved
    model loads with ``MoERiskClassifier.load``). Run one process per worker under
    ``torchrun`` with the same data and parameters in every process; all ranks end with
    identical weights, so any of them (by convention rank 0) saves the model.

    Examples
    --------
    Without a process group it is the plain estimator:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200)})
    >>> y = (X["a"] > 0).astype(int)
    >>> params = dict(max_epochs=2, n_ensemble=1, random_state=0)
    >>> a = DistributedMoERiskClassifier(**params).fit(X, y).predict_proba(X)
    >>> b = MoERiskClassifier(**params).fit(X, y).predict_proba(X)
    >>> bool(np.array_equal(a, b))
    True
    """

    def _train_network(
        self,
        net: MoENetwork,
        train: Batch,
        val: Batch | None,
        kinds: Sequence[TaskKind],
        config: TrainConfig,
        generator: torch.Generator,
    ) -> TrainResult:
        if not (dist.is_available() and dist.is_initialized()):
            return super()._train_network(net, train, val, kinds, config, generator)
        return train_network_ddp(net, train, val, kinds, config, generator)
