"""A fixed hyper-parameter tuning budget: random search on an inner stratified split.

Every tuned model gets the same budget, so a difference between models is not a
difference in search effort. :func:`tune` evaluates the factory's defaults plus
``n_trials`` random draws from a search space (``sklearn.model_selection.ParameterSampler``),
each fitted on the inner-training part of the rows it is given and scored by AUC on the
inner-validation part; the best configuration wins, the defaults on ties.

Called on the training fold of an outer cross-validation split, it never sees that
split's test rows (nested cross-validation with one inner split).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import ParameterSampler, train_test_split

from riskmoe.exceptions import DataError

__all__ = ["Trial", "TuningResult", "tune"]


@dataclass(frozen=True)
class Trial:
    """One evaluated configuration: its parameters, inner-validation AUC and fit time."""

    params: Mapping[str, Any]
    score: float
    fit_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "params": {k: _plain(v) for k, v in self.params.items()},
            "score": self.score,
            "fit_seconds": self.fit_seconds,
        }


@dataclass(frozen=True)
class TuningResult:
    """Outcome of :func:`tune`.

    Attributes
    ----------
    best_params : mapping
        Keyword arguments for the factory (empty when the defaults won).
    best_score : float
        Inner-validation AUC of the best configuration.
    trials : tuple of Trial
        Every configuration evaluated, the defaults first.
    n_trials : int
        The random-search budget (draws besides the defaults).
    seconds : float
        Wall-clock time of the whole search.
    """

    best_params: Mapping[str, Any]
    best_score: float
    trials: tuple[Trial, ...]
    n_trials: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "best_params": {k: _plain(v) for k, v in self.best_params.items()},
            "best_score": self.best_score,
            "trials": [t.to_dict() for t in self.trials],
            "n_trials": self.n_trials,
            "seconds": self.seconds,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def tune(
    factory: Callable[..., Any],
    param_space: Mapping[str, Any],
    X: pd.DataFrame,
    y: Any,
    *,
    n_trials: int,
    validation_fraction: float = 0.2,
    max_rows: int | None = None,
    random_state: int | None = 0,
    scorer: Callable[[np.ndarray, np.ndarray], float] = roc_auc_score,
) -> TuningResult:
    """Random search with a fixed budget of ``n_trials`` draws plus the defaults.

    Parameters
    ----------
    factory : callable
        ``factory(**params)`` returns an unfitted classifier with ``fit`` and
        ``predict_proba``; ``factory()`` gives the defaults.
    param_space : mapping
        Parameter name to a list of values or a scipy.stats distribution, as
        :class:`~sklearn.model_selection.ParameterSampler` takes.
    X, y : DataFrame and labels
        The rows to tune on (the training fold); never the test rows.
    n_trials : int
        Random draws besides the defaults; ``0`` returns the defaults without fitting.
    validation_fraction : float
        Share of the rows held out (stratified) to score each configuration.
    max_rows : int or None
        Tune on a stratified subsample of at most this many rows (a cost cap on large
        data); the chosen parameters are then refitted on all rows by the caller.
    random_state : int or None
        Seed of the draws, the subsample and the inner split.
    scorer : callable
        ``scorer(y_true, p_positive)``, higher is better; AUC by default.

    Returns
    -------
    TuningResult

    Raises
    ------
    ValueError
        For a negative budget, a validation fraction outside (0, 0.5], ``max_rows < 10``
        or an empty search space with a positive budget.
    DataError
        If ``X`` and ``y`` differ in length or a class has fewer than 2 rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=300)})
    >>> y = (X["a"] + rng.normal(size=300) > 0).astype(int)
    >>> res = tune(LogisticRegression, {"C": [0.01, 0.1, 1.0]}, X, y, n_trials=2)
    >>> len(res.trials), res.n_trials
    (3, 2)
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 0:
        raise ValueError(f"n_trials must be an integer >= 0; got {n_trials!r}.")
    if not 0.0 < validation_fraction <= 0.5:
        raise ValueError(f"validation_fraction must be in (0, 0.5]; got {validation_fraction!r}.")
    if max_rows is not None and max_rows < 10:
        raise ValueError(f"max_rows must be >= 10 or None; got {max_rows!r}.")
    if n_trials > 0 and not param_space:
        raise ValueError(
            "param_space is empty; give at least one parameter to search or n_trials=0."
        )
    start = time.perf_counter()
    if n_trials == 0:
        return TuningResult({}, float("nan"), (), 0, 0.0)

    target = np.asarray(y)
    if len(target) != len(X):
        raise DataError(f"X has {len(X)} rows but y has {len(target)} labels.")
    counts = pd.Series(target).value_counts()
    if len(counts) != 2 or counts.min() < 2:
        raise DataError(f"tuning needs >= 2 rows of each of two classes; got {counts.to_dict()}.")
    rows = np.arange(len(X))
    if max_rows is not None and len(X) > max_rows:
        rows, _ = train_test_split(
            rows, train_size=max_rows, stratify=target, random_state=random_state
        )
    fit_rows, val_rows = train_test_split(
        rows, test_size=validation_fraction, stratify=target[rows], random_state=random_state
    )
    X_fit, y_fit = X.iloc[fit_rows], target[fit_rows]
    X_val, y_val = X.iloc[val_rows], target[val_rows]

    draws = list(
        ParameterSampler(dict(param_space), n_iter=int(n_trials), random_state=random_state)
    )
    trials: list[Trial] = []
    for params in [{}, *draws]:
        t0 = time.perf_counter()
        model = factory(**params).fit(X_fit, y_fit)
        seconds = time.perf_counter() - t0
        score = float(scorer(y_val, np.asarray(model.predict_proba(X_val))[:, 1]))
        trials.append(Trial(params=dict(params), score=score, fit_seconds=seconds))
    best = max(range(len(trials)), key=lambda i: (trials[i].score, -i))
    return TuningResult(
        best_params=trials[best].params,
        best_score=trials[best].score,
        trials=tuple(trials),
        n_trials=int(n_trials),
        seconds=time.perf_counter() - start,
    )
