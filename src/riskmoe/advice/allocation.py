"""Allocation with skfolio: mean-CVaR and risk parity under a cap on high-risk names.

The risk tier of each asset (``low`` / ``medium`` / ``high``; from its volatility on the
fitting window, or given) becomes a linear constraint: the summed weight of the
``high`` names is at most ``high_cap``. :func:`walk_forward` refits on a rolling window and
holds the weights over the next period, so every return it reports is out of sample.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmoe.exceptions import ConfigError, DataError
from riskmoe.risk import TIERS

__all__ = [
    "ALLOCATION_METHODS",
    "Allocation",
    "AllocationConstraints",
    "OutOfSampleResult",
    "allocate",
    "performance",
    "volatility_tiers",
    "walk_forward",
]

Method = Literal["mean_cvar", "risk_parity", "equal_weight"]
ALLOCATION_METHODS: tuple[Method, ...] = ("mean_cvar", "risk_parity", "equal_weight")
_DAYS = 252
_OBJECTIVE_SCALES = (100.0, 1000.0, 10.0)


def volatility_tiers(
    returns: pd.DataFrame, cutoffs: tuple[float, float] = (0.20, 0.30)
) -> pd.Series:
    """Risk tier of each asset from its annualised volatility.

    Parameters
    ----------
    returns : pandas.DataFrame
        Daily returns, one column per asset.
    cutoffs : (float, float), default (0.20, 0.30)
        Annualised volatility up to which an asset is ``low``, then ``medium``; above is
        ``high``.

    Returns
    -------
    pandas.Series of str, indexed by asset

    Examples
    --------
    >>> r = pd.DataFrame({"a": [0.001, -0.001] * 50, "b": [0.03, -0.03] * 50})
    >>> volatility_tiers(r).to_dict()
    {'a': 'low', 'b': 'high'}
    """
    low, high = (float(c) for c in cutoffs)
    if not 0 < low < high:
        raise ValueError(f"cutoffs must satisfy 0 < low < high; got {cutoffs!r}.")
    vol = returns.std(ddof=1) * math.sqrt(_DAYS)
    tiers = np.where(vol <= low, TIERS[0], np.where(vol <= high, TIERS[1], TIERS[2]))
    return pd.Series(tiers, index=returns.columns, name="tier")


@dataclass(frozen=True)
class AllocationConstraints:
    """Weight bounds and the risk-tier cap.

    Parameters
    ----------
    max_weight : float, default 0.10
        Largest weight of one asset, in ``(0, 1]``.
    high_cap : float, default 0.10
        Largest summed weight of the ``high``-tier assets, in ``[0, 1]``.

    Examples
    --------
    >>> AllocationConstraints(max_weight=0.2).check_feasible({"a": "low", "b": "high"})
    Traceback (most recent call last):
    ...
    riskmoe.exceptions.ConfigError: infeasible allocation constraints: ...
    """

    max_weight: float = 0.10
    high_cap: float = 0.10

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_weight) and 0 < self.max_weight <= 1):
            raise ConfigError(f"max_weight must be in (0, 1]; got {self.max_weight!r}.")
        if not (math.isfinite(self.high_cap) and 0 <= self.high_cap <= 1):
            raise ConfigError(f"high_cap must be in [0, 1]; got {self.high_cap!r}.")

    def check_feasible(self, tiers: Mapping[str, str]) -> None:
        """Refuse bounds that cannot add up to a fully invested portfolio.

        Raises
        ------
        ConfigError
            When ``max_weight`` over the allowed names plus the high-tier cap is below 100 %.
        """
        n_high = sum(1 for t in tiers.values() if t == "high")
        n_other = len(tiers) - n_high
        reachable = n_other * self.max_weight + min(self.high_cap, n_high * self.max_weight)
        if reachable < 1.0 - 1e-9:
            raise ConfigError(
                "infeasible allocation constraints: "
                f"{n_other} low/medium-risk names x max_weight {self.max_weight:.1%} + "
                f"{n_high} high-risk names capped at {self.high_cap:.1%} reach only "
                f"{reachable:.1%} of the budget; raise max_weight or high_cap, or add names."
            )

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form."""
        return {"max_weight": self.max_weight, "high_cap": self.high_cap}


@dataclass(frozen=True)
class Allocation:
    """Weights of one fitted portfolio."""

    method: str
    weights: pd.Series
    tiers: pd.Series
    constraints: AllocationConstraints

    def tier_weights(self) -> dict[str, float]:
        """Summed weight per tier."""
        return {t: float(self.weights[self.tiers == t].sum()) for t in TIERS}

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "method": self.method,
            "weights": {str(k): float(v) for k, v in self.weights.items()},
            "tiers": {str(k): str(v) for k, v in self.tiers.items()},
            "tier_weights": self.tier_weights(),
            "constraints": self.constraints.to_dict(),
        }


