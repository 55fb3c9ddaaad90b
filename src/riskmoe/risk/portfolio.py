"""A nonlinear book -- equity options, fixed-rate bonds, FX -- and its scenario VaR.

Risk factors are named ``"stock:<name>"`` (a stock price), ``"rate:<name>"`` (a flat,
continuously compounded yield, as a fraction) and ``"fx:<ccy>"`` (domestic currency per
unit of foreign currency ``ccy``). A scenario is a vector of *shocks*, one per factor:

* stocks and FX rates move by a **relative** (simple) change, ``S' = S (1 + x)``;
* yields move by an **absolute** change, ``y' = y + dy``.

The book is revalued under each scenario (full revaluation) or approximated to first order
by its sensitivities (delta-normal). ``surrogate_var`` fits any scikit-learn-style regressor
to full revaluations of training scenarios and uses its predictions instead.

Pricing conventions: European options by Black-Scholes(-Merton, with a continuous dividend
yield), American options by a Cox-Ross-Rubinstein tree; option volatilities are fixed (no
vega factor) and scenarios do not age the instruments (a scenario is an instantaneous move,
which keeps full revaluation and the delta approximation comparable). Bonds are priced
from a flat continuously compounded yield plus a fixed spread. All values and VaRs are in
the domestic currency, losses positive.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from riskmoe.exceptions import DataError, SchemaError

__all__ = [
    "Book",
    "BookRisk",
    "EquityOption",
    "FXPosition",
    "FixedRateBond",
    "MarketState",
    "Scenarios",
    "StockPosition",
    "SurrogateResult",
    "binomial_option_price",
    "black_scholes_delta",
    "black_scholes_price",
    "black_scholes_rho",
    "bond_duration",
    "bond_price",
    "delta_normal_var",
    "full_revaluation_var",
    "generate_scenarios",
    "surrogate_var",
]

OptionKind = Literal["call", "put"]
FactorKind = Literal["stock", "rate", "fx"]


def _check_kind(kind: str) -> str:
    if kind not in ("call", "put"):
        raise ValueError(f"kind must be 'call' or 'put'; got {kind!r}.")
    return kind


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.integer | np.floating):
        raise ValueError(f"level must be in (0, 1); got {level!r}.")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    return float(level)


# ---------------------------------------------------------------------------------------
# Pricing formulas (vectorised, numpy broadcasting)
# ---------------------------------------------------------------------------------------


def _d1_d2(
    spot: Any, strike: Any, rate: Any, volatility: Any, maturity: Any, dividend_yield: Any
) -> tuple[np.ndarray, np.ndarray]:
    s, k = np.asarray(spot, dtype=float), np.asarray(strike, dtype=float)
    sig, t = np.asarray(volatility, dtype=float), np.asarray(maturity, dtype=float)
    vol_t = sig * np.sqrt(t)
    d1 = (np.log(s / k) + (np.asarray(rate) - dividend_yield + 0.5 * sig * sig) * t) / vol_t
    return d1, d1 - vol_t


def black_scholes_price(
    spot: Any,
    strike: Any,
    rate: Any,
    volatility: Any,
    maturity: Any,
    kind: OptionKind = "call",
    dividend_yield: Any = 0.0,
) -> np.ndarray:
    """Black-Scholes-Merton price of a European option (arrays broadcast).

    Parameters
    ----------
    spot, strike : float or array
        Underlying price and strike.
    rate : float or array
        Continuously compounded risk-free rate (fraction).
    volatility : float or array
        Annual volatility (fraction).
    maturity : float or array
        Time to expiry in years (> 0).
    kind : {"call", "put"}
    dividend_yield : float or array, default 0.0
        Continuous dividend yield.

    Returns
    -------
    ndarray

    Notes
    -----
    :math:`c = S e^{-qT} N(d_1) - K e^{-rT} N(d_2)`,
    :math:`p = K e^{-rT} N(-d_2) - S e^{-qT} N(-d_1)`,
    :math:`d_{1,2} = [\\ln(S/K) + (r - q \\pm \\sigma^2/2)T] / (\\sigma\\sqrt T)`.

    References
    ----------
    Hull, J. C. *Options, Futures, and Other Derivatives*, ch. 15 (example 15.6:
    S=42, K=40, r=10 %, sigma=20 %, T=0.5 gives c=4.76, p=0.81).

    Examples
    --------
    >>> round(float(black_scholes_price(42, 40, 0.1, 0.2, 0.5, "call")), 2)
    4.76
    >>> round(float(black_scholes_price(42, 40, 0.1, 0.2, 0.5, "put")), 2)
    0.81
    """
    _check_kind(kind)
    d1, d2 = _d1_d2(spot, strike, rate, volatility, maturity, dividend_yield)
    s_disc = np.asarray(spot) * np.exp(-np.asarray(dividend_yield) * np.asarray(maturity))
    k_disc = np.asarray(strike) * np.exp(-np.asarray(rate) * np.asarray(maturity))
    if kind == "call":
        return np.asarray(s_disc * stats.norm.cdf(d1) - k_disc * stats.norm.cdf(d2))
    return np.asarray(k_disc * stats.norm.cdf(-d2) - s_disc * stats.norm.cdf(-d1))


def black_scholes_delta(
    spot: Any,
    strike: Any,
    rate: Any,
    volatility: Any,
    maturity: Any,
    kind: OptionKind = "call",
    dividend_yield: Any = 0.0,
) -> np.ndarray:
    """Black-Scholes delta ``dV/dS`` of a European option.

    Parameters
    ----------
    spot, strike, rate, volatility, maturity, kind, dividend_yield
        As in :func:`black_scholes_price`.

    Returns
    -------
    ndarray
        :math:`e^{-qT}N(d_1)` for a call, :math:`e^{-qT}(N(d_1) - 1)` for a put.

    Examples
    --------
    >>> round(float(black_scholes_delta(42, 40, 0.1, 0.2, 0.5)), 4)
    0.7791
    """
    _check_kind(kind)
    d1, _ = _d1_d2(spot, strike, rate, volatility, maturity, dividend_yield)
    carry = np.exp(-np.asarray(dividend_yield) * np.asarray(maturity))
    n1 = stats.norm.cdf(d1)
    return np.asarray(carry * (n1 if kind == "call" else n1 - 1.0))


def black_scholes_rho(
    spot: Any,
    strike: Any,
    rate: Any,
    volatility: Any,
    maturity: Any,
    kind: OptionKind = "call",
    dividend_yield: Any = 0.0,
) -> np.ndarray:
    """Black-Scholes rho ``dV/dr`` (per unit of rate, not per percentage point).

    Parameters
    ----------
    spot, strike, rate, volatility, maturity, kind, dividend_yield
        As in :func:`black_scholes_price`.

    Returns
    -------
    ndarray
        :math:`K T e^{-rT} N(d_2)` for a call, :math:`-K T e^{-rT} N(-d_2)` for a put.
    """
    _check_kind(kind)
    _, d2 = _d1_d2(spot, strike, rate, volatility, maturity, dividend_yield)
    t = np.asarray(maturity, dtype=float)
    k_disc_t = np.asarray(strike) * t * np.exp(-np.asarray(rate) * t)
    if kind == "call":
        return np.asarray(k_disc_t * stats.norm.cdf(d2))
    return np.asarray(-k_disc_t * stats.norm.cdf(-d2))


def binomial_option_price(
    spot: Any,
    strike: float,
    rate: Any,
    volatility: float,
    maturity: float,
    kind: OptionKind = "put",
    *,
    american: bool = True,
    steps: int = 200,
    dividend_yield: float = 0.0,
) -> np.ndarray:
    """Cox-Ross-Rubinstein binomial-tree option price, vectorised over spot and rate.

    Parameters
    ----------
    spot, rate : float or 1-D array
        Underlying prices and continuously compounded rates (broadcast together).
    strike, volatility, maturity : float
    kind : {"call", "put"}, default "put"
    american : bool, default True
        Early exercise allowed.
    steps : int, default 200
        Tree steps; cost grows with ``steps**2`` per scenario.
    dividend_yield : float, default 0.0

    Returns
    -------
    ndarray, 1-D

    Notes
    -----
    :math:`u = e^{\\sigma\\sqrt{\\Delta t}}`, :math:`d = 1/u`,
    :math:`p = (e^{(r-q)\\Delta t} - d)/(u - d)`; backward induction with
    :math:`V = \\max(\\text{payoff}, e^{-r\\Delta t}(pV_u + (1-p)V_d))` for American options.

    References
    ----------
    Cox, J., Ross, S. & Rubinstein, M. (1979). Option pricing: a simplified approach.
    *Journal of Financial Economics* 7(3), 229-263. Hull, *Options, Futures, and Other
    Derivatives*, ch. 21 (American put S=K=50, r=10 %, sigma=40 %, T=5 months, 5 steps:
    4.49).

    Examples
    --------
    >>> round(float(binomial_option_price(50, 50, 0.1, 0.4, 5 / 12, steps=5)[0]), 2)
    4.49
    """
    _check_kind(kind)
    if steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps}.")
    s, r = np.broadcast_arrays(np.atleast_1d(np.asarray(spot, float)), np.asarray(rate, float))
    s, r = s.reshape(-1, 1), r.reshape(-1, 1)
    dt = maturity / steps
    u = math.exp(volatility * math.sqrt(dt))
    d = 1.0 / u
    growth = np.exp((r - dividend_yield) * dt)
    p = (growth - d) / (u - d)
    if np.any((p <= 0.0) | (p >= 1.0)):
        raise ValueError("binomial tree is not arbitrage-free (p outside (0, 1)); add steps.")
    disc = np.exp(-r * dt)
    sign = 1.0 if kind == "call" else -1.0
    j = np.arange(steps + 1)
    prices = s * u ** (2 * j - steps)  # S u^j d^(steps - j)
    values = np.maximum(sign * (prices - strike), 0.0)
    for i in range(steps - 1, -1, -1):
        values = disc * (p * values[:, 1 : i + 2] + (1.0 - p) * values[:, : i + 1])
        if american:
            prices = s * u ** (2 * j[: i + 1] - i)
            values = np.maximum(values, sign * (prices - strike))
    return values[:, 0]


def _cash_flows(
    face: float, coupon_rate: float, maturity: float, frequency: int
) -> tuple[np.ndarray, np.ndarray]:
    """Times (years) and amounts of the remaining cash flows, the last at ``maturity``."""
    n = max(int(math.ceil(maturity * frequency - 1e-9)), 1)
    times = maturity - np.arange(n)[::-1] / frequency
    amounts = np.full(n, face * coupon_rate / frequency)
    amounts[-1] += face
    return times, amounts


def bond_price(
    face: float, coupon_rate: float, maturity: float, yield_: Any, frequency: int = 1
) -> np.ndarray:
    """Price of a fixed-rate bond from a flat continuously compounded yield.

    Parameters
    ----------
    face : float
        Principal repaid at maturity.
    coupon_rate : float
        Annual coupon as a fraction of face, paid ``frequency`` times a year.
    maturity : float
        Years to the last payment; coupons fall every ``1/frequency`` years back from it.
    yield_ : float or array
        Continuously compounded yield (fraction).
    frequency : int, default 1

    Returns
    -------
    ndarray
        :math:`P = \\sum_i c_i e^{-y t_i}` (dirty price, no accrued-interest split).

    References
    ----------
    Hull, J. C. *Risk Management and Financial Institutions*, ch. 9 (3-year 10 % semiannual
    bond at a 12 % yield: price 94.213, duration 2.653 years).

    Examples
    --------
    >>> round(float(bond_price(100, 0.10, 3.0, 0.12, frequency=2)), 3)
    94.213
    """
    times, amounts = _cash_flows(face, coupon_rate, maturity, frequency)
    y = np.asarray(yield_, dtype=float)[..., None]
    return np.asarray((amounts * np.exp(-y * times)).sum(axis=-1))


def bond_duration(
    face: float, coupon_rate: float, maturity: float, yield_: float, frequency: int = 1
) -> float:
    """Duration of a fixed-rate bond under continuous compounding, in years.

    Parameters
    ----------
    face, coupon_rate, maturity, yield_, frequency
        As in :func:`bond_price`.

    Returns
    -------
    float
        :math:`D = \\sum_i t_i c_i e^{-y t_i} / P`, so that :math:`dP/dy = -D P`.

    Examples
    --------
    >>> round(bond_duration(100, 0.10, 3.0, 0.12, frequency=2), 3)
    2.653
    """
    times, amounts = _cash_flows(face, coupon_rate, maturity, frequency)
    pv = amounts * np.exp(-yield_ * times)
    return float((times * pv).sum() / pv.sum())


# ---------------------------------------------------------------------------------------
# Market state and instruments
# ---------------------------------------------------------------------------------------


def _factor(kind: FactorKind, name: str) -> str:
    return f"{kind}:{name}"


@dataclass(frozen=True)
class MarketState:
    """Current levels of the risk factors.

    Attributes
    ----------
    stocks : mapping name -> price
    rates : mapping name -> flat continuously compounded yield (fraction)
    fx : mapping currency -> domestic units per unit of that currency
    """

    stocks: Mapping[str, float] = field(default_factory=dict)
    rates: Mapping[str, float] = field(default_factory=dict)
    fx: Mapping[str, float] = field(default_factory=dict)

    def level(self, factor: str) -> float:
        """Level of a factor named ``"stock:X"``, ``"rate:X"`` or ``"fx:X"``."""
        kind, _, name = factor.partition(":")
        table = {"stock": self.stocks, "rate": self.rates, "fx": self.fx}.get(kind)
        if table is None or name not in table:
            raise ValueError(f"the market state has no factor {factor!r}.")
        return float(table[name])


Levels = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class StockPosition:
    """``quantity`` shares of ``underlying`` (a linear position)."""

    underlying: str
    quantity: float = 1.0
    currency: str | None = None

    def factors(self) -> list[str]:
        return [_factor("stock", self.underlying)]

    def value(self, levels: Levels) -> np.ndarray:
        return self.quantity * levels[_factor("stock", self.underlying)]

    def sensitivities(self, state: MarketState) -> dict[str, float]:
        s = state.stocks[self.underlying]
        return {_factor("stock", self.underlying): self.quantity * s}


@dataclass(frozen=True)
class EquityOption:
    """``quantity`` options on ``underlying`` (negative quantity: written options).

    ``exercise="european"`` is priced by Black-Scholes, ``"american"`` by a CRR tree with
    ``steps`` steps (the costly pricer a surrogate can stand in for).
    """

    underlying: str
    strike: float
    maturity: float
    volatility: float
    kind: OptionKind = "call"
    quantity: float = 1.0
    rate: str = "USD"
    dividend_yield: float = 0.0
    currency: str | None = None
    exercise: Literal["european", "american"] = "european"
    steps: int = 200

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        if self.maturity <= 0 or self.volatility <= 0 or self.strike <= 0:
            raise ValueError(
                f"option strike, maturity and volatility must be positive; got strike="
                f"{self.strike}, maturity={self.maturity}, volatility={self.volatility}."
            )
        if self.exercise not in ("european", "american"):
            raise ValueError(f"exercise must be 'european' or 'american'; got {self.exercise!r}.")

    def factors(self) -> list[str]:
        return [_factor("stock", self.underlying), _factor("rate", self.rate)]

    def _price(self, spot: Any, rate: Any) -> np.ndarray:
        if self.exercise == "american":
            return binomial_option_price(
                spot,
                self.strike,
                rate,
                self.volatility,
                self.maturity,
                self.kind,
                american=True,
                steps=self.steps,
                dividend_yield=self.dividend_yield,
            )
        return black_scholes_price(
            spot, self.strike, rate, self.volatility, self.maturity, self.kind, self.dividend_yield
        )

    def value(self, levels: Levels) -> np.ndarray:
        spot = levels[_factor("stock", self.underlying)]
        rate = levels[_factor("rate", self.rate)]
        return self.quantity * self._price(spot, rate)

    def sensitivities(self, state: MarketState) -> dict[str, float]:
        s, r = state.stocks[self.underlying], state.rates[self.rate]
        if self.exercise == "european":
            args = (s, self.strike, r, self.volatility, self.maturity, self.kind)
            delta = float(black_scholes_delta(*args, self.dividend_yield))
            rho = float(black_scholes_rho(*args, self.dividend_yield))
        else:  # central differences of the tree price
            hs, hr = 1e-3 * s, 1e-5
            delta = float((self._price(s + hs, r) - self._price(s - hs, r))[0] / (2.0 * hs))
            rho = float((self._price(s, r + hr) - self._price(s, r - hr))[0] / (2.0 * hr))
        return {
            _factor("stock", self.underlying): self.quantity * delta * s,
            _factor("rate", self.rate): self.quantity * rho,
        }


@dataclass(frozen=True)
class FixedRateBond:
    """``quantity`` fixed-rate bonds priced off the flat yield ``rate`` plus ``spread``."""

    face: float
    coupon_rate: float
    maturity: float
    frequency: int = 1
    rate: str = "USD"
    spread: float = 0.0
    quantity: float = 1.0
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.maturity <= 0 or self.face <= 0 or self.frequency < 1:
            raise ValueError(
                f"bond face, maturity and frequency must be positive; got face={self.face}, "
                f"maturity={self.maturity}, frequency={self.frequency}."
            )

    def factors(self) -> list[str]:
        return [_factor("rate", self.rate)]

    def value(self, levels: Levels) -> np.ndarray:
        y = levels[_factor("rate", self.rate)] + self.spread
        return self.quantity * bond_price(
            self.face, self.coupon_rate, self.maturity, y, self.frequency
        )

    def sensitivities(self, state: MarketState) -> dict[str, float]:
        y = state.rates[self.rate] + self.spread
        args = (self.face, self.coupon_rate, self.maturity, y, self.frequency)
        price = float(bond_price(*args))
        return {_factor("rate", self.rate): -self.quantity * bond_duration(*args) * price}


@dataclass(frozen=True)
class FXPosition:
    """``amount`` units of foreign currency ``currency`` (a cash deposit, no interest)."""

    currency: str
    amount: float

    def factors(self) -> list[str]:
        return []  # its only factor is its currency, added by the book

    def value(self, levels: Levels) -> np.ndarray:
        """Value in the foreign currency (the book converts it)."""
        return self.amount * np.ones_like(levels[_factor("fx", self.currency)])

    def sensitivities(self, state: MarketState) -> dict[str, float]:
        return {}


Instrument = StockPosition | EquityOption | FixedRateBond | FXPosition


def _instrument_currency(inst: Instrument) -> str | None:
    """Currency the instrument is valued in (None: domestic)."""
    return inst.currency


# ---------------------------------------------------------------------------------------
# Book
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    """A book of instruments valued in the domestic currency.

    Parameters
    ----------
    instruments : tuple of StockPosition, EquityOption, FixedRateBond, FXPosition
    state : MarketState
        Current factor levels; must hold every factor the instruments use.

    Examples
    --------
    >>> state = MarketState(stocks={"SPX": 100.0}, rates={"USD": 0.05}, fx={"EUR": 1.1})
    >>> book = Book((StockPosition("SPX", 10), FXPosition("EUR", 100.0)), state)
    >>> book.factor_names
    ('stock:SPX', 'fx:EUR')
    >>> round(float(book.base_value()), 2)
    1110.0
    """

    instruments: tuple[Instrument, ...]
    state: MarketState

    def __post_init__(self) -> None:
        if not self.instruments:
            raise ValueError("a book needs at least one instrument.")
        for factor in self.factor_names:
            try:
                self.state.level(factor)
            except ValueError as exc:
                raise ValueError(f"{exc} (needed by the book's instruments)") from None

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Factors in the order stocks, rates, FX (first use within each kind)."""
        names: list[str] = []
        for inst in self.instruments:
            names.extend(inst.factors())
            ccy = _instrument_currency(inst)
            if ccy is not None:
                names.append(_factor("fx", ccy))
        order = {"stock": 0, "rate": 1, "fx": 2}
        unique = list(dict.fromkeys(names))
        return tuple(sorted(unique, key=lambda f: order[f.partition(":")[0]]))

    def base_levels(self) -> np.ndarray:
        """Current level of each factor, in ``factor_names`` order."""
        return np.array([self.state.level(f) for f in self.factor_names])

    def value(self, levels: np.ndarray | None = None) -> np.ndarray:
        """Full revaluation: book value for each row of factor levels.

        Parameters
        ----------
        levels : ndarray (n, k), optional
            Factor levels in ``factor_names`` order; the current state when None.

        Returns
        -------
        ndarray (n,)
        """
        lv = self.base_levels()[None, :] if levels is None else np.atleast_2d(levels)
        if lv.shape[1] != len(self.factor_names):
            raise ValueError(
                f"levels need {len(self.factor_names)} columns {self.factor_names}; "
                f"got {lv.shape[1]}."
            )
        cols = {name: lv[:, i] for i, name in enumerate(self.factor_names)}
        total = np.zeros(lv.shape[0])
        for inst in self.instruments:
            v = inst.value(cols)
            ccy = _instrument_currency(inst)
            total += v * cols[_factor("fx", ccy)] if ccy is not None else v
        return total

    def base_value(self) -> float:
        """Value under the current state."""
        return float(self.value()[0])

    def sensitivities(self) -> np.ndarray:
        """First-order P&L per unit shock of each factor (``factor_names`` order).

        Returns
        -------
        ndarray (k,)
            Stocks: :math:`S\\,\\partial V/\\partial S` (dollar delta per 100 % move);
            rates: :math:`\\partial V/\\partial y` (``-D P`` for bonds, rho for options);
            FX: :math:`X\\,\\partial V/\\partial X`, the domestic value of everything held in
            that currency (the FX exposure). Each in domestic currency.
        """
        out = dict.fromkeys(self.factor_names, 0.0)
        base = {name: np.array([self.state.level(name)]) for name in self.factor_names}
        for inst in self.instruments:
            ccy = _instrument_currency(inst)
            fx = self.state.fx[ccy] if ccy is not None else 1.0
            for name, value in inst.sensitivities(self.state).items():
                out[name] += fx * value
            if ccy is not None:
                out[_factor("fx", ccy)] += fx * float(inst.value(base)[0])
        return np.array([out[name] for name in self.factor_names])

    def pnl(self, scenarios: Scenarios) -> np.ndarray:
        """Full-revaluation P&L of each scenario (domestic currency)."""
        return self.value(scenarios.levels(self)) - self.base_value()

    def delta_pnl(self, scenarios: Scenarios) -> np.ndarray:
        """First-order (delta) P&L of each scenario: ``shocks @ sensitivities``."""
        return scenarios.aligned(self) @ self.sensitivities()


