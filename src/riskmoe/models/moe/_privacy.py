"""Differentially private training (DP-SGD with Opacus) and Gaussian noise on routing.

:class:`DPMoEClassifier` trains the MoE network with DP-SGD [1]_: every step draws a
Poisson sample of the rows (each row independently with probability ``q``), clips each
row's gradient to L2 norm ``C``, sums, adds :math:`N(0, \\sigma^2 C^2)` noise and averages.
Opacus does the clipping, noising, Poisson sampling and accounting (its ``DPOptimizer``,
``UniformWithReplacementSampler`` and Rényi-DP accountant [2]_); the per-row gradients come
from ``torch.func`` (``vmap`` of ``grad``), because Opacus' hook-based ``GradSampleModule``
refuses modules that own both parameters and buffers (the MoE's embeddings do).

Under DP the network runs with dense dispatch (a static graph per row, which ``vmap``
needs) and in inference mode: no dropout, no learned gating noise and no router auxiliary
losses (the Switch load-balancing loss is a product of two batch means, so not a sum of
per-row terms; the clipped, noised gradients regularise instead); there is no early stopping and no
post-hoc calibration (both would look at private rows outside the accounted mechanism), and
no class weights (they depend on the private label counts).

:func:`routing_noise` adds Gaussian noise to the router logits at inference, so the expert
selection of a row is randomised.

References
----------
.. [1] M. Abadi et al., "Deep Learning with Differential Privacy", CCS 2016.
.. [2] I. Mironov, "Rényi Differential Privacy", CSF 2017; A. Yousefpour et al.,
   "Opacus: User-Friendly Differential Privacy Library in PyTorch", 2021.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier
from opacus.optimizers import DPOptimizer
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import Tensor
from torch.func import functional_call, grad, vmap

from riskmoe.exceptions import NotFittedError
from riskmoe.features.embeddings import lookup_enabled
from riskmoe.models.moe._estimator import MoERiskClassifier
from riskmoe.models.moe._layers import Router
from riskmoe.models.moe._network import MoENetwork
from riskmoe.models.moe._training import Batch, TaskKind, TrainConfig, TrainResult, task_loss

__all__ = ["DPMoEClassifier", "PrivacyReport", "privacy_spent", "routing_noise"]

_FORCED_UNDER_DP: dict[str, Any] = {
    "dispatch": "dense",
    "n_ensemble": 1,
    "validation_fraction": 0.0,
    "calibration": None,
    "class_weight": None,
    "balance_coef": 0.0,
    "noisy_gating": False,
}


# Opacus' default orders plus larger ones: weak noise (large epsilon) needs high orders
_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + list(range(64, 1025, 16))


@contextmanager
def _conservative_orders() -> Iterator[None]:
    """Silence Opacus' "largest alpha is optimal" note: the bound is then loose, still valid."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        yield


@dataclass(frozen=True)
class PrivacyReport:
    """The (epsilon, delta) guarantee of a DP-SGD run and the settings that produced it.

    Attributes
    ----------
    epsilon : float
        Spent privacy budget (Rényi-DP accountant); ``inf`` without noise.
    delta : float
        Failure probability, below ``1 / n_train``.
    noise_multiplier : float
        :math:`\\sigma`: noise std over the clipping norm.
    max_grad_norm : float
        Per-row clipping norm :math:`C`.
    sample_rate : float
        Poisson sampling probability :math:`q` of each row per step.
    steps : int
        Noisy gradient steps taken.
    epochs : int
    n_train : int
        Rows the network was trained on (the unit of privacy is one row).
    accountant : str
    """

    epsilon: float
    delta: float
    noise_multiplier: float
    max_grad_norm: float
    sample_rate: float
    steps: int
    epochs: int
    n_train: int
    accountant: str = "rdp"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``epsilon`` is ``None`` when infinite)."""
        out = asdict(self)
        out["epsilon"] = self.epsilon if math.isfinite(self.epsilon) else None
        return out


def privacy_spent(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Epsilon of ``steps`` Poisson-subsampled Gaussian steps (Opacus' RDP accountant).

    Parameters
    ----------
    noise_multiplier : float
        :math:`\\sigma > 0` (0 gives ``inf``).
    sample_rate : float
        :math:`q \\in (0, 1]`.
    steps : int
    delta : float

    Returns
    -------
    float

    Examples
    --------
    >>> eps = [privacy_spent(s, 0.01, 1000, 1e-5) for s in (0.8, 1.0, 2.0)]
    >>> eps[0] > eps[1] > eps[2]
    True
    """
    if noise_multiplier <= 0:
        return math.inf
    accountant = RDPAccountant()
    accountant.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    with _conservative_orders():
        return float(accountant.get_epsilon(delta=float(delta), alphas=_ALPHAS))


