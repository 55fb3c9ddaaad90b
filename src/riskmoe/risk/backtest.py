"""Backtests of VaR and ES forecasts: Kupiec, Christoffersen, the Basel traffic light, Z2.

A *hit* (exception) on day ``t`` is a loss larger than the VaR forecast for that day:
``r_t < -VaR_t`` with VaR a positive loss (the convention of :mod:`riskmoe.risk.market`).
``p`` is the tail probability the VaR promises, ``1 - level`` (0.01 for a 99 % VaR).

The statistics are computed in closed form with numpy and scipy; the counting functions
(:func:`transition_counts`, :func:`kupiec_statistic`) are vectorised over many hit series
at once (one per row), which is how a benchmark over methods uses them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from riskmoe.exceptions import DataError

__all__ = [
    "BASEL_PLUS_FACTORS",
    "BacktestResult",
    "ChristoffersenResult",
    "KupiecResult",
    "TrafficLightResult",
    "YearExceptions",
    "Z2Result",
    "acerbi_szekely_z2",
    "backtest",
    "christoffersen",
    "kupiec_pof",
    "kupiec_statistic",
    "traffic_light",
    "transition_counts",
]

Zone = Literal["green", "yellow", "red"]

#: Basel Committee (1996) plus factors by number of exceptions in 250 days at 99 %:
#: 0-4 green (0), 5-9 yellow, 10 or more red (1.00).
BASEL_PLUS_FACTORS: dict[int, float] = {
    0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0,
    5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85, 10: 1.00,
}  # fmt: skip
_GREEN_BELOW = 0.95  # cumulative binomial probability bounds of the Basel zones
_RED_FROM = 0.9999


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating):
        raise ValueError(f"p must be in (0, 1); got {p!r}.")
    if not 0.0 < float(p) < 1.0:
        raise ValueError(f"p must be in (0, 1); got {p}.")
    return float(p)


def _check_counts(exceptions: int, observations: int) -> tuple[int, int]:
    for name, value in (("exceptions", exceptions), ("observations", observations)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}.")
    if observations == 0:
        raise ValueError("observations must be positive; got 0.")
    if exceptions > observations:
        raise ValueError(f"exceptions ({exceptions}) cannot exceed observations ({observations}).")
    return int(exceptions), int(observations)


# ---------------------------------------------------------------------------------------
# Kupiec proportion of failures
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KupiecResult:
    """Kupiec (1995) proportion-of-failures test.

    Attributes
    ----------
    statistic : float
        Likelihood-ratio statistic, chi-squared with 1 degree of freedom under H0.
    p_value : float
        Upper-tail probability of ``statistic``.
    exceptions, observations : int
        Number of hits and of days.
    expected_rate, observed_rate : float
        ``p`` and ``exceptions / observations``.
    """

    statistic: float
    p_value: float
    exceptions: int
    observations: int
    expected_rate: float
    observed_rate: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def kupiec_statistic(
    exceptions: np.ndarray | int, observations: np.ndarray | int, p: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Kupiec LR statistic and p-value (arrays broadcast together).

    Parameters
    ----------
    exceptions, observations : int or array of int
        Counts, broadcast against each other.
    p : float
        Expected exception rate.

    Returns
    -------
    (ndarray, ndarray)
        Statistic and chi-squared(1) p-value, shaped like the broadcast inputs.

    Notes
    -----
    :math:`LR = -2\\ln[(1-p)^{n-x}p^x] + 2\\ln[(1-\\hat p)^{n-x}\\hat p^x]` with
    :math:`\\hat p = x/n`; ``xlogy`` makes ``0 log 0 = 0`` at ``x = 0`` and ``x = n``.
    """
    x = np.asarray(exceptions, dtype=float)
    n = np.asarray(observations, dtype=float)
    phat = x / n
    null = special.xlogy(n - x, 1.0 - p) + special.xlogy(x, p)
    alt = special.xlogy(n - x, 1.0 - phat) + special.xlogy(x, phat)
    lr = np.maximum(-2.0 * (null - alt), 0.0)
    return lr, stats.chi2.sf(lr, 1)


