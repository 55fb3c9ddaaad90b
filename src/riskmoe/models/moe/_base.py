"""What MoERiskClassifier and MoERiskRegressor share: validation, network, training, scoring.

:class:`_MoEBase` holds the parts of the two estimators that do not depend on the head:
the checks of the common parameters, feature groups and expert views, building a
:class:`~riskmoe.models.moe._network.MoENetwork`, training one ensemble member per seed
row, encoding new input and running the fitted ensemble. Each estimator still lists its
parameters in its own ``__init__`` (scikit-learn's ``get_params`` reads the signature) and
keeps its target handling, loss and prediction.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted
from torch import nn

from riskmoe.exceptions import NotFittedError
from riskmoe.features import (
    EncodedFrame,
    FeatureEmbedding,
    FeatureGroup,
    TabularEncoder,
    resolve_feature_groups,
)
from riskmoe.models.moe._inputs import align_columns, as_frame
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork
from riskmoe.models.moe._training import (
    Batch,
    Stopping,
    TaskKind,
    TrainConfig,
    TrainResult,
    train_network,
)

__all__ = ["embedding_width", "holdout", "routed_share", "scoring_chunk"]

#: rows per scoring chunk: enough for a chunk's flat tokens to fill about 4 MiB, so
#: a member's intermediates stay in cache (Polish y5's 512-wide tokens scored 25-35 %
#: faster in chunks of 2,048 than of 8,192 rows), within these bounds
_CHUNK_FLOATS = 1 << 20
_CHUNK_ROWS = (256, 8192)
_AUTO_EXPERTS = 4  # routed experts when n_experts="auto" and there are fewer groups
_AUTO_MAX_GROUPS = 8  # groups feature_groups="auto" may infer when n_experts="auto"
_AUTO_INPUT_WIDTH = 512  # d_embedding="auto": about this many flat inputs per expert
_AUTO_EMBEDDING = (4, 16)  # d_embedding="auto": the narrowest and widest token


def scoring_chunk(network: nn.Module) -> int:
    """Rows per scoring chunk for ``network`` (an :class:`MoENetwork`).

    Enough rows for a chunk's flat tokens to fill about 4 MiB (``_CHUNK_FLOATS``), within
    ``_CHUNK_ROWS``. Every scoring path chunks with this, so a record's score does not
    depend on which path scored it.
    """
    embedding = cast(MoENetwork, network).embedding
    width = max(int(embedding.n_tokens * embedding.d_embedding), 1)
    low, high = _CHUNK_ROWS
    return max(low, min(high, _CHUNK_FLOATS // width))


def embedding_width(d_embedding: int | str, n_tokens: int) -> int:
    """Token width: ``d_embedding`` itself, or for ``"auto"`` the largest power of two
    with ``n_tokens * width <= 512``, kept within [4, 16].

    An expert's first layer reads ``n_tokens * width`` inputs; with many columns and
    few rows a fixed width makes that layer the first thing to overfit (measured on
    Polish bankruptcy, 64 ratios and ~5,600 rows: width 8 beat 16 by 0.002 AUC at half
    the fit time).

    Examples
    --------
    >>> [embedding_width("auto", n) for n in (10, 30, 64, 100, 300)]
    [16, 16, 8, 4, 4]
    >>> embedding_width(12, 64)
    12
    """
    if d_embedding != "auto":
        return int(d_embedding)
    low, high = _AUTO_EMBEDDING
    width = 2 ** math.floor(math.log2(max(_AUTO_INPUT_WIDTH / max(n_tokens, 1), 1)))
    return int(min(high, max(low, width)))


def holdout(
    n: int, fraction: float, seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation row indices for an early-stopping holdout.

    Parameters
    ----------
    n : int
        Rows.
    fraction : float
        Share held out; 0 (or a holdout or training part under two rows) holds out nothing.
    seed : int
        Seed of the split (reduced modulo ``2**32``).
    stratify : ndarray of shape (n,), optional
        Labels to stratify on.

    Returns
    -------
    train_idx, val_idx : ndarray of int
    """
    idx = np.arange(n)
    n_val = int(round(fraction * n))
    if fraction == 0 or n_val < 2 or n - n_val < 2:
        return idx, np.zeros(0, dtype=np.int64)
    train_idx, val_idx = train_test_split(
        idx, test_size=n_val, stratify=stratify, random_state=seed % (2**32)
    )
    return np.sort(train_idx), np.sort(val_idx)


@torch.no_grad()
def routed_share(module: MoEEnsemble, batch: Batch, n_experts: int) -> np.ndarray:
    """Share of ``batch``'s rows the default-task router sends to each routed expert.

    Averaged over the ensemble members; sums to ``top_k``.
    """
    counts = np.zeros(n_experts)
    for member in module.members:
        assert isinstance(member, MoENetwork)
        chunk = scoring_chunk(member)
        for start in range(0, batch.n_rows, chunk):
            part = batch.take(torch.arange(start, min(start + chunk, batch.n_rows)))
            tokens = member.tokens(part.numeric, part.missing, part.categorical)
            gates = member.moe.route(tokens.flatten(1), [0])[0].gate_weights
            counts += (gates > 0).sum(0).double().numpy()
    return counts / (batch.n_rows * len(module.members))


