"""MoERiskRegressor: the same Mixture-of-Experts network with a squared-error head.

The classifier's network (feature tokens, routed and shared experts, top-k router, linear
head) fitted to a real-valued target -- e.g. a portfolio's full-revaluation P&L as a
function of its risk-factor shocks, so that VaR can be computed from the fast surrogate
(:func:`riskmoe.risk.portfolio.surrogate_var`). The target is standardised for training
and mapped back on prediction; the loss is the mean squared error plus the routers'
auxiliary loss, with early stopping on a random (unstratified) validation split.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, column_or_1d

from riskmoe.exceptions import DataError, NotFittedError, SchemaError
from riskmoe.features import (
    FeatureEmbedding,
    FeatureGroup,
    FeatureGroupsSpec,
    NumericEmbeddingKind,
    TabularEncoder,
    resolve_feature_groups,
)
from riskmoe.models.moe._inputs import align_columns, as_frame
from riskmoe.models.moe._io import _canonical, _params_to_json, _sha256, _version, _write
from riskmoe.models.moe._layers import Dispatch
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork
from riskmoe.models.moe._training import Batch, TrainConfig, make_batch, train_network

__all__ = ["MoERiskRegressor"]

_PREDICT_CHUNK = 8192
_AUTO_EXPERTS = 4
_AUTO_MAX_GROUPS = 8
FORMAT = "riskmoe.MoERiskRegressor"
FORMAT_VERSION = 1
_CONFIG, _WEIGHTS, _PREPROCESS, _MANIFEST = (
    "config.json",
    "weights.safetensors",
    "preprocess.json",
    "manifest.json",
)
_FILES = (_CONFIG, _WEIGHTS, _PREPROCESS)


def token_views(
    encoder: TabularEncoder, groups: Sequence[FeatureGroup], n_experts: int
) -> list[list[int] | None]:
    """Per routed expert ``n``, the token indices of group ``n mod len(groups)``.

    None stands for "every token" (a group that covers all columns).
    """
    position = {name: j for j, name in enumerate(encoder.feature_names)}
    views: list[list[int] | None] = []
    for n in range(n_experts):
        group = groups[n % len(groups)]
        if len(group.columns) == len(position):
            views.append(None)
        else:
            views.append(sorted(position[c] for c in group.columns))
    return views


class MoERiskRegressor(RegressorMixin, BaseEstimator):
    """Mixture-of-Experts regressor for raw tabular data (squared-error head).

    Shares :class:`~riskmoe.models.MoERiskClassifier`'s network: per-column tokens
    (quantile bins with piecewise-linear or periodic embeddings, categorical embeddings),
    routed experts over feature groups chosen ``top_k`` at a time by a noisy router,
    always-on shared experts and one linear head -- trained on the standardised target
    with the mean squared error.

    Parameters
    ----------
    n_experts : int or "auto", default="auto"
        Routed experts; ``"auto"``: ``max(4, n_groups)``.
    top_k : int, default=2
    n_shared_experts : int, default=1
    expert_hidden : int, default=64
    feature_groups : mapping of str to sequence of str, "auto" or None, default=None
    d_embedding : int, default=16
    n_bins : int, default=32
        Quantile bins per numeric column (the knots of the piecewise-linear embedding).
    numeric_embedding : {"piecewise_linear", "periodic"}, default="piecewise_linear"
    dropout : float, default=0.0
        Dropout inside the experts (off by default: surrogates fit smooth functions).
    noisy_gating : bool, default=True
    balance_coef : float, default=0.01
    z_loss_coef : float, default=0.001
    learning_rate : float, default=3e-3
    weight_decay : float, default=1e-5
    batch_size : int, default=128
    max_epochs : int, default=200
    patience : int, default=20
    validation_fraction : float, default=0.1
        Random share held out for early stopping; 0 trains ``max_epochs``.
    n_ensemble : int, default=1
        Networks whose predictions are averaged (each with its own seed and split).
    dispatch : {"sparse", "dense"}, default="sparse"
    random_state : int or None, default=None

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a frame with string column names.
    encoder_ : TabularEncoder
    feature_groups_ : tuple of FeatureGroup
    n_experts_ : int
    expert_names_ : list of str
    module_ : MoEEnsemble
    target_mean_, target_scale_ : float
        Standardisation of ``y``: predictions are ``output * target_scale_ + target_mean_``.
    expert_usage_ : ndarray of shape (n_experts,)
        Share of training rows routed to each expert (sums to ``top_k``).
    n_parameters_ : int
    best_epochs_ : list of int
    history_ : list of tuple of float
        Validation mean squared error (standardised units) per epoch, per member.

    Notes
    -----
    The prediction is

    .. math:: \\hat y(x) = \\mu_y + \\sigma_y\\Big(b + \\sum_s w^\\top S_s(x) +
       \\sum_{n \\in \\mathrm{TopK}(x)} g_n(x)\\, w^\\top E_n(x_{v(n)})\\Big),

    fitted by minimising :math:`\\frac1n\\sum_i ((y_i-\\mu_y)/\\sigma_y - z(x_i))^2` plus
    the router auxiliary loss (Switch balance + z-loss).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(400, 2))
    >>> y = np.maximum(X[:, 0], 0.0) + 0.5 * X[:, 1]
    >>> reg = MoERiskRegressor(max_epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        *,
        n_experts: int | Literal["auto"] = "auto",
        top_k: int = 2,
        n_shared_experts: int = 1,
        expert_hidden: int = 64,
        feature_groups: FeatureGroupsSpec = None,
        d_embedding: int = 16,
        n_bins: int = 32,
        numeric_embedding: NumericEmbeddingKind = "piecewise_linear",
        dropout: float = 0.0,
        noisy_gating: bool = True,
        balance_coef: float = 0.01,
        z_loss_coef: float = 0.001,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-5,
        batch_size: int = 128,
        max_epochs: int = 200,
        patience: int = 20,
        validation_fraction: float = 0.1,
        n_ensemble: int = 1,
        dispatch: Dispatch = "sparse",
        random_state: int | None = None,
    ) -> None:
        self.n_experts = n_experts
        self.top_k = top_k
        self.n_shared_experts = n_shared_experts
        self.expert_hidden = expert_hidden
        self.feature_groups = feature_groups
        self.d_embedding = d_embedding
        self.n_bins = n_bins
        self.numeric_embedding = numeric_embedding
        self.dropout = dropout
        self.noisy_gating = noisy_gating
        self.balance_coef = balance_coef
        self.z_loss_coef = z_loss_coef
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.n_ensemble = n_ensemble
        self.dispatch = dispatch
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # -- validation ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        def integer(name: str, low: int) -> int:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {name}={value!r}.")
            return int(value)

        def real(name: str, low: float, high: float, *, closed_low: bool = True) -> None:
            value = getattr(self, name)
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            ok = ok and (value >= low if closed_low else value > low) and value <= high
            if not ok:
                bracket = "[" if closed_low else "("
                raise ValueError(
                    f"{name} must be a number in {bracket}{low}, {high}]; got {name}={value!r}."
                )

        top_k = integer("top_k", 1)
        if self.n_experts != "auto" and integer("n_experts", 1) < top_k:
            raise ValueError(
                f"n_experts must be >= top_k; got n_experts={self.n_experts}, top_k={top_k}."
            )
        for name, low in (
            ("n_shared_experts", 0),
            ("expert_hidden", 1),
            ("d_embedding", 1),
            ("n_bins", 1),
            ("batch_size", 1),
            ("max_epochs", 1),
            ("patience", 1),
            ("n_ensemble", 1),
        ):
            integer(name, low)
        real("dropout", 0.0, 0.99)
        real("learning_rate", 0.0, 10.0, closed_low=False)
        for name in ("weight_decay", "balance_coef", "z_loss_coef"):
            real(name, 0.0, math.inf)
        real("validation_fraction", 0.0, 0.9)
        if self.numeric_embedding not in ("piecewise_linear", "periodic"):
            raise ValueError(
                "numeric_embedding must be one of ('piecewise_linear', 'periodic'); got "
                f"numeric_embedding={self.numeric_embedding!r}."
            )
        if self.dispatch not in ("sparse", "dense"):
            raise ValueError(
                f"dispatch must be one of ('sparse', 'dense'); got dispatch={self.dispatch!r}."
            )
        rs = self.random_state
        if rs is not None and (
            not isinstance(rs, numbers.Integral) or isinstance(rs, bool) or rs < 0
        ):
            raise ValueError(f"random_state must be None or an integer >= 0; got {rs!r}.")

    @staticmethod
    def _check_target(y: Any, n_rows: int) -> np.ndarray:
        if y is None:
            raise ValueError("MoERiskRegressor requires y to be passed, but the target y is None.")
        raw = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else np.asarray(y)
        values = column_or_1d(raw, warn=True)
        if values.dtype.kind not in "biuf":
            raise ValueError(
                f"y must be numeric for a regressor; got dtype {values.dtype} "
                f"(first value {values[0]!r})."
            )
        values = values.astype(np.float64)
        if values.shape[0] != n_rows:
            raise ValueError(
                f"X has {n_rows} rows but y has {values.shape[0]} values; they must match."
            )
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"y contains {int(bad.sum())} NaN or infinite value(s) (first at position "
                f"{first}); the target must be finite."
            )
        return values

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "module_")
        except _SklearnNotFittedError as exc:
            raise NotFittedError(str(exc)) from exc

    # -- fitting ------------------------------------------------------------------------------

    def _build_network(
        self, encoder: TabularEncoder, views: Sequence[Sequence[int] | None]
    ) -> MoENetwork:
        embedding = FeatureEmbedding(
            encoder.bin_edges(),
            encoder.cardinalities,
            d_embedding=int(self.d_embedding),
            kind=self.numeric_embedding,
        )
        return MoENetwork(
            embedding,
            views,
            n_shared=int(self.n_shared_experts),
            d_hidden=int(self.expert_hidden),
            top_k=int(self.top_k),
            n_tasks=1,
            dropout=float(self.dropout),
            noisy_gating=bool(self.noisy_gating),
            balance_coef=float(self.balance_coef),
            z_loss_coef=float(self.z_loss_coef),
            dispatch=self.dispatch,
        )

    def fit(self, X: Any, y: Any) -> MoERiskRegressor:
        """Fit on a raw frame (or array) and a numeric target.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Finite numbers.

        Returns
        -------
        MoERiskRegressor
            ``self``.

        Raises
        ------
        ValueError
            Invalid parameters; y None, non-numeric, or of the wrong length.
        DataError
            Empty X; NaN or infinity in y.
        SchemaError
            Unsupported column dtypes; feature groups naming unknown columns.
        """
        self._check_params()
        frame, has_names = as_frame(X)
        target = self._check_target(y, frame.shape[0])
        encoder = TabularEncoder(n_bins=self.n_bins).fit(frame)
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
        mean = float(target.mean())
        scale = float(target.std()) or 1.0
        standard = ((target - mean) / scale).astype(np.float32)[:, None]
        n = frame.shape[0]
        full = make_batch(
            encoder.transform(frame), standard, np.ones((n, 1), np.float32), np.ones(n, np.float32)
        )
        config = TrainConfig(
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            l1=0.0,
            max_epochs=int(self.max_epochs),
            patience=int(self.patience),
            batch_size=int(self.batch_size),
            aux_task_weight=0.0,
        )
        views = token_views(encoder, groups, int(n_experts))
        seeds = np.random.default_rng(self.random_state).integers(
            2**63 - 1, size=(int(self.n_ensemble), 3)
        )
        members: list[MoENetwork] = []
        best_epochs, histories = [], []
        with torch.random.fork_rng(devices=[]):
            for split_seed, torch_seed, order_seed in seeds.tolist():
                train_idx, val_idx = self._split(n, split_seed)
                torch.manual_seed(torch_seed)
                net = self._build_network(encoder, views)
                result = train_network(
                    net,
                    full.take(torch.from_numpy(train_idx)),
                    full.take(torch.from_numpy(val_idx)) if val_idx.size else None,
                    ["regression"],
                    config,
                    torch.Generator().manual_seed(order_seed),
                )
                members.append(net)
                best_epochs.append(result.best_epoch)
                histories.append(result.history)

        self.n_features_in_ = frame.shape[1]
        if has_names:
            self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.encoder_ = encoder
        self.feature_groups_ = groups
        self.n_experts_ = int(n_experts)
        self.expert_names_ = [
            f"routed_{k}[{groups[k % len(groups)].name}]" for k in range(self.n_experts_)
        ]
        self.target_mean_ = mean
        self.target_scale_ = scale
        self.module_ = MoEEnsemble(members).eval()
        self.best_epochs_ = best_epochs
        self.history_ = histories
        self.expert_usage_ = routed_share(self.module_, full, self.n_experts_)
        self.n_parameters_ = int(sum(p.numel() for p in self.module_.parameters()))
        return self

    def _split(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(n)
        n_val = int(round(self.validation_fraction * n))
        if self.validation_fraction == 0 or n_val < 2 or n - n_val < 2:
            return idx, np.zeros(0, dtype=np.int64)
        train_idx, val_idx = train_test_split(idx, test_size=n_val, random_state=seed % (2**32))
        return np.sort(train_idx), np.sort(val_idx)

    # -- prediction ---------------------------------------------------------------------------

    def _encoded_batch(self, X: Any) -> Batch:
        self._check_fitted()
        frame, has_names = as_frame(X)
        frame = align_columns(
            frame,
            has_names,
            list(self.encoder_.columns_),
            hasattr(self, "feature_names_in_"),
            type(self).__name__,
        )
        n = frame.shape[0]
        zeros = np.zeros((n, 1), np.float32)
        return make_batch(self.encoder_.transform(frame), zeros, zeros, np.ones(n, np.float32))

    @torch.no_grad()
    def predict(self, X: Any) -> np.ndarray:
        """Predicted target, shape (n_samples,), on the original scale.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing / unknown columns or text in a numeric column.
        """
        batch = self._encoded_batch(X)
        module = self.module_
        for member in module.members:
            assert isinstance(member, MoENetwork)
            member.dispatch = self.dispatch
        module.eval()
        parts = []
        for start in range(0, batch.n_rows, _PREDICT_CHUNK):
            part = batch.take(torch.arange(start, min(start + _PREDICT_CHUNK, batch.n_rows)))
            out = module(part.numeric, part.missing, part.categorical, [0])
            parts.append(out.logits[:, 0].double().numpy())
        return np.concatenate(parts) * self.target_scale_ + self.target_mean_

    # -- persistence --------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Save to a directory: config.json, weights.safetensors, preprocess.json, manifest.json.

        No pickle: weights in safetensors, everything else in JSON, each file's sha256 in
        the manifest (checked by :meth:`load`).
        """
        self._check_fitted()
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": _params_to_json(self.get_params(deep=False)),
            "fitted": {
                "n_features_in": int(self.n_features_in_),
                "feature_names_in": (
                    [str(c) for c in self.feature_names_in_]
                    if hasattr(self, "feature_names_in_")
                    else None
                ),
                "feature_groups": [g.to_dict() for g in self.feature_groups_],
                "expert_names": list(self.expert_names_),
                "n_members": len(self.module_.members),
                "target_mean": self.target_mean_,
                "target_scale": self.target_scale_,
                "expert_usage": [float(v) for v in self.expert_usage_],
                "best_epochs": [int(v) for v in self.best_epochs_],
                "history": [[float(v) for v in h] for h in self.history_],
                "n_parameters": int(self.n_parameters_),
            },
        }
        _write(out / _CONFIG, _canonical(config))
        _write(out / _PREPROCESS, _canonical({"encoder": self.encoder_.to_dict()}))
        tensors = {k: v.detach().contiguous().clone() for k, v in self.module_.state_dict().items()}
        tmp = out / (_WEIGHTS + ".tmp")
        save_file(tensors, str(tmp), metadata={"format": "pt"})
        os.replace(tmp, out / _WEIGHTS)
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "files": {name: _sha256(out / name) for name in _FILES},
            "versions": {
                "riskmoe": _version("riskmoe"),
                "torch": torch.__version__,
                "python": platform.python_version(),
            },
        }
        manifest = {**body, "digest": hashlib.sha256(_canonical(body)).hexdigest()}
        _write(out / _MANIFEST, _canonical(manifest))
        return out

    @classmethod
    def load(cls, path: str | Path) -> MoERiskRegressor:
        """Load a model saved by :meth:`save`, verifying every file's sha256 first.

        Raises
        ------
        DataError
            If the folder or a file is missing, altered (hash mismatch) or malformed.
        """
        folder = Path(path)
        _verify_folder(folder)
        try:
            config = json.loads((folder / _CONFIG).read_text("utf-8"))
            preprocess = json.loads((folder / _PREPROCESS).read_text("utf-8"))
            fitted = config["fitted"]
            model = cls(**config["params"])
            model.n_features_in_ = int(fitted["n_features_in"])
            if fitted["feature_names_in"] is not None:
                model.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
            encoder = TabularEncoder.from_dict(preprocess["encoder"])
            groups = tuple(
                FeatureGroup(str(g["name"]), tuple(str(c) for c in g["columns"]))
                for g in fitted["feature_groups"]
            )
            model.n_experts_ = len(fitted["expert_names"])
            views = token_views(encoder, groups, model.n_experts_)
            with torch.random.fork_rng(devices=[]):
                members = [
                    model._build_network(encoder, views) for _ in range(int(fitted["n_members"]))
                ]
            module = MoEEnsemble(members)
            module.load_state_dict(load_file(str(folder / _WEIGHTS)), strict=True)
            model.module_ = module.eval()
            model.encoder_ = encoder
            model.feature_groups_ = groups
            model.expert_names_ = [str(v) for v in fitted["expert_names"]]
            model.target_mean_ = float(fitted["target_mean"])
            model.target_scale_ = float(fitted["target_scale"])
            model.expert_usage_ = np.asarray(fitted["expert_usage"], dtype=np.float64)
            model.best_epochs_ = [int(v) for v in fitted["best_epochs"]]
            model.history_ = [tuple(float(v) for v in h) for h in fitted["history"]]
            model.n_parameters_ = int(fitted["n_parameters"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, DataError | SchemaError):
                raise
            raise DataError(f"the saved model in {str(folder)!r} is malformed: {exc!r}") from exc
        return model


@torch.no_grad()
def routed_share(module: MoEEnsemble, batch: Batch, n_experts: int) -> np.ndarray:
    """Share of ``batch``'s rows the default-task router sends to each routed expert.

    Averaged over the ensemble members; sums to ``top_k``.
    """
    counts = np.zeros(n_experts)
    for member in module.members:
        assert isinstance(member, MoENetwork)
        for start in range(0, batch.n_rows, _PREDICT_CHUNK):
            part = batch.take(torch.arange(start, min(start + _PREDICT_CHUNK, batch.n_rows)))
            tokens = member.tokens(part.numeric, part.missing, part.categorical)
            gates = member.moe.route(tokens.flatten(1), [0])[0].gate_weights
            counts += (gates > 0).sum(0).double().numpy()
    return counts / (batch.n_rows * len(module.members))


def _verify_folder(path: Path) -> None:
    """Check the manifest's digest and every listed file's sha256."""
    if not path.is_dir():
        raise DataError(f"model directory {str(path)!r} does not exist.")
    manifest_path = path / _MANIFEST
    if not manifest_path.is_file():
        raise DataError(f"{_MANIFEST} is missing from {str(path)!r}; not a saved model.")
    raw = manifest_path.read_bytes()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{_MANIFEST} in {str(path)!r} is not valid JSON ({exc}).") from exc
    body = (
        {k: v for k, v in manifest.items() if k != "digest"} if isinstance(manifest, dict) else {}
    )
    if not body or hashlib.sha256(_canonical(body)).hexdigest() != manifest.get("digest"):
        raise DataError(
            f"{_MANIFEST} in {str(path)!r} failed its integrity check (digest mismatch); "
            "the model directory was modified after saving. Refusing to load."
        )
    if manifest.get("format") != FORMAT:
        raise DataError(f"{str(path)!r} holds {manifest.get('format')!r}, not {FORMAT!r}.")
    for name in _FILES:
        file = path / name
        if not file.is_file():
            raise DataError(f"{name} is missing from {str(path)!r}. Refusing to load.")
        expected = manifest.get("files", {}).get(name)
        actual = _sha256(file)
        if actual != expected:
            raise DataError(
                f"{name} failed its integrity check: sha256 {actual} does not match the "
                f"manifest ({expected}); the model directory was modified after saving. "
                "Refusing to load."
            )