@dataclass(frozen=True)
class _DPSettings:
    noise_multiplier: float | None
    target_epsilon: float
    delta: float
    max_grad_norm: float


class _PrivatelyTrainedMoE(MoERiskClassifier):
    """A MoERiskClassifier whose members are trained by DP-SGD (set ``dp_settings`` first)."""

    dp_settings: _DPSettings
    privacy_: PrivacyReport

    def _train_members(
        self,
        full: Batch,
        y01: np.ndarray,
        seeds: np.ndarray,
        build: Callable[[], MoENetwork],
        kinds: Sequence[TaskKind],
        config: TrainConfig,
    ) -> tuple[list[MoENetwork], list[TrainResult], np.ndarray]:
        torch_seed, order_seed = (int(s) for s in seeds[0, 1:])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed)
            net = build()
            result, report = train_private_network(
                net, full, kinds, config, self.dp_settings, order_seed
            )
        self.privacy_ = report
        return [net], [result], np.full(full.n_rows, np.nan)


def train_private_network(
    net: MoENetwork,
    train: Batch,
    kinds: Sequence[TaskKind],
    config: TrainConfig,
    dp: _DPSettings,
    seed: int,
) -> tuple[TrainResult, PrivacyReport]:
    """DP-SGD for ``config.max_epochs`` epochs of ``1 / q`` Poisson-sampled steps each."""
    n = train.n_rows
    q = min(1.0, config.batch_size / n)
    steps_per_epoch = max(1, round(1 / q))
    total_steps = steps_per_epoch * config.max_epochs
    if dp.noise_multiplier is not None:
        sigma = float(dp.noise_multiplier)
    elif math.isinf(dp.target_epsilon):
        sigma = 0.0
    else:
        with _conservative_orders():
            sigma = float(
                get_noise_multiplier(
                    target_epsilon=dp.target_epsilon,
                    target_delta=dp.delta,
                    sample_rate=q,
                    steps=total_steps,
                    accountant="rdp",
                    alphas=_ALPHAS,
                )
            )
    params = {k: p for k, p in net.named_parameters() if p.requires_grad}
    buffers = dict(net.named_buffers())

    def row_loss(p: dict[str, Tensor], *row: Tensor) -> Tensor:
        one = Batch(*(t.unsqueeze(0) for t in row))
        out = functional_call(net, (p, buffers), (one.numeric, one.missing, one.categorical))
        return task_loss(out.logits, one, kinds, config.aux_task_weight) + out.aux_loss

    per_row_grads = vmap(grad(row_loss), in_dims=(None, 0, 0, 0, 0, 0, 0), randomness="different")
    generator = torch.Generator().manual_seed(seed % (2**63))
    noise_generator = torch.Generator().manual_seed((seed + 1) % (2**63))
    optimizer = DPOptimizer(
        torch.optim.Adam(params.values(), lr=config.learning_rate),
        noise_multiplier=sigma,
        max_grad_norm=dp.max_grad_norm,
        expected_batch_size=max(1, round(q * n)),
        loss_reduction="mean",
        generator=noise_generator,
    )
    sampler = UniformWithReplacementSampler(
        num_samples=n, sample_rate=q, generator=generator, steps=steps_per_epoch
    )
    history: list[float] = []
    # inference mode throughout: no dropout / gating noise / router losses (see module notes)
    net.eval()
    # per-row gradients under vmap take the embeddings' encoding path: the lookup's
    # search runs on one row per vmap lane (slow, warns) and its gradient is the same
    with lookup_enabled(net, False):
        for _ in range(config.max_epochs):
            running, seen = 0.0, 0
            for idx in sampler:
                rows = train.take(torch.as_tensor(idx, dtype=torch.int64))
                if rows.n_rows:
                    detached = {k: v.detach() for k, v in params.items()}
                    grads = per_row_grads(detached, *rows)
                    with torch.no_grad():
                        out = net(rows.numeric, rows.missing, rows.categorical)
                        running += float(task_loss(out.logits, rows, kinds, 0.0)) * rows.n_rows
                    seen += rows.n_rows
                for name, p in params.items():
                    # Opacus' DPOptimizer reads per-row gradients from this attribute
                    p.grad_sample = grads[name] if rows.n_rows else p.new_zeros((0, *p.shape))  # type: ignore[attr-defined]
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            history.append(running / max(seen, 1))
    net.eval()
    report = PrivacyReport(
        epsilon=privacy_spent(sigma, q, total_steps, dp.delta),
        delta=dp.delta,
        noise_multiplier=sigma,
        max_grad_norm=dp.max_grad_norm,
        sample_rate=q,
        steps=total_steps,
        epochs=config.max_epochs,
        n_train=n,
    )
    result = TrainResult(
        best_epoch=config.max_epochs, n_epochs=config.max_epochs, history=tuple(history)
    )
    return result, report


