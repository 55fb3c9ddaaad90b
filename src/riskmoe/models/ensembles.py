"""Ensembles around the MoE: stacked with LightGBM, and averaged over seeds.

* :class:`StackedMoELightGBM` -- scikit-learn's :class:`~sklearn.ensemble.StackingClassifier`
  over the MoE and LightGBM: their out-of-fold probabilities (inner stratified K-fold)
  train a logistic-regression combiner; both base models are then refitted on all rows.
* :class:`SeedAveragedMoE` -- several MoEs that differ only in their seed, probabilities
  averaged (each member is itself calibrated).

Both take the raw frames the MoE and LightGBM take (NaN, ``category`` and text columns).

References
----------
.. [1] D. H. Wolpert, "Stacked Generalization", Neural Networks 5, 1992.
.. [2] B. Lakshminarayanan, A. Pritzel, C. Blundell, "Simple and Scalable Predictive
   Uncertainty Estimation using Deep Ensembles", NeurIPS 2017.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import StackingClassifier
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from riskmoe.exceptions import NotFittedError
from riskmoe.models.baselines import make_lightgbm
from riskmoe.models.moe import MoERiskClassifier

__all__ = ["SeedAveragedMoE", "StackedMoELightGBM"]


def _check_int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {name}={value!r}.")
    return int(value)


def _check_fitted(estimator: BaseEstimator, attribute: str) -> None:
    try:
        check_is_fitted(estimator, attribute)
    except _SklearnNotFittedError as exc:
        raise NotFittedError(str(exc)) from exc


class StackedMoELightGBM(ClassifierMixin, BaseEstimator):
    """Stacking of the MoE and LightGBM with a logistic-regression combiner.

    Parameters
    ----------
    moe_params : mapping, optional
        :class:`MoERiskClassifier` parameters (e.g. ``feature_groups``).
    lightgbm_params : mapping, optional
        :func:`riskmoe.models.make_lightgbm` parameters.
    cv : int, default=3
        Inner stratified folds that produce the combiner's training features (so the
        MoE is fitted ``cv + 1`` times).
    random_state : int, default=0
        Seeds both base models and the inner folds.

    Attributes
    ----------
    stack_ : sklearn.ensemble.StackingClassifier
    classes_ : ndarray of shape (2,)
    weights_ : dict of str to float
        Combiner coefficients of the MoE's and LightGBM's default probability.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    >>> y = (X["a"] + rng.normal(size=300) > 0).astype(int)
    >>> stack = StackedMoELightGBM(
    ...     moe_params={"max_epochs": 2, "n_ensemble": 1}, cv=2).fit(X, y)
    >>> stack.predict_proba(X).shape, sorted(stack.weights_)
    ((300, 2), ['lightgbm', 'moe'])
    """

    def __init__(
        self,
        *,
        moe_params: Mapping[str, Any] | None = None,
        lightgbm_params: Mapping[str, Any] | None = None,
        cv: int = 3,
        random_state: int = 0,
    ) -> None:
        self.moe_params = moe_params
        self.lightgbm_params = lightgbm_params
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> StackedMoELightGBM:
        """Fit the base models out of fold, the combiner, then the base models on all rows.

        Raises
        ------
        ValueError
            For ``cv < 2`` or invalid base-model parameters.
        """
        cv = _check_int("cv", self.cv, 2)
        seed = _check_int("random_state", self.random_state, 0)
        moe = MoERiskClassifier(**{"random_state": seed, **dict(self.moe_params or {})})
        lgbm = make_lightgbm(**{"random_state": seed, **dict(self.lightgbm_params or {})})
        self.stack_ = StackingClassifier(
            estimators=[("moe", moe), ("lightgbm", lgbm)],
            final_estimator=LogisticRegression(),
            cv=StratifiedKFold(cv, shuffle=True, random_state=seed),
            stack_method="predict_proba",
        ).fit(X, y)
        self.classes_ = self.stack_.classes_
        coef = self.stack_.final_estimator_.coef_[0]
        self.weights_ = {"moe": float(coef[0]), "lightgbm": float(coef[1])}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Combined probabilities, shape (n_samples, 2)."""
        _check_fitted(self, "stack_")
        return np.asarray(self.stack_.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels of the combiner."""
        _check_fitted(self, "stack_")
        return np.asarray(self.stack_.predict(X))


class SeedAveragedMoE(ClassifierMixin, BaseEstimator):
    """The mean probability of several MoEs that differ only in their random seed.

    Parameters
    ----------
    n_seeds : int, default=5
    moe_params : mapping, optional
        :class:`MoERiskClassifier` parameters shared by every member.
    random_state : int, default=0
        Member ``i`` gets seed ``random_state + i``.

    Attributes
    ----------
    members_ : list of MoERiskClassifier
    classes_ : ndarray of shape (2,)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200)})
    >>> y = (X["a"] + rng.normal(size=200) > 0).astype(int)
    >>> avg = SeedAveragedMoE(n_seeds=2, moe_params={"max_epochs": 2, "n_ensemble": 1}).fit(X, y)
    >>> p = avg.predict_proba(X)
    >>> bool(np.allclose(p, np.mean([m.predict_proba(X) for m in avg.members_], axis=0)))
    True
    """

    def __init__(
        self,
        *,
        n_seeds: int = 5,
        moe_params: Mapping[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_seeds = n_seeds
        self.moe_params = moe_params
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> SeedAveragedMoE:
        """Fit ``n_seeds`` members.

        Raises
        ------
        ValueError
            For ``n_seeds < 1``, a negative ``random_state`` or a ``random_state`` inside
            ``moe_params`` (the members' seeds are set here).
        """
        n = _check_int("n_seeds", self.n_seeds, 1)
        seed = _check_int("random_state", self.random_state, 0)
        params = dict(self.moe_params or {})
        if "random_state" in params:
            raise ValueError(
                "moe_params must not set random_state; SeedAveragedMoE seeds member i with "
                "random_state + i."
            )
        self.members_ = [
            MoERiskClassifier(**params, random_state=seed + i).fit(X, y) for i in range(n)
        ]
        self.classes_ = self.members_[0].classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean member probabilities, shape (n_samples, 2)."""
        _check_fitted(self, "members_")
        return np.mean([m.predict_proba(X) for m in self.members_], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (threshold 0.5 on the mean probability)."""
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(np.int64)])