def kupiec_pof(exceptions: int, observations: int, p: float) -> KupiecResult:
    """Kupiec's proportion-of-failures (unconditional coverage) test.

    Parameters
    ----------
    exceptions : int
        Number of days the loss exceeded the VaR.
    observations : int
        Number of days.
    p : float
        Expected exception rate, ``1 - level`` (0.01 for a 99 % VaR).

    Returns
    -------
    KupiecResult

    Raises
    ------
    ValueError
        For negative counts, ``exceptions > observations`` or ``p`` outside (0, 1).

    Notes
    -----
    :math:`LR_{POF} = -2\\ln[(1-p)^{n-x}p^x] + 2\\ln[(1-x/n)^{n-x}(x/n)^x]`, asymptotically
    :math:`\\chi^2_1` under H0 (the exception rate is ``p``).

    References
    ----------
    Kupiec, P. (1995). Techniques for verifying the accuracy of risk measurement models.
    *Journal of Derivatives* 3(2), 73-84.

    Examples
    --------
    >>> res = kupiec_pof(57, 1043, 0.05)
    >>> round(res.statistic, 5), round(res.p_value, 5)
    (0.46147, 0.49694)
    """
    p = _check_p(p)
    x, n = _check_counts(exceptions, observations)
    lr, pv = kupiec_statistic(x, n, p)
    return KupiecResult(float(lr), float(pv), x, n, p, x / n)


# ---------------------------------------------------------------------------------------
# Christoffersen independence and conditional coverage
# ---------------------------------------------------------------------------------------


def _as_hits(hits: Any) -> np.ndarray:
    arr = np.asarray(hits)
    if arr.size == 0:
        raise DataError("hits are empty.")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise DataError("hits must be booleans or 0/1 values.")
        arr = arr.astype(bool)
    return arr


def transition_counts(hits: Any) -> np.ndarray:
    """Counts of day-to-day hit transitions, vectorised over rows.

    Parameters
    ----------
    hits : array-like of bool, shape (n,) or (m, n)
        One hit sequence, or one per row.

    Returns
    -------
    ndarray of int, shape (..., 4)
        ``n00, n01, n10, n11``: ``nij`` counts days ``t`` with hit state ``i`` on ``t - 1``
        and ``j`` on ``t``.

    Examples
    --------
    >>> transition_counts([0, 1, 1, 0, 0]).tolist()
    [1, 1, 1, 1]
    """
    h = _as_hits(hits)
    prev, curr = h[..., :-1], h[..., 1:]
    return np.stack(
        [
            np.count_nonzero(~prev & ~curr, axis=-1),
            np.count_nonzero(~prev & curr, axis=-1),
            np.count_nonzero(prev & ~curr, axis=-1),
            np.count_nonzero(prev & curr, axis=-1),
        ],
        axis=-1,
    )


