"""Extend a trained MoE with a new expert on a new feature group, the old experts frozen.

:func:`add_expert` keeps every weight of the trained model (embeddings, routed and shared
experts, heads) exactly as it was and adds, per ensemble member,

* an embedding of the new columns (fitted quantile bins, new vocabularies),
* one routed expert that sees only the new columns, and
* a new router over old and new tokens with ``n_experts + 1`` outputs, initialised from the
  old router (the new expert's gate row starts at zero),

then trains only those on new data (class-weighted log loss plus the router losses, early
stopping on a held-out split of the new data, which also fits a fresh calibration).
The logit of the extended model is

.. math:: z(x) = b + \\sum_s w^\\top S_s(x) + \\sum_{n \\in \\mathrm{TopK}'(x, x_{new})}
   g'_n(x, x_{new})\\, w^\\top E_n(x_{v(n)}),\\quad n \\in \\{1, \\dots, N + 1\\}

with the frozen head :math:`w, b`, shared experts :math:`S_s` and experts :math:`E_1..E_N`,
and :math:`E_{N+1}` the new expert on :math:`x_{new}`. Only the default-probability task is
extended (auxiliary heads are left out of the extended model).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import Tensor, nn

from riskmoe.exceptions import SchemaError
from riskmoe.features import EncodedFrame, FeatureEmbedding, FeatureGroup, TabularEncoder
from riskmoe.models.moe._calibration import Calibrator, fit_calibrator
from riskmoe.models.moe._estimator import MoERiskClassifier, _seed_from
from riskmoe.models.moe._inputs import as_frame, encode_target
from riskmoe.models.moe._layers import Expert, Router
from riskmoe.models.moe._network import MoENetwork, NetworkOutput
from riskmoe.models.moe._training import Batch, TrainConfig, make_batch, train_network

__all__ = ["ExtendedMoEClassifier", "ExtendedNetwork", "add_expert"]

_PREDICT_CHUNK = 8192


class ExtendedNetwork(nn.Module):
    """A frozen :class:`MoENetwork` plus one routed expert on new columns and a new router.

    Parameters
    ----------
    base : MoENetwork
        The trained member; its parameters are frozen (``requires_grad=False``) and it stays
        in eval mode.
    embedding : FeatureEmbedding
        Embedding of the new columns.
    n_base_numeric, n_base_categorical : int
        How many leading numeric / categorical columns of the input belong to the base.
    dropout : float
        Dropout of the new expert.

    Notes
    -----
    ``forward(numeric, missing, categorical, tasks=None)``: the base columns then the new
    columns, (batch, F_num) / (batch, F_num) / (batch, F_cat) -> :class:`NetworkOutput`
    with logits (batch, 1) and gates (batch, 1, n_experts + 1). Only task 0 exists.
    """

    def __init__(
        self,
        base: MoENetwork,
        embedding: FeatureEmbedding,
        n_base_numeric: int,
        n_base_categorical: int,
        dropout: float,
    ) -> None:
        super().__init__()
        for p in base.parameters():
            p.requires_grad_(False)
        self.base = base.eval()
        self.embedding = embedding
        self.n_base_numeric = n_base_numeric
        self.n_base_categorical = n_base_categorical
        old = cast(Router, base.moe.routers[0])
        d_base = old.gate.in_features
        d_new = embedding.n_tokens * embedding.d_embedding
        self.expert = Expert(d_new, base.moe.d_hidden, dropout)
        self.router = Router(
            d_base + d_new, old.n_experts + 1, old.top_k, noisy=old.noise is not None
        )
        with torch.no_grad():
            self.router.gate.weight.zero_()
            self.router.gate.weight[: old.n_experts, :d_base] = old.gate.weight
            self.router.gate.bias[: old.n_experts] = old.gate.bias
            self.router.gate.bias[old.n_experts] = old.gate.bias.mean()
            if old.noise is not None and self.router.noise is not None:
                self.router.noise.weight[: old.n_experts, :d_base] = old.noise.weight
                self.router.noise.bias[: old.n_experts] = old.noise.bias

    def train(self, mode: bool = True) -> ExtendedNetwork:
        """Train mode for the new parts only: the frozen base always runs in eval mode."""
        super().train(mode)
        self.base.eval()
        return self

    def forward(
        self,
        numeric: Tensor,
        missing: Tensor,
        categorical: Tensor,
        tasks: Sequence[int] | None = None,
    ) -> NetworkOutput:
        if tasks is not None and list(tasks) != [0]:
            raise ValueError(f"an extended network has only task 0; got tasks={list(tasks)!r}.")
        nb, cb = self.n_base_numeric, self.n_base_categorical
        x_base = self.base.tokens(numeric[:, :nb], missing[:, :nb], categorical[:, :cb]).flatten(1)
        x_new = self.embedding(numeric[:, nb:], missing[:, nb:], categorical[:, cb:]).flatten(1)
        routed = self.router(torch.cat([x_base, x_new], dim=1))
        experts = torch.cat(
            [self.base.moe.expert_outputs(x_base), self.expert(x_new).unsqueeze(1)], dim=1
        )
        mixture = torch.einsum("bn,bnh->bh", routed.gate_weights, experts)
        hidden = mixture + self.base.moe.shared_output(x_base)
        logits = hidden @ self.base.head_weight[0] + self.base.head_bias[0]
        if self.training:
            selected = torch.zeros_like(routed.logits, dtype=torch.bool)
            selected.scatter_(1, routed.indices, True)
            aux = self.base.moe.auxiliary_loss(routed.logits, selected)
        else:
            aux = x_base.new_zeros(())
        return NetworkOutput(logits.unsqueeze(1), aux, routed.gate_weights.unsqueeze(1))


class ExtendedMoEClassifier:
    """What :func:`add_expert` returns: the frozen base model plus the new expert.

    Attributes
    ----------
    base_ : MoERiskClassifier
        The original model (its weights are not modified).
    feature_group_ : FeatureGroup
        The new expert's columns.
    encoder_ : TabularEncoder
        Encoder of the new columns.
    members_ : list of ExtendedNetwork
        One per member of the base ensemble.
    calibrator_ : Calibrator
        Fitted on the held-out split of the new data.
    classes_ : ndarray of shape (2,)
    expert_names_ : list of str
        The base experts' names, then ``routed_{N}[{group}]``.
    best_epochs_ : list of int
    """

    def __init__(
        self,
        base: MoERiskClassifier,
        group: FeatureGroup,
        encoder: TabularEncoder,
        members: Sequence[ExtendedNetwork],
        calibrator: Calibrator,
        best_epochs: Sequence[int],
    ) -> None:
        self.base_ = base
        self.feature_group_ = group
        self.encoder_ = encoder
        self.members_ = list(members)
        self.calibrator_ = calibrator
        self.classes_ = base.classes_
        self.expert_names_ = [*base.expert_names_, f"routed_{base.n_experts_}[{group.name}]"]
        self.best_epochs_ = list(best_epochs)

    def _batch(self, X: Any) -> Batch:
        frame, _ = as_frame(X)
        missing = [c for c in self.feature_group_.columns if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"X lacks the new expert's columns {missing!r} (group "
                f"{self.feature_group_.name!r})."
            )
        base_cols = list(self.base_.encoder_.columns_)
        _, base_enc = self.base_._encode(frame[base_cols])
        new_enc = self.encoder_.transform(frame[list(self.feature_group_.columns)])
        return _joined_batch(base_enc, new_enc, np.zeros(len(frame), np.float32))

    @torch.no_grad()
    def decision_logits(self, X: Any) -> np.ndarray:
        """Uncalibrated default logits (member mean), shape (n_samples,)."""
        return _member_logits(self.members_, self._batch(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, shape (n_samples, 2); X has the base and new columns."""
        p = self.calibrator_.transform(self.decision_logits(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (threshold 0.5)."""
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(np.int64)])

    @torch.no_grad()
    def expert_usage(self, X: Any) -> np.ndarray:
        """Share of rows routed to each expert (base experts, then the new one)."""
        batch = self._batch(X)
        counts = np.zeros(len(self.expert_names_))
        for member in self.members_:
            member.eval()
            out = member(batch.numeric, batch.missing, batch.categorical)
            counts += (out.gate_weights[:, 0] > 0).sum(0).double().numpy()
        return counts / (batch.n_rows * len(self.members_))


def _joined_batch(base: EncodedFrame, new: EncodedFrame, y01: np.ndarray) -> Batch:
    joined = EncodedFrame(
        np.hstack([base.numeric, new.numeric]),
        np.hstack([base.missing, new.missing]),
        np.hstack([base.categorical, new.categorical]),
    )
    n = len(y01)
    return make_batch(joined, y01[:, None], np.ones((n, 1), np.float32), np.ones(n, np.float32))


@torch.no_grad()
def _member_logits(members: Sequence[ExtendedNetwork], batch: Batch) -> np.ndarray:
    parts = []
    for start in range(0, batch.n_rows, _PREDICT_CHUNK):
        part = batch.take(torch.arange(start, min(start + _PREDICT_CHUNK, batch.n_rows)))
        outs = []
        for m in members:
            m.eval()
            outs.append(m(part.numeric, part.missing, part.categorical).logits[:, 0])
        parts.append(torch.stack(outs).mean(0).double().numpy())
    return np.concatenate(parts)


def _as_group(feature_group: FeatureGroup | Mapping[str, Sequence[str]]) -> FeatureGroup:
    if isinstance(feature_group, FeatureGroup):
        return feature_group
    if isinstance(feature_group, Mapping) and len(feature_group) == 1:
        name, cols = next(iter(feature_group.items()))
        return FeatureGroup(str(name), tuple(str(c) for c in cols))
    raise ValueError(
        "feature_group must be a FeatureGroup or a one-item mapping {name: columns}; got "
        f"{feature_group!r}."
    )


def add_expert(
    model: MoERiskClassifier,
    feature_group: FeatureGroup | Mapping[str, Sequence[str]],
    X: Any,
    y: Any,
    *,
    max_epochs: int = 50,
    patience: int = 8,
    learning_rate: float | None = None,
    validation_fraction: float = 0.2,
    random_state: Any = None,
) -> ExtendedMoEClassifier:
    """Add one routed expert on a new feature group and train only it and the router.

    Parameters
    ----------
    model : MoERiskClassifier
        A fitted model; it is not modified (its weights stay bit-identical).
    feature_group : FeatureGroup or one-item mapping {name: columns}
        The new expert's columns: present in ``X``, absent from the model's inputs.
    X : DataFrame
        New data with the model's columns and the new group's columns.
    y : array-like
        Targets with the model's classes.
    max_epochs, patience : int
        Training length and early-stopping patience.
    learning_rate : float or None
        AdamW learning rate; None takes the model's.
    validation_fraction : float, default=0.2
        Held-out share of the new data for early stopping and the new calibration.
    random_state : int or None

    Returns
    -------
    ExtendedMoEClassifier

    Raises
    ------
    NotFittedError
        If ``model`` is not fitted.
    ValueError
        For a bad ``feature_group``, classes the model does not know, or a
        ``validation_fraction`` outside (0, 0.9].
    SchemaError
        If the group is empty, names columns the model already uses, or X lacks columns.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=400), "macro": rng.normal(size=400)})
    >>> y = (X["a"] + X["macro"] + rng.normal(size=400) > 0).astype(int)
    >>> base = MoERiskClassifier(max_epochs=3, n_ensemble=1, random_state=0).fit(X[["a"]], y)
    >>> ext = add_expert(base, {"macro": ["macro"]}, X, y, max_epochs=3, random_state=0)
    >>> ext.expert_names_[-1], ext.predict_proba(X).shape
    ('routed_4[macro]', (400, 2))
    """
    model._check_fitted()
    group = _as_group(feature_group)
    if not group.columns:
        raise SchemaError(f"feature group {group.name!r} has no columns.")
    used = set(model.encoder_.columns_)
    overlap = [c for c in group.columns if c in used]
    if overlap:
        raise SchemaError(
            f"feature group {group.name!r} names columns the model already uses: {overlap!r}; "
            "a new expert needs new columns."
        )
    if not 0 < validation_fraction <= 0.9:
        raise ValueError(
            "validation_fraction must be in (0, 0.9]; got "
            f"validation_fraction={validation_fraction!r}."
        )
    frame, _ = as_frame(X)
    lacking = [c for c in [*used, *group.columns] if c not in frame.columns]
    if lacking:
        raise SchemaError(f"X lacks columns {sorted(lacking)!r} needed by the extended model.")
    y01, classes = encode_target(y, frame.shape[0], "add_expert")
    if not np.array_equal(np.asarray(classes), np.asarray(model.classes_)):
        raise ValueError(
            f"y has classes {np.asarray(classes).tolist()!r}; the model was fitted on "
            f"{np.asarray(model.classes_).tolist()!r}."
        )

    new_frame = frame[list(group.columns)]
    encoder = TabularEncoder(
        n_bins=int(model.n_bins), min_frequency=int(model.min_category_frequency)
    ).fit(new_frame)
    _, base_enc = model._encode(frame[list(model.encoder_.columns_)])
    full = _joined_batch(base_enc, encoder.transform(new_frame), y01.astype(np.float32))
    full = full._replace(weight=torch.from_numpy(model._row_weights(y01, classes)))
    seed = _seed_from(random_state)
    idx = np.arange(frame.shape[0])
    train_idx, val_idx = train_test_split(
        idx, test_size=validation_fraction, stratify=y01, random_state=seed % (2**32)
    )
    train = full.take(torch.from_numpy(np.sort(train_idx)))
    val = full.take(torch.from_numpy(np.sort(val_idx)))
    batch_size = model.batch_size if model.batch_size != "auto" else 128
    config = TrainConfig(
        learning_rate=float(model.learning_rate if learning_rate is None else learning_rate),
        weight_decay=float(model.weight_decay),
        l1=0.0,
        max_epochs=int(max_epochs),
        patience=int(patience),
        batch_size=int(batch_size),
        aux_task_weight=0.0,
    )
    members: list[ExtendedNetwork] = []
    best_epochs = []
    torch_seeds = np.random.default_rng(seed).integers(
        2**63 - 1, size=(len(model.module_.members), 2)
    )
    with torch.random.fork_rng(devices=[]):
        for base, (torch_seed, order_seed) in zip(
            model.module_.members, torch_seeds.tolist(), strict=True
        ):
            torch.manual_seed(torch_seed)
            embedding = FeatureEmbedding(
                encoder.bin_edges(),
                encoder.cardinalities,
                d_embedding=int(model.d_embedding_),
                kind=model.numeric_embedding,
            )
            frozen = copy.deepcopy(cast(MoENetwork, base))
            net = ExtendedNetwork(
                frozen,
                embedding,
                base_enc.numeric.shape[1],
                base_enc.categorical.shape[1],
                float(model.dropout),
            )
            generator = torch.Generator().manual_seed(order_seed)
            result = train_network(cast(MoENetwork, net), train, val, ["binary"], config, generator)
            members.append(net.eval())
            best_epochs.append(result.best_epoch)
    val_logits = _member_logits(members, val)
    calibrator = fit_calibrator(
        model.calibration or "sigmoid", val_logits, val.targets[:, 0].numpy().astype(np.int64)
    )
    return ExtendedMoEClassifier(model, group, encoder, members, calibrator, best_epochs)