# ---------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenarios:
    """Factor shocks, one row per scenario (relative for stock/FX, absolute for rates).

    Attributes
    ----------
    factor_names : tuple of str
    shocks : ndarray (n, k)
    source : str
        How they were made (``"historical"``, ``"monte_carlo"`` ...).
    """

    factor_names: tuple[str, ...]
    shocks: np.ndarray = field(repr=False)
    source: str = "given"

    def __post_init__(self) -> None:
        if self.shocks.ndim != 2 or self.shocks.shape[1] != len(self.factor_names):
            raise ValueError(
                f"shocks must be (n, {len(self.factor_names)}); got {self.shocks.shape}."
            )
        if self.shocks.shape[0] == 0:
            raise DataError("scenarios are empty.")
        if not np.all(np.isfinite(self.shocks)):
            raise DataError("scenario shocks contain NaN or infinite values.")

    def __len__(self) -> int:
        return int(self.shocks.shape[0])

    def aligned(self, book: Book) -> np.ndarray:
        """Shocks with columns in ``book.factor_names`` order."""
        missing = [f for f in book.factor_names if f not in self.factor_names]
        if missing:
            raise ValueError(f"scenarios lack the book's factors {missing}.")
        cols = [self.factor_names.index(f) for f in book.factor_names]
        return self.shocks[:, cols]

    def levels(self, book: Book) -> np.ndarray:
        """Factor levels after the shocks, in ``book.factor_names`` order."""
        shocks = self.aligned(book)
        base = book.base_levels()
        relative = np.array([not f.startswith("rate:") for f in book.factor_names])
        return np.where(relative, base * (1.0 + shocks), base + shocks)