@dataclass(frozen=True)
class ChristoffersenResult:
    """Christoffersen (1998) independence and conditional-coverage tests.

    Attributes
    ----------
    n00, n01, n10, n11 : int
        Transition counts (see :func:`transition_counts`).
    lr_ind, p_value_ind : float
        Independence LR statistic (chi-squared 1) and p-value.
    lr_pof : float
        Kupiec statistic of the whole sequence.
    lr_cc, p_value_cc : float
        Conditional coverage ``lr_pof + lr_ind`` (chi-squared 2) and p-value.
    """

    n00: int
    n01: int
    n10: int
    n11: int
    lr_ind: float
    p_value_ind: float
    lr_pof: float
    lr_cc: float
    p_value_cc: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def _lr_ind(counts: np.ndarray) -> np.ndarray:
    n00, n01, n10, n11 = (counts[..., i].astype(float) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        pi0 = np.where(n00 + n01 > 0, n01 / (n00 + n01), 0.0)
        pi1 = np.where(n10 + n11 > 0, n11 / (n10 + n11), 0.0)
        pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    null = special.xlogy(n00 + n10, 1.0 - pi) + special.xlogy(n01 + n11, pi)
    alt = (
        special.xlogy(n00, 1.0 - pi0)
        + special.xlogy(n01, pi0)
        + special.xlogy(n10, 1.0 - pi1)
        + special.xlogy(n11, pi1)
    )
    return np.maximum(-2.0 * (null - alt), 0.0)


def christoffersen(hits: Sequence[bool] | np.ndarray | pd.Series, p: float) -> ChristoffersenResult:
    """Christoffersen's independence and conditional-coverage tests of a hit sequence.

    Parameters
    ----------
    hits : array-like of bool
        Hit (exception) indicator per day, oldest first.
    p : float
        Expected exception rate, ``1 - level``.

    Returns
    -------
    ChristoffersenResult

    Raises
    ------
    DataError
        For an empty or non-binary hit sequence, or fewer than 2 days.
    ValueError
        For ``p`` outside (0, 1).

    Notes
    -----
    With :math:`\\pi_0 = n_{01}/(n_{00}+n_{01})`, :math:`\\pi_1 = n_{11}/(n_{10}+n_{11})`
    and :math:`\\pi = (n_{01}+n_{11})/(n_{00}+n_{01}+n_{10}+n_{11})`:

    :math:`LR_{ind} = -2\\ln[(1-\\pi)^{n_{00}+n_{10}}\\pi^{n_{01}+n_{11}}] +
    2\\ln[(1-\\pi_0)^{n_{00}}\\pi_0^{n_{01}}(1-\\pi_1)^{n_{10}}\\pi_1^{n_{11}}]`
    (:math:`\\chi^2_1`), and :math:`LR_{cc} = LR_{POF} + LR_{ind}` (:math:`\\chi^2_2`), with
    the Kupiec statistic of all ``n`` days.

    References
    ----------
    Christoffersen, P. F. (1998). Evaluating interval forecasts. *International Economic
    Review* 39(4), 841-862.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.zeros(100, dtype=bool); h[[10, 11, 50]] = True
    >>> res = christoffersen(h, 0.01)
    >>> res.n11, round(res.lr_ind, 3)
    (1, 3.625)
    """
    p = _check_p(p)
    h = _as_hits(hits).reshape(-1)
    if h.size < 2:
        raise DataError(f"christoffersen needs at least 2 days of hits; got {h.size}.")
    counts = transition_counts(h)
    lr_ind = float(_lr_ind(counts))
    lr_pof, _ = kupiec_statistic(int(h.sum()), h.size, p)
    lr_cc = float(lr_pof) + lr_ind
    n00, n01, n10, n11 = (int(c) for c in counts)
    return ChristoffersenResult(
        n00=n00,
        n01=n01,
        n10=n10,
        n11=n11,
        lr_ind=lr_ind,
        p_value_ind=float(stats.chi2.sf(lr_ind, 1)),
        lr_pof=float(lr_pof),
        lr_cc=lr_cc,
        p_value_cc=float(stats.chi2.sf(lr_cc, 2)),
    )


# ---------------------------------------------------------------------------------------
# Basel traffic light
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficLightResult:
    """Basel (1996) traffic-light zone of a VaR model.

    Attributes
    ----------
    zone : {"green", "yellow", "red"}
    exceptions, observations : int
    cumulative_probability : float
        ``P(X <= exceptions)`` for ``X ~ Binomial(observations, p)``.
    plus_factor : float
        Addition to the capital multiplier (3 + plus factor).
    multiplier : float
        ``3 + plus_factor``.
    p : float
        Expected exception rate.
    """

    zone: Zone
    exceptions: int
    observations: int
    cumulative_probability: float
    plus_factor: float
    multiplier: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


_BASEL_CDF = stats.binom.cdf(np.arange(11), 250, 0.01)


def traffic_light(exceptions: int, observations: int = 250, p: float = 0.01) -> TrafficLightResult:
    """Basel traffic-light zone, cumulative binomial probability and plus factor.

    Parameters
    ----------
    exceptions : int
        Number of exceptions in the period.
    observations : int, default 250
        Number of days in the period.
    p : float, default 0.01
        Expected exception rate (0.01 for a 99 % VaR).

    Returns
    -------
    TrafficLightResult

    Raises
    ------
    ValueError
        For invalid counts or ``p``.

    Notes
    -----
    Zones from the cumulative binomial probability
    :math:`F = P(X \\le x)`, :math:`X \\sim B(n, p)`: green if :math:`F < 95\\%`, yellow if
    :math:`95\\% \\le F < 99.99\\%`, red otherwise. At 250 days and 1 % this is the Basel
    table (0-4 green, 5-9 yellow, 10+ red). Plus factors are the Basel table's
    (5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85, red: 1.00). For other ``n`` or ``p`` a
    yellow-zone result gets the plus factor of the largest Basel row (250 days, 1 %) whose
    cumulative probability does not exceed ``F`` -- the same confidence, not the same count.

    References
    ----------
    Basel Committee on Banking Supervision (1996). *Supervisory framework for the use of
    "backtesting" in conjunction with the internal models approach to market risk capital
    requirements*, Table 2.

    Examples
    --------
    >>> res = traffic_light(5)
    >>> res.zone, round(res.cumulative_probability, 4), res.plus_factor
    ('yellow', 0.9588, 0.4)
    """
    p = _check_p(p)
    x, n = _check_counts(exceptions, observations)
    cdf = float(stats.binom.cdf(x, n, p))
    zone: Zone
    if cdf < _GREEN_BELOW:
        zone, plus = "green", 0.0
    elif cdf < _RED_FROM:
        zone = "yellow"
        if n == 250 and math.isclose(p, 0.01):
            plus = BASEL_PLUS_FACTORS[x]
        else:
            row = int(np.searchsorted(_BASEL_CDF, cdf, side="right")) - 1
            plus = BASEL_PLUS_FACTORS[min(max(row, 5), 9)]
    else:
        zone, plus = "red", 1.0
    return TrafficLightResult(zone, x, n, cdf, plus, 3.0 + plus, p)


# ---------------------------------------------------------------------------------------
# Acerbi-Szekely Z2 test of ES
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Z2Result:
    """Acerbi & Szekely (2014) test 2 of Expected Shortfall.

    Attributes
    ----------
    statistic : float
        ``Z2``; 0 in expectation under H0, negative when ES is underestimated.
    p_value : float
        Simulated ``P(Z2_null <= statistic)`` (one-sided).
    critical_value : float
        Simulated ``significance``-quantile of ``Z2`` under H0 (reject below it).
    significance : float
    exceptions, observations : int
    n_simulations : int
    null_distribution : str
        ``"normal"`` or ``"student_t(nu)"``.
    """

    statistic: float
    p_value: float
    critical_value: float
    significance: float
    exceptions: int
    observations: int
    n_simulations: int
    null_distribution: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def _z2_statistic(losses: np.ndarray, var: np.ndarray, es: np.ndarray, alpha: float) -> float:
    hits = losses > var
    return float(1.0 - np.sum(losses[hits] / es[hits]) / (losses.size * alpha))


def _z2_null(
    t: int, alpha: float, dof: float | None, n_simulations: int, rng: np.random.Generator
) -> np.ndarray:
    """Z2 under H0 for a location-zero, scale-free model (see acerbi_szekely_z2 Notes)."""
    if dof is None:
        dist: Any = stats.norm()
    else:
        dist = stats.t(dof, scale=math.sqrt((dof - 2.0) / dof))
    q = float(dist.ppf(alpha))
    # ES of the standardised distribution as a positive loss (numerical tail mean)
    es_std = -float(dist.expect(lambda v: v, ub=q, conditional=True))
    k = rng.binomial(t, alpha, size=n_simulations)
    # tail losses beyond the VaR by inversion; 1 - U is in (0, 1], so no infinite draw
    draws = -dist.ppf(alpha * (1.0 - rng.uniform(size=int(k.sum()))))
    owner = np.repeat(np.arange(n_simulations), k)
    sums = np.bincount(owner, weights=draws / es_std, minlength=n_simulations)
    return np.asarray(1.0 - sums / (t * alpha))


def acerbi_szekely_z2(
    returns: Any,
    var_forecasts: Any,
    es_forecasts: Any,
    level: float = 0.975,
    *,
    n_simulations: int = 10_000,
    dof: float | None = None,
    significance: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
) -> Z2Result:
    """Acerbi-Szekely Z2 test of ES forecasts, with simulated critical values.

    Parameters
    ----------
    returns, var_forecasts, es_forecasts : array-like
        Realised returns and the VaR and ES forecasts for the same days (positive losses,
        at the same ``level``), equal lengths, already aligned.
    level : float, default 0.975
        Confidence level of the forecasts (Basel FRTB uses 97.5 % ES).
    n_simulations : int, default 10_000
        Simulated samples of ``Z2`` under H0.
    dof : float, optional
        Null distribution of the standardised returns: Student t with ``dof`` (> 2,
        unit variance) or, when None, standard normal.
    significance : float, default 0.05
        Size of the reported critical value.
    random_state : int or Generator, default 0
        Seed of the simulation.

    Returns
    -------
    Z2Result

    Raises
    ------
    DataError
        For NaN values, non-positive ES forecasts or unequal lengths.

    Notes
    -----
    With losses :math:`L_t = -r_t`, hits :math:`I_t = 1\\{L_t > VaR_t\\}`, ``T`` days and
    :math:`\\alpha = 1 - level`:
    :math:`Z_2 = 1 - \\sum_t L_t I_t / (T\\alpha ES_t)`; :math:`E_{H_0}[Z_2] = 0`.
    Under H0 the returns are :math:`\\sigma_t X_t` with :math:`X_t` i.i.d. from the
    standardised null distribution, so :math:`L_t I_t / ES_t` does not depend on
    :math:`\\sigma_t`: each simulated sample draws the number of hits
    :math:`K \\sim B(T, \\alpha)` and ``K`` tail losses by inversion,
    :math:`-F^{-1}(\\alpha U)`. Acerbi & Szekely report that the critical values barely
    depend on the distribution (about -0.70 at 5 % for 250 days at 97.5 %). The p-value is
    :math:`(1 + \\#\\{Z_2^{sim} \\le Z_2\\})/(1 + M)`.

    References
    ----------
    Acerbi, C. & Szekely, B. (2014). Backtesting expected shortfall. *Risk*, December.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(3).standard_normal(500)
    >>> v = np.full(500, 1.959964); e = np.full(500, 2.337803)
    >>> res = acerbi_szekely_z2(r, v, e, 0.975, n_simulations=2000)
    >>> res.p_value > 0.05
    True
    """
    if isinstance(level, bool) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    alpha = round(1.0 - float(level), 12)
    if not 0.0 < significance < 1.0:
        raise ValueError(f"significance must be in (0, 1); got {significance}.")
    if dof is not None and not dof > 2.0:
        raise ValueError(f"dof must be > 2 (a finite variance); got {dof}.")
    r = _finite(returns, "returns")
    v = _finite(var_forecasts, "var_forecasts")
    e = _finite(es_forecasts, "es_forecasts")
    if not r.size == v.size == e.size:
        raise DataError(
            f"returns, var_forecasts and es_forecasts must have equal lengths; "
            f"got {r.size}, {v.size}, {e.size}."
        )
    if np.any(e <= 0.0):
        raise DataError("es_forecasts must be positive losses.")
    losses = -r
    stat = _z2_statistic(losses, v, e, alpha)
    rng = np.random.default_rng(random_state)
    null = _z2_null(r.size, alpha, dof, int(n_simulations), rng)
    p_value = (1.0 + np.count_nonzero(null <= stat)) / (1.0 + null.size)
    return Z2Result(
        statistic=stat,
        p_value=float(p_value),
        critical_value=float(np.quantile(null, significance)),
        significance=float(significance),
        exceptions=int(np.count_nonzero(losses > v)),
        observations=int(r.size),
        n_simulations=int(n_simulations),
        null_distribution="normal" if dof is None else f"student_t({dof:g})",
    )


def _finite(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise DataError(f"{name} are empty.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(
            f"{name} contain {int(bad.sum())} NaN or infinite values "
            f"(first at position {int(np.argmax(bad))})"
        )
    return arr


# ---------------------------------------------------------------------------------------
# Full backtest
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearExceptions:
    """Exceptions of one calendar year."""

    year: int
    exceptions: int
    observations: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class BacktestResult:
    """Everything a VaR (and ES) backtest reports.

    Attributes
    ----------
    level : float
        Confidence level of the forecasts.
    observations, exceptions : int
        Days backtested and days with a loss beyond the VaR.
    exception_rate : float
    exception_dates : tuple of str
        ISO dates (or positions) of the exceptions.
    exceptions_per_year : tuple of YearExceptions
        Empty when the index holds no dates.
    kupiec : KupiecResult
    christoffersen : ChristoffersenResult
    traffic_light : TrafficLightResult
        Over ``traffic_light_period``.
    traffic_light_period : str
        ``"last 250 days"`` or the calendar year.
    z2 : Z2Result or None
        When ES forecasts were given.
    hits : Series of bool
        Hit indicator per day (not in :meth:`to_dict`; see ``exception_dates``).
    """

    level: float
    observations: int
    exceptions: int
    exception_rate: float
    exception_dates: tuple[str, ...]
    exceptions_per_year: tuple[YearExceptions, ...]
    kupiec: KupiecResult
    christoffersen: ChristoffersenResult
    traffic_light: TrafficLightResult
    traffic_light_period: str
    z2: Z2Result | None
    hits: pd.Series = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (without the per-day ``hits``)."""
        return {
            "level": self.level,
            "observations": self.observations,
            "exceptions": self.exceptions,
            "exception_rate": self.exception_rate,
            "exception_dates": list(self.exception_dates),
            "exceptions_per_year": [y.to_dict() for y in self.exceptions_per_year],
            "kupiec": self.kupiec.to_dict(),
            "christoffersen": self.christoffersen.to_dict(),
            "traffic_light": self.traffic_light.to_dict(),
            "traffic_light_period": self.traffic_light_period,
            "z2": None if self.z2 is None else self.z2.to_dict(),
        }


def _align(returns: Any, forecasts: Any, name: str) -> pd.Series:
    """The forecasts as a Series on the returns' index positions."""
    if isinstance(forecasts, pd.Series) and isinstance(returns, pd.Series):
        missing = forecasts.index.difference(returns.index)
        if len(missing):
            raise DataError(
                f"{name} has {len(missing)} dates without a return (first {missing[0]})."
            )
        return forecasts
    arr = np.asarray(forecasts, dtype=float).reshape(-1)
    index = returns.index if isinstance(returns, pd.Series) else pd.RangeIndex(arr.size)
    if arr.size != len(index):
        raise DataError(f"{name} has {arr.size} values for {len(index)} returns.")
    return pd.Series(arr, index=index, name=name)


def _label(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def backtest(
    returns: pd.Series | np.ndarray | Sequence[float],
    var_forecasts: pd.Series | np.ndarray | Sequence[float],
    es_forecasts: pd.Series | np.ndarray | Sequence[float] | None = None,
    level: float = 0.99,
    *,
    traffic_light_year: int | None = None,
    traffic_light_days: int = 250,
    n_simulations: int = 10_000,
    es_dof: float | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> BacktestResult:
    """Backtest VaR (and optionally ES) forecasts against realised returns.

    Parameters
    ----------
    returns : Series or array-like
        Realised daily returns. A Series may cover more days than the forecasts.
    var_forecasts : Series or array-like
        VaR forecasts (positive losses) for the days they are indexed by (e.g. the output
        of :func:`riskmoe.risk.rolling_var`), or an array as long as ``returns``.
    es_forecasts : Series or array-like, optional
        ES forecasts for the same days; adds the Z2 test.
    level : float, default 0.99
        Confidence level of the forecasts; ``p = 1 - level``.
    traffic_light_year : int, optional
        Calendar year for the traffic light (all its days); default the last
        ``traffic_light_days`` days.
    traffic_light_days : int, default 250
        Length of the traffic-light period when no year is given.
    n_simulations : int, default 10_000
        Z2 null simulations.
    es_dof : float, optional
        Z2 null distribution (Student t dof; normal when None).
    random_state : int or Generator, default 0
        Seed of the Z2 simulation.

    Returns
    -------
    BacktestResult

    Raises
    ------
    DataError
        For NaN returns or forecasts, or forecasts on days without a return.
    ValueError
        For a level outside (0, 1) or a year with no forecasts.

    Notes
    -----
    A hit is :math:`r_t < -VaR_t`. Kupiec, Christoffersen and Z2 use all forecast days;
    the traffic light uses the chosen period.

    References
    ----------
    Kupiec (1995); Christoffersen (1998); Basel Committee (1996); Acerbi & Szekely (2014);
    see the functions of this module.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).normal(0, 0.01, 500)
    >>> res = backtest(r, np.full(500, 0.0233), level=0.99)
    >>> res.observations, res.exceptions, res.traffic_light.zone
    (500, 8, 'yellow')
    """
    if isinstance(level, bool) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    p = round(1.0 - float(level), 12)  # 1 - 0.99 is 0.010000000000000009 in binary
    if isinstance(returns, pd.Series):
        ret_all = returns
    else:
        ret_all = pd.Series(np.asarray(returns, dtype=float).reshape(-1))
    if ret_all.empty:
        raise DataError("returns are empty.")
    var = _align(ret_all, var_forecasts, "var_forecasts")
    if var.empty:
        raise DataError("var_forecasts are empty.")
    ret = ret_all.loc[var.index].astype(float)
    for name, series in (("returns", ret), ("var_forecasts", var)):
        bad = series.isna().to_numpy() | ~np.isfinite(series.to_numpy(dtype=float))
        if bad.any():
            raise DataError(
                f"{name} contain {int(bad.sum())} NaN values "
                f"(first at {_label(series.index[int(np.argmax(bad))])})"
            )
    hits = pd.Series(ret.to_numpy() < -var.to_numpy(dtype=float), index=var.index, name="hit")
    h = hits.to_numpy()
    n, x = int(h.size), int(h.sum())
    if n < 2:
        raise DataError(f"a backtest needs at least 2 forecast days; got {n}.")
    kupiec = kupiec_pof(x, n, p)
    chris = christoffersen(h, p)
    per_year: tuple[YearExceptions, ...] = ()
    if isinstance(hits.index, pd.DatetimeIndex):
        grouped = hits.groupby(hits.index.year)
        per_year = tuple(
            YearExceptions(int(year), int(g.sum()), int(g.size)) for year, g in grouped
        )
    if traffic_light_year is not None:
        if not isinstance(hits.index, pd.DatetimeIndex):
            raise ValueError("traffic_light_year needs returns indexed by dates.")
        period = hits[hits.index.year == traffic_light_year]
        if period.empty:
            raise ValueError(f"no forecast days in traffic_light_year={traffic_light_year}.")
        label = str(traffic_light_year)
    else:
        period = hits.iloc[-traffic_light_days:]
        label = f"last {len(period)} days"
    light = traffic_light(int(period.sum()), int(period.size), p)
    z2 = None
    if es_forecasts is not None:
        es = _align(ret_all, es_forecasts, "es_forecasts").reindex(var.index)
        z2 = acerbi_szekely_z2(
            ret.to_numpy(),
            var.to_numpy(dtype=float),
            es.to_numpy(dtype=float),
            float(level),
            n_simulations=n_simulations,
            dof=es_dof,
            random_state=random_state,
        )
    return BacktestResult(
        level=float(level),
        observations=n,
        exceptions=x,
        exception_rate=x / n,
        exception_dates=tuple(_label(d) for d in hits.index[h]),
        exceptions_per_year=per_year,
        kupiec=kupiec,
        christoffersen=chris,
        traffic_light=light,
        traffic_light_period=label,
        z2=z2,
        hits=hits,
    )
