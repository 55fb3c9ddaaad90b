"""Minimum-variance hedge ratios and the number of futures contracts (with and without tailing).

The hedge ratio :math:`h^*` minimises the variance of ``spot change - h x futures change``
over a history of paired changes; it is the slope of the regression of spot changes on
futures changes, and its :math:`R^2` (:math:`\\rho^2`) is the hedge effectiveness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmoe.exceptions import DataError

__all__ = ["HedgeRatio", "hedge_contracts", "hedged_variance_reduction", "min_variance_hedge_ratio"]


def _series(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numbers; got {type(values).__name__}.") from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(
            f"{name} holds a missing or infinite value at position {int(np.argmax(bad))}."
        )
    return arr


@dataclass(frozen=True)
class HedgeRatio:
    """A minimum-variance hedge ratio and what it achieves on its own history.

    Attributes
    ----------
    ratio : float
        :math:`h^* = \\rho\\,\\sigma_S / \\sigma_F`.
    correlation : float
        :math:`\\rho` of spot and futures changes.
    effectiveness : float
        :math:`\\rho^2`: the share of the spot variance the hedge removes.
    sigma_spot, sigma_futures : float
        Sample standard deviations (``ddof=1``).
    n : int
        Number of paired observations.
    """

    ratio: float
    correlation: float
    effectiveness: float
    sigma_spot: float
    sigma_futures: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def min_variance_hedge_ratio(spot_changes: Any, futures_changes: Any) -> HedgeRatio:
    """Minimum-variance hedge ratio from paired spot and futures changes.

    Parameters
    ----------
    spot_changes, futures_changes : array-like
        Changes over the hedge horizon (price changes or returns), paired, same length.

    Returns
    -------
    HedgeRatio

    Raises
    ------
    DataError
        Different lengths, fewer than 3 pairs, missing values, or a constant series.

    Notes
    -----
    .. math::

        h^* = \\frac{\\operatorname{cov}(\\Delta S, \\Delta F)}{\\operatorname{var}(\\Delta F)}
              = \\rho\\,\\frac{\\sigma_S}{\\sigma_F}

    References
    ----------
    .. [1] J. C. Hull, *Options, Futures, and Other Derivatives*, ch. 3 ("Hedging
       strategies using futures"), minimum variance hedge ratio and Example 3.3.

    Examples
    --------
    >>> h = min_variance_hedge_ratio([1.0, 2.0, 4.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    >>> round(h.ratio, 2), round(h.correlation, 2)
    (0.8, 0.8)
    """
    s = _series(spot_changes, "spot_changes")
    f = _series(futures_changes, "futures_changes")
    if len(s) != len(f):
        raise DataError(
            f"spot_changes and futures_changes must be paired; got {len(s)} and {len(f)} values."
        )
    if len(s) < 3:
        raise DataError(f"a hedge ratio needs at least 3 paired changes; got {len(s)}.")
    cov = np.cov(s, f, ddof=1)
    if cov[1, 1] <= 0:
        raise DataError("futures_changes is constant: a futures that never moves hedges nothing.")
    if cov[0, 0] <= 0:
        raise DataError("spot_changes is constant: there is no risk to hedge.")
    rho = float(cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1]))
    return HedgeRatio(
        ratio=float(cov[0, 1] / cov[1, 1]),
        correlation=rho,
        effectiveness=rho * rho,
        sigma_spot=math.sqrt(cov[0, 0]),
        sigma_futures=math.sqrt(cov[1, 1]),
        n=len(s),
    )


def hedge_contracts(
    ratio: float,
    position_units: float,
    contract_units: float,
    *,
    spot_price: float | None = None,
    futures_price: float | None = None,
) -> float:
    """Optimal number of futures contracts (unrounded).

    Without prices: :math:`N^* = h^* Q_A / Q_F` (units of the position over units of one
    contract). With both prices (*tailing the hedge*, for daily-settled futures):
    :math:`N^* = h^* V_A / V_F` with :math:`V_A = S\\,Q_A` and :math:`V_F = F\\,Q_F`.

    Parameters
    ----------
    ratio : float
        The hedge ratio (as :attr:`HedgeRatio.ratio`).
    position_units : float
        Size of the position being hedged (> 0), e.g. gallons.
    contract_units : float
        Size of one futures contract (> 0), in the same units.
    spot_price, futures_price : float, optional
        Give both to tail the hedge.

    Returns
    -------
    float
        Round to the nearest whole contract to trade.

    Raises
    ------
    DataError
        A non-positive position, contract size or price.
    ValueError
        Only one of the two prices.

    Examples
    --------
    Hull's airline, 2 million gallons hedged with 42,000-gallon heating-oil contracts:

    >>> round(hedge_contracts(0.7777, 2_000_000, 42_000))
    37
    """
    h = float(ratio)
    if not math.isfinite(h):
        raise ValueError(f"ratio must be finite; got {ratio!r}.")
    for name, value in (("position_units", position_units), ("contract_units", contract_units)):
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise DataError(f"{name} must be > 0; got {value!r}.")
    if (spot_price is None) != (futures_price is None):
        raise ValueError("tailing needs both spot_price and futures_price (or neither).")
    if spot_price is None or futures_price is None:
        return h * float(position_units) / float(contract_units)
    for name, value in (("spot_price", spot_price), ("futures_price", futures_price)):
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise DataError(f"{name} must be > 0; got {value!r}.")
    return (
        h
        * float(spot_price)
        * float(position_units)
        / (float(futures_price) * float(contract_units))
    )


def hedged_variance_reduction(spot_changes: Any, futures_changes: Any, ratio: float) -> float:
    """Share of the spot variance removed by hedging at ``ratio`` (out of sample if the data are).

    ``1 - var(S - h F) / var(S)``; equals :attr:`HedgeRatio.effectiveness` when ``ratio``
    was estimated on the same data.

    Examples
    --------
    >>> round(hedged_variance_reduction([1.0, 2.0, 4.0, 3.0], [1.0, 2.0, 3.0, 4.0], 0.8), 2)
    0.64
    """
    s = _series(spot_changes, "spot_changes")
    f = _series(futures_changes, "futures_changes")
    if len(s) != len(f) or len(s) < 2:
        raise DataError(f"need paired changes of equal length >= 2; got {len(s)} and {len(f)}.")
    var_s = float(np.var(s, ddof=1))
    if var_s <= 0:
        raise DataError("spot_changes is constant: there is no risk to hedge.")
    return 1.0 - float(np.var(s - float(ratio) * f, ddof=1)) / var_s