class _MoEBase(BaseEstimator):
    """Private base of the MoE estimators (no ``__init__``: subclasses list their parameters).

    Subclasses store at least ``n_experts``, ``top_k``, ``n_shared_experts``,
    ``expert_hidden``, ``feature_groups``, ``d_embedding``, ``n_bins``,
    ``numeric_embedding``, ``dropout``, ``noisy_gating``, ``balance_coef``,
    ``z_loss_coef``, ``learning_rate``, ``weight_decay``, ``max_epochs``, ``patience``,
    ``validation_fraction`` and ``dispatch``.
    """

    n_experts_: int
    encoder_: TabularEncoder
    feature_groups_: tuple[FeatureGroup, ...]
    module_: MoEEnsemble

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # -- validation ----------------------------------------------------------------------------

    def _check_integer(self, name: str, low: int) -> int:
        value = getattr(self, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {name}={value!r}.")
        return int(value)

    def _check_real(self, name: str, low: float, high: float, *, closed_low: bool = True) -> None:
        value = getattr(self, name)
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and (value >= low if closed_low else value > low) and value <= high
        if not ok:
            bracket = "[" if closed_low else "("
            raise ValueError(
                f"{name} must be a number in {bracket}{low}, {high}]; got {name}={value!r}."
            )

    def _check_choice(self, name: str, allowed: tuple[Any, ...]) -> None:
        if getattr(self, name) not in allowed:
            raise ValueError(
                f"{name} must be one of {allowed}; got {name}={getattr(self, name)!r}."
            )

    def _check_network_params(self) -> None:
        """Check the parameters both estimators share (network, optimiser, early stopping)."""
        top_k = self._check_integer("top_k", 1)
        if self.n_experts != "auto":
            n_experts = self._check_integer("n_experts", 1)
            if n_experts < top_k:
                raise ValueError(
                    f"n_experts must be >= top_k; got n_experts={n_experts}, top_k={top_k}."
                )
        for name, low in (
            ("n_shared_experts", 0),
            ("expert_hidden", 1),
            ("n_bins", 1),
            ("max_epochs", 1),
            ("patience", 1),
        ):
            self._check_integer(name, low)
        if self.d_embedding != "auto":
            self._check_integer("d_embedding", 1)
        self._check_real("dropout", 0.0, 0.99)
        self._check_real("learning_rate", 0.0, 10.0, closed_low=False)
        for name in ("weight_decay", "balance_coef", "z_loss_coef"):
            self._check_real(name, 0.0, math.inf)
        self._check_real("validation_fraction", 0.0, 0.9)
        self._check_choice("numeric_embedding", ("piecewise_linear", "periodic"))
        self._check_choice("dispatch", ("sparse", "dense"))

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "module_")
        except _SklearnNotFittedError as exc:
            raise NotFittedError(str(exc)) from exc

    # -- fitting -------------------------------------------------------------------------------

    def _resolve_experts(self, encoder: TabularEncoder) -> tuple[FeatureGroup, ...]:
        """The feature groups of ``encoder``'s columns; sets ``n_experts_``."""
        groups = resolve_feature_groups(
            self.feature_groups,
            list(encoder.columns_),
            max_groups=_AUTO_MAX_GROUPS if self.n_experts == "auto" else int(self.n_experts),
        )
        n_experts = max(_AUTO_EXPERTS, len(groups)) if self.n_experts == "auto" else self.n_experts
        if n_experts < self.top_k:
            raise ValueError(
                f"n_experts must be >= top_k; got n_experts={n_experts} (resolved from "
                f"{self.n_experts!r}), top_k={self.top_k}."
            )
        self.n_experts_ = int(n_experts)
        return groups

    def _train_config(
        self,
        batch_size: int,
        *,
        l1: float = 0.0,
        aux_task_weight: float = 0.0,
        stopping: Stopping = "loss",
    ) -> TrainConfig:
        return TrainConfig(
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            l1=l1,
            max_epochs=int(self.max_epochs),
            patience=int(self.patience),
            batch_size=batch_size,
            aux_task_weight=aux_task_weight,
            stopping=stopping,
        )

    def _split(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Random (unstratified) train / validation rows for one member."""
        return holdout(y.shape[0], self.validation_fraction, seed)

    def _train_members(
        self,
        full: Batch,
        y: np.ndarray,
        seeds: np.ndarray,
        build: Callable[[], MoENetwork],
        kinds: Sequence[TaskKind],
        config: TrainConfig,
    ) -> tuple[list[MoENetwork], list[TrainResult], np.ndarray]:
        """Train one member per row of ``seeds`` (split, torch and order seeds).

        Returns the members, their training results and the out-of-bag logits: for each
        row, the mean logit of the members that held it out (NaN if none did).
        """
        members: list[MoENetwork] = []
        results: list[TrainResult] = []
        oob_sum, oob_count = np.zeros(full.n_rows), np.zeros(full.n_rows)
        with torch.random.fork_rng(devices=[]):
            for split_seed, torch_seed, order_seed in seeds.tolist():
                train_idx, val_idx = self._split(y, split_seed)
                train = full.take(torch.from_numpy(train_idx))
                val = full.take(torch.from_numpy(val_idx)) if val_idx.size else None
                torch.manual_seed(torch_seed)
                generator = torch.Generator().manual_seed(order_seed)
                net = build()
                results.append(self._train_network(net, train, val, kinds, config, generator))
                members.append(net)
                if val is not None:
                    oob_sum[val_idx] += self._logits(MoEEnsemble([net]), val, [0])[:, 0]
                    oob_count[val_idx] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            oob_logits = np.where(oob_count > 0, oob_sum / oob_count, np.nan)
        return members, results, oob_logits

    def _train_network(
        self,
        net: MoENetwork,
        train: Batch,
        val: Batch | None,
        kinds: Sequence[TaskKind],
        config: TrainConfig,
        generator: torch.Generator,
    ) -> TrainResult:
        """Train one member (the distributed estimator overrides this with DDP)."""
        return train_network(net, train, val, kinds, config, generator)

    def _token_views(
        self, encoder: TabularEncoder, groups: Sequence[FeatureGroup]
    ) -> list[list[int] | None]:
        """Per routed expert ``n``, the token indices of group ``n mod len(groups)``.

        None stands for "every token" (a group that covers all columns).
        """
        position = {name: j for j, name in enumerate(encoder.feature_names)}
        views: list[list[int] | None] = []
        for n in range(self.n_experts_):
            group = groups[n % len(groups)]
            if len(group.columns) == len(position):
                views.append(None)
            else:
                views.append(sorted(position[c] for c in group.columns))
        return views

    def _build_network(
        self, encoder: TabularEncoder, views: Sequence[Sequence[int] | None], n_tasks: int = 1
    ) -> MoENetwork:
        embedding = FeatureEmbedding(
            encoder.bin_edges(),
            encoder.cardinalities,
            d_embedding=embedding_width(self.d_embedding, len(encoder.feature_names)),
            kind=self.numeric_embedding,
        )
        return MoENetwork(
            embedding,
            views,
            n_shared=int(self.n_shared_experts),
            d_hidden=int(self.expert_hidden),
            top_k=int(self.top_k),
            n_tasks=n_tasks,
            dropout=float(self.dropout),
            noisy_gating=bool(self.noisy_gating),
            balance_coef=float(self.balance_coef),
            z_loss_coef=float(self.z_loss_coef),
            dispatch=self.dispatch,
        )

    def _set_inputs(
        self,
        frame: pd.DataFrame,
        has_names: bool,
        encoder: TabularEncoder,
        groups: tuple[FeatureGroup, ...],
    ) -> None:
        """Set the fitted input attributes (features, encoder, groups, expert names)."""
        self.n_features_in_ = frame.shape[1]
        if has_names:
            self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.encoder_ = encoder
        self.d_embedding_ = embedding_width(self.d_embedding, len(encoder.feature_names))
        self.feature_groups_ = groups
        self.expert_names_ = [
            f"routed_{n}[{groups[n % len(groups)].name}]" for n in range(self.n_experts_)
        ]

    # -- fitted-state summaries and scoring ----------------------------------------------------

    @staticmethod
    @torch.no_grad()
    def _logits(
        module: MoEEnsemble, batch: Batch, tasks: Sequence[int] | None = None
    ) -> np.ndarray:
        if any(m.training for m in module.modules()):
            module.eval()  # recursing through every layer costs ~6 ms a call when not needed
        parts = []
        chunk = scoring_chunk(module.members[0])
        for start in range(0, batch.n_rows, chunk):
            idx = torch.arange(start, min(start + chunk, batch.n_rows))
            part = batch.take(idx)
            out = module(part.numeric, part.missing, part.categorical, tasks)
            parts.append(out.logits.double().numpy())
        return np.concatenate(parts, axis=0)

    def _usage(self, module: MoEEnsemble, batch: Batch) -> np.ndarray:
        return routed_share(module, batch, self.n_experts_)

    def _encode(self, X: Any) -> tuple[pd.DataFrame, EncodedFrame]:
        self._check_fitted()
        frame, has_names = as_frame(X)
        frame = align_columns(
            frame,
            has_names,
            list(self.encoder_.columns_),
            hasattr(self, "feature_names_in_"),
            type(self).__name__,
        )
        return frame, self.encoder_.transform(frame)

    def _scoring_module(self) -> MoEEnsemble:
        """The fitted network, switched to the current ``dispatch`` parameter."""
        for member in self.module_.members:
            assert isinstance(member, MoENetwork)
            member.dispatch = self.dispatch
        return self.module_