class DPMoEClassifier(ClassifierMixin, BaseEstimator):
    """The MoE default-probability model trained with differential privacy (DP-SGD).

    Parameters
    ----------
    target_epsilon : float, default=3.0
        Privacy budget; the noise multiplier is the smallest that keeps the RDP
        epsilon after all steps at or below it. ``math.inf`` trains with clipping but no
        noise (the non-private reference of the same pipeline).
    target_delta : float or None, default=None
        Must be below ``1 / n``; None uses ``0.1 / n``.
    noise_multiplier : float or None, default=None
        Fix :math:`\\sigma` instead of deriving it from ``target_epsilon``.
    max_grad_norm : float, default=1.0
        Per-row gradient clipping norm :math:`C`.
    epochs : int, default=10
    batch_size : int, default=256
        Expected rows per Poisson-sampled step (sampling rate ``batch_size / n``).
    learning_rate : float, default=1e-3
        Adam learning rate (on the privatised gradients).
    moe_params : mapping, optional
        Further :class:`MoERiskClassifier` parameters (architecture, feature groups).
        ``dispatch``, ``n_ensemble``, ``validation_fraction``, ``calibration``,
        ``class_weight``, ``balance_coef`` and ``noisy_gating`` are fixed under DP
        (see the module notes).
    random_state : int or None, default=None

    Attributes
    ----------
    model_ : MoERiskClassifier
        The privately trained network with its encoder.
    privacy_ : PrivacyReport
        The (epsilon, delta) achieved.
    classes_ : ndarray of shape (2,)

    Notes
    -----
    The guarantee covers the network weights for a neighbouring data set that differs
    in one row. The preprocessing (quantile bin edges, medians, category vocabularies) is
    fitted on the same rows without privacy; fit the encoder on public data or a fixed
    schema when the whole pipeline must be private.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"income": rng.normal(size=400), "grade": rng.choice(["A", "B"], 400)})
    >>> y = (X["income"] + rng.normal(size=400) > 0).astype(int)
    >>> small = {"expert_hidden": 8, "d_embedding": 4}
    >>> clf = DPMoEClassifier(target_epsilon=3.0, epochs=1, moe_params=small).fit(X, y)
    >>> clf.privacy_.epsilon <= 3.0, clf.privacy_.delta < 1 / 400
    (True, True)
    """

    def __init__(
        self,
        *,
        target_epsilon: float = 3.0,
        target_delta: float | None = None,
        noise_multiplier: float | None = None,
        max_grad_norm: float = 1.0,
        epochs: int = 10,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        moe_params: Mapping[str, Any] | None = None,
        random_state: Any = None,
    ) -> None:
        self.target_epsilon = target_epsilon
        self.target_delta = target_delta
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = max_grad_norm
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.moe_params = moe_params
        self.random_state = random_state

    def _check_params(self, n: int) -> float:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not float(value) > 0
            ):
                raise ValueError(f"{name} must be a number > 0; got {name}={value!r}.")

        for name in ("target_epsilon", "max_grad_norm", "learning_rate"):
            positive(name)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}.")
        if self.noise_multiplier is not None:
            sigma = self.noise_multiplier
            if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool) or float(sigma) < 0:
                raise ValueError(f"noise_multiplier must be None or a number >= 0; got {sigma!r}.")
        delta: Any = 0.1 / n if self.target_delta is None else self.target_delta
        if not isinstance(delta, numbers.Real) or not 0 < float(delta) < 1 / n:
            raise ValueError(
                f"target_delta must be in (0, 1/n) = (0, {1 / n:.3g}) for n={n} rows; "
                f"got target_delta={self.target_delta!r}."
            )
        return float(delta)

    def fit(self, X: Any, y: Any) -> DPMoEClassifier:
        """Train privately on a raw frame (see :meth:`MoERiskClassifier.fit`).

        Raises
        ------
        ValueError
            Invalid parameters, ``target_delta >= 1 / n``, or an invalid target.
        """
        n = len(X)
        delta = self._check_params(max(n, 1))
        params = dict(self.moe_params or {})
        params.update(_FORCED_UNDER_DP)
        params.update(
            max_epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            learning_rate=float(self.learning_rate),
            random_state=self.random_state,
        )
        model = _PrivatelyTrainedMoE(**params)
        model.dp_settings = _DPSettings(
            noise_multiplier=None
            if self.noise_multiplier is None
            else float(self.noise_multiplier),
            target_epsilon=float(self.target_epsilon),
            delta=delta,
            max_grad_norm=float(self.max_grad_norm),
        )
        model.fit(X, y)
        self.model_ = model
        self.privacy_ = model.privacy_
        self.classes_ = model.classes_
        return self

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "model_")
        except _SklearnNotFittedError as exc:
            raise NotFittedError(str(exc)) from exc

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2); column 1 is the default."""
        self._check_fitted()
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (threshold 0.5)."""
        self._check_fitted()
        return self.model_.predict(X)


