"""MoERiskRegressor: the same Mixture-of-Experts network with a squared-error head.

The classifier's network (feature tokens, routed and shared experts, top-k router, linear
head) fitted to a real-valued target -- e.g. a portfolio's full-revaluation P&L as a
function of its risk-factor shocks, so that VaR can be computed from the fast surrogate
(:func:`riskmoe.risk.portfolio.surrogate_var`). The target is standardised for training
and mapped back on prediction; the loss is the mean squared error plus the routers'
auxiliary loss, with early stopping on a random (unstratified) validation split.
Everything but the target, the head's loss and the prediction is shared with
MoERiskClassifier through :class:`riskmoe.models.moe._base._MoEBase` and
:mod:`riskmoe.models.moe._io`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.utils.validation import column_or_1d

from riskmoe.exceptions import DataError
from riskmoe.features import EncodedFrame, FeatureGroupsSpec, NumericEmbeddingKind, TabularEncoder
from riskmoe.models.moe._base import _MoEBase
from riskmoe.models.moe._inputs import as_frame
from riskmoe.models.moe._io import load_folder, save_folder
from riskmoe.models.moe._layers import Dispatch
from riskmoe.models.moe._network import MoEEnsemble
from riskmoe.models.moe._training import Batch, make_batch

__all__ = ["MoERiskRegressor"]

FORMAT = "riskmoe.MoERiskRegressor"


class MoERiskRegressor(RegressorMixin, _MoEBase):
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

    # -- validation ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        self._check_network_params()
        for name in ("batch_size", "n_ensemble"):
            self._check_integer(name, 1)
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

    # -- fitting ------------------------------------------------------------------------------

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
        groups = self._resolve_experts(encoder)
        mean = float(target.mean())
        scale = float(target.std()) or 1.0
        standard = ((target - mean) / scale).astype(np.float32)[:, None]
        n = frame.shape[0]
        full = make_batch(
            encoder.transform(frame), standard, np.ones((n, 1), np.float32), np.ones(n, np.float32)
        )
        views = self._token_views(encoder, groups)
        seeds = np.random.default_rng(self.random_state).integers(
            2**63 - 1, size=(int(self.n_ensemble), 3)
        )
        members, results, _ = self._train_members(
            full,
            target,
            seeds,
            lambda: self._build_network(encoder, views),
            ["regression"],
            self._train_config(int(self.batch_size)),
        )

        self._set_inputs(frame, has_names, encoder, groups)
        self.target_mean_ = mean
        self.target_scale_ = scale
        self.module_ = MoEEnsemble(members).eval()
        self.best_epochs_ = [r.best_epoch for r in results]
        self.history_ = [r.history for r in results]
        self.expert_usage_ = self._usage(self.module_, full)
        self.n_parameters_ = int(sum(p.numel() for p in self.module_.parameters()))
        return self

    # -- prediction ---------------------------------------------------------------------------

    @staticmethod
    def _batch(encoded: EncodedFrame) -> Batch:
        n = encoded.numeric.shape[0]
        zeros = np.zeros((n, 1), np.float32)
        return make_batch(encoded, zeros, zeros, np.ones(n, np.float32))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted target, shape (n_samples,), on the original scale.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing / unknown columns or text in a numeric column.
        """
        _, encoded = self._encode(X)
        out = self._logits(self._scoring_module(), self._batch(encoded), [0])[:, 0]
        return out * self.target_scale_ + self.target_mean_

    # -- persistence --------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Save to a directory: config.json, weights.safetensors, preprocess.json, manifest.json.

        No pickle: weights in safetensors, everything else in JSON, each file's sha256 in
        the manifest (checked by :meth:`load`).

        Returns
        -------
        pathlib.Path
            The directory.
        """
        self._check_fitted()
        return save_folder(
            self,
            Path(path),
            FORMAT,
            fitted={"target_mean": self.target_mean_, "target_scale": self.target_scale_},
            preprocess={},
            versions={},
        )

    @classmethod
    def load(cls, path: str | Path) -> MoERiskRegressor:
        """Load a model saved by :meth:`save`, verifying every file's sha256 first.

        Raises
        ------
        DataError
            If the folder or a file is missing, altered (hash mismatch) or malformed.
        """
        return load_folder(cls, Path(path), FORMAT, _restore)


def _restore(
    model: MoERiskRegressor, fitted: Mapping[str, Any], preprocess: Mapping[str, Any]
) -> int:
    """Set the regressor's own fitted attributes on load; the network has one task."""
    model.target_mean_ = float(fitted["target_mean"])
    model.target_scale_ = float(fitted["target_scale"])
    return 1
