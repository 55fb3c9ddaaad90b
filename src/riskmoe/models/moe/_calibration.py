"""Post-hoc calibration of the default-task logit: Platt scaling or isotonic regression.

Both are fitted on held-out (inner-validation) predictions and stored as plain numbers,
so a saved model needs no pickle.

References
----------
.. [1] J. Platt, "Probabilistic Outputs for Support Vector Machines and Comparisons to
   Regularized Likelihood Methods", 1999.
.. [2] B. Zadrozny, C. Elkan, "Transforming Classifier Scores into Accurate Multiclass
   Probability Estimates", KDD 2002.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.isotonic import IsotonicRegression

from riskmoe.exceptions import SchemaError

__all__ = ["Calibrator", "CalibrationKind", "fit_calibrator"]

CalibrationKind = Literal["isotonic", "sigmoid"]


@dataclass(frozen=True)
class Calibrator:
    """A fitted map from raw logit to calibrated probability.

    Parameters
    ----------
    kind : {"identity", "sigmoid", "isotonic"}
    params : tuple of float
        ``(a, b)`` for sigmoid: :math:`p = \\sigma(a z + b)`; the isotonic thresholds
        ``(x_1..x_m, y_1..y_m)`` for isotonic (piecewise-linear between them, clipped
        outside, as ``IsotonicRegression(out_of_bounds="clip")`` predicts).

    Examples
    --------
    >>> Calibrator("sigmoid", (2.0, 0.0)).transform(np.array([0.0])).tolist()
    [0.5]
    """

    kind: Literal["identity", "sigmoid", "isotonic"]
    params: tuple[float, ...] = ()

    def transform(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, float64 of the same shape as ``logits``."""
        z = np.asarray(logits, dtype=np.float64)
        if self.kind == "identity":
            return np.asarray(expit(z))
        if self.kind == "sigmoid":
            a, b = self.params
            return np.asarray(expit(a * z + b))
        m = len(self.params) // 2
        xs, ys = np.asarray(self.params[:m]), np.asarray(self.params[m:])
        return np.clip(np.interp(z, xs, ys), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"kind": self.kind, "params": list(self.params)}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        SchemaError
            If the state is malformed.
        """
        kind = state.get("kind")
        if kind not in ("identity", "sigmoid", "isotonic"):
            raise SchemaError(f"unknown calibration kind {kind!r} in the saved model.")
        return cls(kind, tuple(float(v) for v in state.get("params", ())))


def _fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's fit with his smoothed targets, by L-BFGS on the log loss."""
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    t = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = params
        s = a * z + b
        value = -np.sum(t * log_expit(s) + (1 - t) * log_expit(-s))
        r = expit(s) - t
        return float(value), np.array([np.sum(r * z), np.sum(r)])

    prior = np.log((n_pos + 1.0) / (n_neg + 1.0))
    res = minimize(loss, x0=np.array([1.0, prior]), jac=True, method="L-BFGS-B")
    a, b = (float(v) for v in res.x)
    return a, b


def fit_calibrator(kind: CalibrationKind | None, logits: np.ndarray, y: np.ndarray) -> Calibrator:
    """Fit a calibrator on held-out logits and 0/1 labels.

    Parameters
    ----------
    kind : {"sigmoid", "isotonic"} or None
        None returns the identity (plain sigmoid of the logit).
    logits : ndarray, shape (n,)
    y : ndarray, shape (n,)
        0/1 labels.

    Returns
    -------
    Calibrator

    Notes
    -----
    Sigmoid (Platt) scaling is strictly monotone, so it never changes the ranking (AUC);
    isotonic regression is more flexible but creates ties and needs more held-out rows.
    Both are fitted unweighted: with ``class_weight="balanced"`` they map the reweighted
    scores back to observed default frequencies.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if kind is None or np.unique(y).size < 2:
        return Calibrator("identity")
    if kind == "sigmoid":
        return Calibrator("sigmoid", _fit_platt(z, y))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(z, y)
    xs = [float(v) for v in iso.X_thresholds_]
    ys = [float(v) for v in iso.y_thresholds_]
    return Calibrator("isotonic", tuple(xs + ys))