def _routers(model: MoERiskClassifier) -> list[Router]:
    check_is_fitted(model, "module_")
    return [r for r in model.module_.modules() if isinstance(r, Router)]


@contextmanager
def routing_noise(model: MoERiskClassifier, std: float, random_state: int = 0) -> Iterator[None]:
    """Add :math:`N(0, \\mathrm{std}^2)` noise to every router's logits while inside.

    Top-k selection and gate weights are then computed from the noisy logits, so which
    experts score a row is randomised; the experts and heads are untouched. The hooks are
    removed on exit, also after an error.

    Parameters
    ----------
    model : MoERiskClassifier
        A fitted model.
    std : float
        Noise standard deviation (>= 0) in logit units.
    random_state : int, default=0
        Seed of the noise (a local generator; global state is untouched).

    Raises
    ------
    ValueError
        If ``std`` is negative or not a number.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> y = (X["a"] > 0).astype(int)
    >>> clf = MoERiskClassifier(max_epochs=2, n_ensemble=1, random_state=0).fit(X, y)
    >>> with routing_noise(clf, std=0.0):
    ...     same = np.allclose(clf.predict_proba(X), clf.predict_proba(X))
    >>> same
    True
    """
    if not isinstance(std, numbers.Real) or isinstance(std, bool) or not std >= 0:
        raise ValueError(f"std must be a number >= 0; got std={std!r}.")
    generator = torch.Generator().manual_seed(int(random_state))

    def hook(_module: torch.nn.Module, _inputs: Any, output: Tensor) -> Tensor:
        noise = torch.randn(output.shape, generator=generator, dtype=output.dtype)
        return output + float(std) * noise

    handles = [router.gate.register_forward_hook(hook) for router in _routers(model)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