def _check_returns(returns: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(returns, pd.DataFrame) or returns.shape[1] < 2:
        raise DataError("returns must be a DataFrame with one column per asset (at least 2).")
    if len(returns) < 20:
        raise DataError(f"allocation needs at least 20 return observations; got {len(returns)}.")
    values = returns.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        bad = sorted(returns.columns[~np.isfinite(values).all(axis=0)].astype(str))[:5]
        raise DataError(
            f"returns hold missing or infinite values (columns {bad}); drop or fill them."
        )
    return returns


def allocate(
    returns: pd.DataFrame,
    method: Method = "mean_cvar",
    *,
    tiers: Mapping[str, str] | pd.Series | None = None,
    constraints: AllocationConstraints | None = None,
    cvar_beta: float = 0.95,
) -> Allocation:
    """Fit one long-only, fully invested portfolio.

    Parameters
    ----------
    returns : pandas.DataFrame
        Daily returns (the fitting window), one column per asset.
    method : {"mean_cvar", "risk_parity", "equal_weight"}
        ``mean_cvar``: the minimum-CVaR point of skfolio's mean-CVaR frontier
        (``MeanRisk``, ``RiskMeasure.CVAR``); ``risk_parity``: equal variance contributions
        (``RiskBudgeting`` on a Ledoit-Wolf covariance); ``equal_weight``: ``1/n`` (no
        constraints apply).
    tiers : mapping or Series of asset -> tier, optional
        Defaults to :func:`volatility_tiers` of ``returns``.
    constraints : AllocationConstraints, optional
    cvar_beta : float, default 0.95

    Returns
    -------
    Allocation

    Raises
    ------
    DataError
        Too few observations or assets, or missing values.
    ConfigError
        Constraints no fully invested portfolio can meet.
    ValueError
        An unknown method.
    """
    if method not in ALLOCATION_METHODS:
        raise ValueError(f"method must be one of {list(ALLOCATION_METHODS)}; got {method!r}.")
    returns = _check_returns(returns)
    constraints = AllocationConstraints() if constraints is None else constraints
    tier_series = volatility_tiers(returns) if tiers is None else pd.Series(dict(tiers))
    missing = [c for c in returns.columns if c not in tier_series.index]
    if missing:
        raise DataError(f"no risk tier for assets {missing[:5]}.")
    tier_series = tier_series.loc[list(returns.columns)].astype(str)
    unknown = sorted(set(tier_series) - set(TIERS))
    if unknown:
        raise DataError(f"tiers must be one of {list(TIERS)}; got {unknown}.")
    n = returns.shape[1]
    if method == "equal_weight":
        weights = np.full(n, 1.0 / n)
    else:
        constraints.check_feasible({str(k): str(v) for k, v in tier_series.items()})
        weights = _optimise(returns, method, tier_series, constraints, cvar_beta)
    return Allocation(
        method, pd.Series(weights, index=returns.columns, name="weight"), tier_series, constraints
    )


def _optimise(
    returns: pd.DataFrame,
    method: Method,
    tiers: pd.Series,
    constraints: AllocationConstraints,
    cvar_beta: float,
) -> np.ndarray:
    from skfolio import RiskMeasure
    from skfolio.moments import LedoitWolf
    from skfolio.optimization import MeanRisk, ObjectiveFunction, RiskBudgeting
    from skfolio.prior import EmpiricalPrior

    groups = [[str(t) for t in tiers.to_numpy()]]
    linear: list[str] | None = None
    if (tiers == "high").any() and constraints.high_cap < 1:
        linear = [f"high <= {constraints.high_cap!r}"]
    common: dict[str, Any] = {
        "min_weights": 0.0,
        "max_weights": constraints.max_weight,
        "groups": groups if linear else None,
        "linear_constraints": linear,
    }
    # Ledoit-Wolf shrinkage: with more assets than days the sample covariance is singular
    # (mean-CVaR optimises over the return scenarios and ignores it; skfolio fits it anyway)
    prior = EmpiricalPrior(covariance_estimator=LedoitWolf())
    last: Warning | None = None
    # daily CVaR and variance are O(1e-2..1e-4): CLARABEL can stop short ("Solution may be
    # inaccurate") unless the objective is scaled up; try a few scales, refuse if none works
    for scale in _OBJECTIVE_SCALES:
        model: Any
        if method == "mean_cvar":
            model = MeanRisk(
                objective_function=ObjectiveFunction.MINIMIZE_RISK,
                risk_measure=RiskMeasure.CVAR,
                cvar_beta=cvar_beta,
                prior_estimator=prior,
                scale_objective=scale,
                **common,
            )
        else:
            model = RiskBudgeting(
                risk_measure=RiskMeasure.VARIANCE,
                prior_estimator=prior,
                scale_objective=scale,
                **common,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            try:
                model.fit(returns.to_numpy(dtype=float))
            except UserWarning as exc:
                if "inaccurate" not in str(exc):
                    raise
                last = exc
                continue
        break
    else:
        raise DataError(
            f"the {method} optimiser found no accurate solution at objective scales "
            f"{list(_OBJECTIVE_SCALES)} ({last}); try fewer assets or a longer window."
        )
    w = np.clip(np.asarray(model.weights_, dtype=float), 0.0, None)
    return w / w.sum()


@dataclass(frozen=True)
class OutOfSampleResult:
    """Walk-forward out-of-sample returns and their measures, per method."""

    returns: pd.DataFrame
    metrics: pd.DataFrame
    allocations: dict[str, list[Allocation]] = field(default_factory=dict)
    train_days: int = 0
    test_days: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (metrics and the last allocation of each method)."""
        return {
            "train_days": self.train_days,
            "test_days": self.test_days,
            "first_day": str(self.returns.index[0].date()),
            "last_day": str(self.returns.index[-1].date()),
            "metrics": {
                m: {k: float(v) for k, v in row.items()} for m, row in self.metrics.iterrows()
            },
            "last_allocation": {m: a[-1].to_dict() for m, a in self.allocations.items() if a},
        }


def performance(daily_returns: pd.Series, cvar_beta: float = 0.95) -> dict[str, float]:
    """Annualised return and volatility, daily CVaR and the maximum drawdown.

    Measures from ``skfolio.measures``; drawdowns on compounded returns.

    Examples
    --------
    >>> p = performance(pd.Series([0.01, -0.02, 0.01, 0.005] * 10))
    >>> round(p["max_drawdown"], 4)
    0.02
    """
    from skfolio import measures

    r = daily_returns.to_numpy(dtype=float)
    return {
        "annual_return": float(np.mean(r) * _DAYS),
        "annual_volatility": float(np.std(r, ddof=1) * math.sqrt(_DAYS)),
        "cvar_daily": float(measures.cvar(r, beta=cvar_beta)),
        "max_drawdown": float(measures.max_drawdown(measures.get_drawdowns(r, compounded=True))),
        "sharpe": float(np.mean(r) / np.std(r, ddof=1) * math.sqrt(_DAYS)),
    }


def walk_forward(
    returns: pd.DataFrame,
    methods: tuple[Method, ...] = ALLOCATION_METHODS,
    *,
    train_days: int = 252,
    test_days: int = 63,
    constraints: AllocationConstraints | None = None,
    tier_cutoffs: tuple[float, float] = (0.20, 0.30),
    cvar_beta: float = 0.95,
) -> OutOfSampleResult:
    """Refit every ``test_days`` on the previous ``train_days`` and hold the weights after.

    Tiers are recomputed on each training window only (no look-ahead). Within a test
    period the portfolio is held buy-and-hold: weights drift with prices.

    Raises
    ------
    DataError
        Fewer rows than one training window plus one test period.
    """
    returns = _check_returns(returns)
    if train_days < 20 or test_days < 1:
        raise ValueError(
            f"train_days must be >= 20 and test_days >= 1; got {train_days}, {test_days}."
        )
    if len(returns) < train_days + test_days:
        raise DataError(
            f"walk-forward needs at least train_days + test_days = {train_days + test_days} rows; "
            f"got {len(returns)}."
        )
    out: dict[str, list[pd.Series]] = {m: [] for m in methods}
    allocations: dict[str, list[Allocation]] = {m: [] for m in methods}
    for start in range(train_days, len(returns), test_days):
        train = returns.iloc[start - train_days : start]
        test = returns.iloc[start : start + test_days]
        tiers = volatility_tiers(train, tier_cutoffs)
        for m in methods:
            alloc = allocate(train, m, tiers=tiers, constraints=constraints, cvar_beta=cvar_beta)
            allocations[m].append(alloc)
            growth = (1.0 + test).cumprod()
            value = growth.to_numpy() @ alloc.weights.to_numpy()
            prev = np.concatenate([[1.0], value[:-1]])
            out[m].append(pd.Series(value / prev - 1.0, index=test.index))
    frame = pd.DataFrame({m: pd.concat(s) for m, s in out.items()})
    metrics = pd.DataFrame({m: performance(frame[m], cvar_beta) for m in methods}).T
    return OutOfSampleResult(frame, metrics, allocations, train_days, test_days)