def _shocks_from_history(history: pd.DataFrame, names: tuple[str, ...], horizon: int) -> np.ndarray:
    missing = [n for n in names if n not in history.columns]
    if missing:
        raise SchemaError(
            f"history: expected factor columns {missing} are missing; found "
            f"{list(history.columns)}."
        )
    levels = history[list(names)].to_numpy(dtype=float)
    if np.isnan(levels).any():
        row, col = np.argwhere(np.isnan(levels))[0]
        raise DataError(
            f"history contains {int(np.isnan(levels).sum())} NaN values (first at "
            f"{history.index[row]}, column {names[col]!r}); drop or fill them first."
        )
    if levels.shape[0] <= horizon:
        raise DataError(f"history has {levels.shape[0]} rows; need more than horizon={horizon}.")
    relative = np.array([not n.startswith("rate:") for n in names])
    if np.any(levels[:, relative] <= 0.0):
        raise DataError("stock prices and FX rates in history must be positive.")
    now, before = levels[horizon:], levels[:-horizon]
    return np.where(relative, now / np.where(relative, before, 1.0) - 1.0, now - before)


def generate_scenarios(
    book: Book,
    history: pd.DataFrame,
    method: Literal["historical", "monte_carlo"] = "historical",
    *,
    horizon: int = 1,
    n_scenarios: int | None = None,
    dof: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> Scenarios:
    """Scenarios of factor moves from history or simulated from its covariance.

    Parameters
    ----------
    book : Book
        Decides the factors (``book.factor_names``).
    history : DataFrame
        Factor *levels*, oldest first, one column per factor name (yields as fractions).
    method : {"historical", "monte_carlo"}, default "historical"
        ``historical``: the observed ``horizon``-period changes (overlapping), the most
        recent ``n_scenarios`` of them when given; ``monte_carlo``: ``n_scenarios`` draws
        (default 10,000) from a multivariate normal -- or Student t with ``dof``, scaled to
        the same covariance -- with the mean and covariance of the historical changes.
    horizon : int, default 1
        Periods per change (days for daily history).
    n_scenarios : int, optional
    dof : float, optional
        Degrees of freedom (> 2) of a multivariate t for ``monte_carlo``.
    random_state : int or Generator, optional

    Returns
    -------
    Scenarios

    Raises
    ------
    SchemaError
        A factor column is missing.
    DataError
        NaN levels, non-positive prices, too short a history.
    ValueError
        Unknown method, bad ``n_scenarios`` or ``dof``.

    Notes
    -----
    Stocks and FX: :math:`x_t = P_t/P_{t-h} - 1`; rates: :math:`\\Delta y_t = y_t - y_{t-h}`.
    """
    if method not in ("historical", "monte_carlo"):
        raise ValueError(f"unknown method {method!r}; choose one of historical, monte_carlo")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer; got {horizon!r}.")
    if n_scenarios is not None and (not isinstance(n_scenarios, int) or n_scenarios < 1):
        raise ValueError(f"n_scenarios must be a positive integer; got {n_scenarios!r}.")
    names = book.factor_names
    shocks = _shocks_from_history(history, names, horizon)
    if method == "historical":
        if n_scenarios is not None:
            shocks = shocks[-n_scenarios:]
        return Scenarios(names, shocks, f"historical (h={horizon})")
    n = 10_000 if n_scenarios is None else n_scenarios
    rng = np.random.default_rng(random_state)
    mean = shocks.mean(axis=0)
    cov = np.atleast_2d(np.cov(shocks, rowvar=False))
    vals, vecs = np.linalg.eigh(cov)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    z = rng.standard_normal((n, len(names))) @ root.T
    if dof is not None:
        if not dof > 2.0:
            raise ValueError(f"dof must be > 2 (a finite variance); got {dof}.")
        z *= np.sqrt((dof - 2.0) / rng.chisquare(dof, size=(n, 1)))
    return Scenarios(names, mean + z, f"monte_carlo (h={horizon})")


# ---------------------------------------------------------------------------------------
# VaR of the book
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRisk:
    """VaR and ES of a book (domestic currency, losses positive).

    Attributes
    ----------
    var, es : float
    method : str
        ``"full_revaluation"`` or ``"delta_normal"``.
    level : float
    n_scenarios : int
    base_value : float
    """

    var: float
    es: float
    method: str
    level: float
    n_scenarios: int
    base_value: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def _tail(pnl: np.ndarray, level: float, quantile_method: str = "linear") -> tuple[float, float]:
    """VaR (empirical quantile, module :mod:`riskmoe.risk.market` convention) and ES."""
    alpha = 1.0 - level
    q = float(np.quantile(pnl, alpha, method=quantile_method))  # type: ignore[call-overload]
    ordered = np.sort(pnl)
    k = ordered.size * alpha
    m = min(int(math.floor(k + 1e-9)), ordered.size - 1)
    es = -(ordered[:m].sum() + (k - m) * ordered[m]) / k
    return -q, float(es)


def full_revaluation_var(
    book: Book, scenarios: Scenarios, level: float = 0.99, quantile_method: str = "linear"
) -> BookRisk:
    """VaR and ES from revaluing the whole book under every scenario.

    Parameters
    ----------
    book : Book
    scenarios : Scenarios
    level : float, default 0.99
    quantile_method : str, default "linear"
        :func:`numpy.quantile` method (see :mod:`riskmoe.risk.market`).

    Returns
    -------
    BookRisk

    Notes
    -----
    :math:`VaR = -Q_{1-level}(V(f + \\Delta f_i) - V(f))`; ES is the Acerbi-Tasche tail
    mean of the same P&L sample.

    References
    ----------
    Hull, J. C. *Risk Management and Financial Institutions*, ch. 14 (model-building
    versus full revaluation).
    """
    level = _check_level(level)
    var, es = _tail(book.pnl(scenarios), level, quantile_method)
    return BookRisk(var, es, "full_revaluation", level, len(scenarios), book.base_value())


def delta_normal_var(book: Book, scenarios: Scenarios, level: float = 0.99) -> BookRisk:
    """Delta-normal VaR: first-order sensitivities and the scenarios' covariance.

    Parameters
    ----------
    book : Book
    scenarios : Scenarios
        Supply the mean and covariance of the factor shocks.
    level : float, default 0.99

    Returns
    -------
    BookRisk

    Notes
    -----
    With sensitivities ``g`` (:meth:`Book.sensitivities`) and the shocks' sample mean
    :math:`\\mu` and covariance :math:`\\Sigma`:
    :math:`VaR = z_{level}\\sqrt{g^\\top\\Sigma g} - g^\\top\\mu`,
    :math:`ES = \\varphi(z_{level})/(1-level)\\sqrt{g^\\top\\Sigma g} - g^\\top\\mu`.
    Exact for a linear book with normal shocks; misses convexity (gamma) otherwise.

    References
    ----------
    J.P. Morgan/Reuters (1996). *RiskMetrics -- Technical Document*; Hull, *Risk Management
    and Financial Institutions*, ch. 14.
    """
    level = _check_level(level)
    g = book.sensitivities()
    shocks = scenarios.aligned(book)
    mu = float(shocks.mean(axis=0) @ g)
    cov = np.atleast_2d(np.cov(shocks, rowvar=False))
    sd = math.sqrt(max(float(g @ cov @ g), 0.0))
    z = float(stats.norm.ppf(level))
    var = sd * z - mu
    es = sd * float(stats.norm.pdf(z)) / (1.0 - level) - mu
    return BookRisk(var, es, "delta_normal", level, len(scenarios), book.base_value())


# ---------------------------------------------------------------------------------------
# Surrogate hook
# ---------------------------------------------------------------------------------------


class Regressor(Protocol):
    """Anything with scikit-learn's regressor methods."""

    def fit(self, X: Any, y: Any) -> Any: ...

    def predict(self, X: Any) -> Any: ...


@dataclass(frozen=True)
class SurrogateResult:
    """A surrogate model's VaR against full revaluation on the same scenarios.

    Attributes
    ----------
    surrogate_var, full_var : float
        VaR from predicted and from fully revalued P&L (domestic currency).
    surrogate_es, full_es : float
    var_error : float
        ``surrogate_var - full_var``.
    var_relative_error : float
        ``var_error / full_var``.
    pnl_rmse : float
        Root mean squared P&L prediction error over all evaluation scenarios.
    tail_rmse : float
        The same over the scenarios in the full-revaluation tail (loss >= full VaR).
    n_fit, n_scenarios : int
    fit_revaluation_seconds, fit_seconds, full_seconds, predict_seconds : float
        Wall times (``time.perf_counter``): revaluing the training scenarios, training,
        revaluing the evaluation scenarios, predicting them.
    speedup : float
        ``full_seconds / predict_seconds`` -- the per-run gain once the model is trained.
    level : float
    """

    surrogate_var: float
    full_var: float
    surrogate_es: float
    full_es: float
    var_error: float
    var_relative_error: float
    pnl_rmse: float
    tail_rmse: float
    n_fit: int
    n_scenarios: int
    fit_revaluation_seconds: float
    fit_seconds: float
    full_seconds: float
    predict_seconds: float
    speedup: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def surrogate_var(
    book: Book,
    scenarios: Scenarios,
    fit_scenarios: Scenarios,
    model: Regressor,
    level: float = 0.99,
) -> SurrogateResult:
    """VaR from a regressor trained on full revaluations, compared with full revaluation.

    Parameters
    ----------
    book : Book
    scenarios : Scenarios
        Evaluation scenarios: the VaR is computed on them, both ways.
    fit_scenarios : Scenarios
        Training scenarios, revalued in full to make the targets.
    model : regressor
        Any object with ``fit(X, y)`` and ``predict(X)`` (scikit-learn API). It is fitted
        in place on ``X`` = factor shocks (``book.factor_names`` order) and ``y`` = full
        revaluation P&L. Wrap it in a pipeline if it needs scaled inputs.
    level : float, default 0.99

    Returns
    -------
    SurrogateResult

    Raises
    ------
    ValueError
        For a bad level or scenarios without the book's factors, or predictions of the
        wrong shape.

    Notes
    -----
    The surrogate is only as good as its coverage of the tail: training scenarios should
    span the evaluation scenarios' range (e.g. simulated with fatter tails). Timings
    include Python overhead of both paths and are for comparison, not for tests.
    """
    level = _check_level(level)
    x_fit = fit_scenarios.aligned(book)
    x_eval = scenarios.aligned(book)
    t0 = time.perf_counter()
    y_fit = book.pnl(fit_scenarios)
    t1 = time.perf_counter()
    model.fit(x_fit, y_fit)
    t2 = time.perf_counter()
    full = book.pnl(scenarios)
    t3 = time.perf_counter()
    predicted = np.asarray(model.predict(x_eval), dtype=float).reshape(-1)
    t4 = time.perf_counter()
    if predicted.shape != full.shape:
        raise ValueError(
            f"model.predict returned {predicted.size} values for {full.size} scenarios."
        )
    full_var, full_es = _tail(full, level)
    sur_var, sur_es = _tail(predicted, level)
    tail = -full >= full_var
    err = predicted - full
    return SurrogateResult(
        surrogate_var=sur_var,
        full_var=full_var,
        surrogate_es=sur_es,
        full_es=full_es,
        var_error=sur_var - full_var,
        var_relative_error=(sur_var - full_var) / full_var if full_var != 0 else math.nan,
        pnl_rmse=float(np.sqrt(np.mean(err**2))),
        tail_rmse=float(np.sqrt(np.mean(err[tail] ** 2))),
        n_fit=len(fit_scenarios),
        n_scenarios=len(scenarios),
        fit_revaluation_seconds=t1 - t0,
        fit_seconds=t2 - t1,
        full_seconds=t3 - t2,
        predict_seconds=t4 - t3,
        speedup=(t3 - t2) / max(t4 - t3, 1e-12),
        level=level,
    )
