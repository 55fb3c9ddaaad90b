"""Risk-adjusted return and risk-based loan pricing (RAROC, break-even rate, pricing by grade).

A loan earns its rate on the exposure, pays funding, operating cost and its expected loss,
and ties up economic capital that itself earns a (risk-free) return. RAROC is the net
income over that capital; the break-even rate is the rate at which RAROC equals a hurdle.
Priced from the model, the expected loss is ``PD x LGD`` and the capital is the Basel IRB
charge :math:`K` of the PD (:func:`riskmoe.risk.irb_risk_weight` ``x 8%``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk import ASSET_CLASSES, CAPITAL_RATIO, MasterScale, irb_risk_weight

__all__ = [
    "PricingTerms",
    "RarocResult",
    "break_even_rate",
    "price_by_grade",
    "price_exposures",
    "raroc",
]


def _finite(
    value: float,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number; got {value!r}.") from exc
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if low is not None and (x < low or (low_open and x == low)):
        bound = ">" if low_open else ">="
        raise ValueError(f"{name} must be {bound} {low:g}; got {x:g}.")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high:g}; got {x:g}.")
    return x


@dataclass(frozen=True)
class RarocResult:
    """The income statement of one loan and its RAROC (amounts in the exposure's currency).

    Attributes
    ----------
    exposure, rate : float
    revenue, funding_cost, expected_loss, operating_cost, capital_return : float
        Interest earned; funding paid on the full exposure; expected loss; operating
        cost; return earned on the economic capital held.
    economic_capital : float
        ``capital_ratio x exposure``.
    net_income : float
        After tax.
    raroc : float
        ``net_income / economic_capital``.
    """

    exposure: float
    rate: float
    revenue: float
    funding_cost: float
    expected_loss: float
    operating_cost: float
    capital_return: float
    economic_capital: float
    tax: float
    net_income: float
    raroc: float

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form."""
        return {k: float(v) for k, v in self.__dict__.items()}


def _check_terms(
    funding_rate: float,
    expected_loss_rate: float,
    operating_cost_rate: float,
    capital_ratio: float,
    capital_return_rate: float,
    tax_rate: float,
) -> tuple[float, float, float, float, float, float]:
    return (
        _finite(funding_rate, "funding_rate", low=-1.0, high=1.0),
        _finite(expected_loss_rate, "expected_loss_rate", low=0.0, high=1.0),
        _finite(operating_cost_rate, "operating_cost_rate", low=0.0, high=1.0),
        _finite(capital_ratio, "capital_ratio", low=0.0, high=1.0, low_open=True),
        _finite(capital_return_rate, "capital_return_rate", low=-1.0, high=1.0),
        _finite(tax_rate, "tax_rate", low=0.0, high=1.0),
    )


def raroc(
    exposure: float,
    rate: float,
    funding_rate: float,
    expected_loss_rate: float,
    operating_cost_rate: float,
    capital_ratio: float,
    capital_return_rate: float = 0.0,
    tax_rate: float = 0.0,
) -> RarocResult:
    """Risk-adjusted return on (economic) capital of one loan.

    Parameters
    ----------
    exposure : float
        Amount lent (> 0).
    rate : float
        Interest rate charged, per year.
    funding_rate : float
        Cost of funds, charged on the full exposure.
    expected_loss_rate : float
        Expected loss over exposure (``PD x LGD``), in ``[0, 1]``.
    operating_cost_rate : float
        Operating cost over exposure, in ``[0, 1]``.
    capital_ratio : float
        Economic capital over exposure, in ``(0, 1]``.
    capital_return_rate : float, default 0
        What the capital held earns (invested at the risk-free rate).
    tax_rate : float, default 0
        Tax on the pre-tax income, in ``[0, 1]``.

    Returns
    -------
    RarocResult

    Raises
    ------
    DataError
        A negative or zero exposure.
    ValueError
        Rates that are not finite or out of range.

    Notes
    -----
    .. math::

        \\text{RAROC} = \\frac{(r - f - EL - OC + c\\,r_c)\\,(1 - t)}{c}

    with every rate taken on the exposure and :math:`c` the capital ratio.

    Examples
    --------
    3m lent at 4 %, funded at 1.5 %, EL 1 %, operating cost 1 %, capital 8 % earning 3 %:

    >>> round(raroc(3e6, 0.04, 0.015, 0.01, 0.01, 0.08, 0.03).raroc, 4)
    0.0925
    """
    e = _finite(exposure, "exposure")
    if e <= 0:
        raise DataError(f"exposure must be > 0 to price a loan; got {e:g}.")
    r = _finite(rate, "rate", low=-1.0, high=1.0)
    f, el, oc, c, rc, t = _check_terms(
        funding_rate,
        expected_loss_rate,
        operating_cost_rate,
        capital_ratio,
        capital_return_rate,
        tax_rate,
    )
    capital = c * e
    pre_tax = (r - f - el - oc) * e + rc * capital
    tax = max(pre_tax, 0.0) * t
    net = pre_tax - tax
    return RarocResult(
        exposure=e,
        rate=r,
        revenue=r * e,
        funding_cost=f * e,
        expected_loss=el * e,
        operating_cost=oc * e,
        capital_return=rc * capital,
        economic_capital=capital,
        tax=tax,
        net_income=net,
        raroc=net / capital,
    )


def break_even_rate(
    hurdle: float,
    funding_rate: float,
    expected_loss_rate: Any,
    operating_cost_rate: float,
    capital_ratio: Any,
    capital_return_rate: float = 0.0,
    tax_rate: float = 0.0,
) -> Any:
    """The rate at which RAROC equals ``hurdle`` (vectorised over EL rate and capital).

    Parameters
    ----------
    hurdle : float
        Required RAROC (after tax).
    funding_rate, operating_cost_rate, capital_return_rate, tax_rate : float
        As in :func:`raroc`.
    expected_loss_rate, capital_ratio : float or array-like
        Per loan; arrays broadcast.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    ValueError
        Out-of-range inputs, or ``tax_rate == 1`` with a positive hurdle (no rate earns it).

    Notes
    -----
    Solving :func:`raroc` for :math:`r` at a positive pre-tax income:

    .. math:: r^* = f + EL + OC + c\\left(\\frac{h}{1 - t} - r_c\\right)

    The last term is the capital charge at the hurdle.

    Examples
    --------
    >>> round(break_even_rate(0.15, 0.015, 0.01, 0.01, 0.08, 0.03), 4)
    0.0446
    """
    h = _finite(hurdle, "hurdle", low=-1.0, high=10.0)
    f = _finite(funding_rate, "funding_rate", low=-1.0, high=1.0)
    oc = _finite(operating_cost_rate, "operating_cost_rate", low=0.0, high=1.0)
    rc = _finite(capital_return_rate, "capital_return_rate", low=-1.0, high=1.0)
    t = _finite(tax_rate, "tax_rate", low=0.0, high=1.0)
    if t == 1.0 and h > 0:
        raise ValueError(
            "tax_rate = 1 leaves no after-tax income: no rate reaches a positive hurdle."
        )
    el = np.asarray(expected_loss_rate, dtype=float)
    c = np.asarray(capital_ratio, dtype=float)
    if not np.all(np.isfinite(el)) or np.any((el < 0) | (el > 1)):
        raise ValueError("expected_loss_rate must be finite and in [0, 1].")
    if not np.all(np.isfinite(c)) or np.any((c < 0) | (c > 1)):
        raise ValueError("capital_ratio must be finite and in [0, 1].")
    gross_up = h / (1.0 - t) if h > 0 else h
    out = f + el + oc + c * (gross_up - rc)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class PricingTerms:
    """What a loan costs besides its risk: funding, operations, the hurdle and capital rules.

    Parameters
    ----------
    funding_rate : float, default 0.015
    operating_cost_rate : float, default 0.01
    hurdle : float, default 0.15
        Required RAROC.
    capital_return_rate : float, default 0.03
    tax_rate : float, default 0.0
    lgd : float, default 0.45
        Used when the exposures carry no ``lgd`` column (Basel foundation, senior unsecured).
    maturity : float, default 2.5
    asset_class : str, default "other_retail"
        Used when the exposures carry no ``asset_class`` column.
    capital_ratio : float, default 0.08
        Capital over RWA (so the capital per unit exposure is ``8% x RW = K``).
    """

    funding_rate: float = 0.015
    operating_cost_rate: float = 0.01
    hurdle: float = 0.15
    capital_return_rate: float = 0.03
    tax_rate: float = 0.0
    lgd: float = 0.45
    maturity: float = 2.5
    asset_class: str = "other_retail"
    capital_ratio: float = CAPITAL_RATIO

    def __post_init__(self) -> None:
        _check_terms(
            self.funding_rate,
            0.0,
            self.operating_cost_rate,
            self.capital_ratio,
            self.capital_return_rate,
            self.tax_rate,
        )
        _finite(self.hurdle, "hurdle", low=-1.0, high=10.0)
        _finite(self.lgd, "lgd", low=0.0, high=1.0)
        _finite(self.maturity, "maturity", low=0.0, low_open=True)
        if self.asset_class not in ASSET_CLASSES:
            raise ValueError(
                f"asset_class must be one of {list(ASSET_CLASSES)}; got {self.asset_class!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


def price_exposures(exposures: pd.DataFrame, terms: PricingTerms | None = None) -> pd.DataFrame:
    """Risk-based rate for each exposure: funding + operating cost + EL + capital charge.

    Parameters
    ----------
    exposures : pandas.DataFrame
        A ``pd`` column (in ``[0, 1]``); optional ``lgd``, ``maturity``, ``asset_class``
        (else ``terms``).
    terms : PricingTerms, optional

    Returns
    -------
    pandas.DataFrame
        The input with ``el_rate`` (PD x LGD), ``capital_ratio`` (IRB capital per unit
        exposure), ``capital_charge`` and ``rate`` (the break-even rate at the hurdle).

    Raises
    ------
    SchemaError
        No ``pd`` column.
    DataError
        PDs or LGDs outside ``[0, 1]`` or missing.

    Examples
    --------
    >>> priced = price_exposures(pd.DataFrame({"pd": [0.01, 0.05]}))
    >>> bool(priced["rate"].is_monotonic_increasing)
    True
    """
    terms = PricingTerms() if terms is None else terms
    if "pd" not in exposures:
        raise SchemaError(f"exposures needs a 'pd' column; columns: {list(exposures.columns)}.")
    if len(exposures) == 0:
        raise DataError("exposures is empty; nothing to price.")
    out = exposures.copy()
    p = pd.to_numeric(out["pd"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        pos = int(np.argmax(bad))
        raise DataError(
            f"exposures.pd must be in [0, 1]; got {_shown(out['pd'].iloc[pos])} at row {pos}."
        )
    lgd = (
        pd.to_numeric(out["lgd"], errors="coerce").to_numpy(dtype=float)
        if "lgd" in out
        else np.full(len(out), terms.lgd)
    )
    bad = ~np.isfinite(lgd) | (lgd < 0) | (lgd > 1)
    if bad.any():
        pos = int(np.argmax(bad))
        raise DataError(f"exposures.lgd must be in [0, 1]; got {_shown(lgd[pos])} at row {pos}.")
    maturity = (
        out["maturity"].to_numpy(dtype=float)
        if "maturity" in out
        else np.full(len(out), terms.maturity)
    )
    classes = (
        out["asset_class"].astype(str).to_numpy()
        if "asset_class" in out
        else np.full(len(out), terms.asset_class, dtype=object)
    )
    cap = np.zeros(len(out))
    for asset_class in ASSET_CLASSES:
        rows = classes == asset_class
        if rows.any():
            cap[rows] = terms.capital_ratio * irb_risk_weight(
                p[rows], lgd[rows], maturity[rows], asset_class
            )
    unknown = ~np.isin(classes, np.asarray(ASSET_CLASSES, dtype=object))
    if unknown.any():
        pos = int(np.argmax(unknown))
        raise DataError(
            f"exposures.asset_class must be one of {list(ASSET_CLASSES)}; got {classes[pos]!r} "
            f"at row {pos}."
        )
    cap = np.minimum(cap, 1.0)
    el_rate = p * lgd
    base = break_even_rate(
        terms.hurdle,
        terms.funding_rate,
        el_rate,
        terms.operating_cost_rate,
        cap,
        terms.capital_return_rate,
        terms.tax_rate,
    )
    out["el_rate"] = el_rate
    out["capital_ratio"] = cap
    out["capital_charge"] = (
        np.asarray(base) - terms.funding_rate - terms.operating_cost_rate - el_rate
    )
    out["rate"] = base
    return out


def price_by_grade(
    exposures: pd.DataFrame,
    terms: PricingTerms | None = None,
    *,
    scale: MasterScale | None = None,
) -> pd.DataFrame:
    """Pricing table by master-scale grade.

    Each grade is priced at its EAD-weighted mean PD (equal weights without ``ead``); the
    table also shows the spread of applicant rates within the grade.

    Parameters
    ----------
    exposures : pandas.DataFrame
        ``pd`` and optionally ``grade`` (else graded by ``scale``), ``ead``, ``lgd``,
        ``maturity``, ``asset_class``.
    terms : PricingTerms, optional
    scale : MasterScale, optional

    Returns
    -------
    pandas.DataFrame
        One row per grade (best first): ``grade``, ``tier``, ``n``, ``ead``, ``pd``,
        ``el_rate``, ``capital_ratio``, ``capital_charge``, ``rate``, ``rate_min``,
        ``rate_max``.

    Examples
    --------
    >>> book = pd.DataFrame({"pd": [0.001, 0.002, 0.05, 0.06]})
    >>> price_by_grade(book)[["grade", "n"]].values.tolist()
    [[3, 1], [4, 1], [7, 2]]
    """
    terms = PricingTerms() if terms is None else terms
    scale = MasterScale() if scale is None else scale
    priced = price_exposures(exposures, terms)
    if "grade" not in priced:
        priced["grade"] = scale.grade(priced["pd"].to_numpy(dtype=float))
    weight = priced["ead"].to_numpy(dtype=float) if "ead" in priced else np.ones(len(priced))
    if np.any(~np.isfinite(weight)) or np.any(weight < 0):
        raise DataError("exposures.ead must be finite and >= 0 (a negative exposure has no price).")
    priced = priced.assign(_w=weight, _wpd=weight * priced["pd"].to_numpy(dtype=float))
    rows = []
    for grade, g in priced.groupby(priced["grade"].astype(str), sort=False):
        total = float(g["_w"].sum())
        mean_pd = float(g["_wpd"].sum() / total) if total > 0 else float(g["pd"].mean())
        one = {"pd": mean_pd}
        for col in ("lgd", "maturity", "asset_class"):
            if col in g:
                one[col] = g[col].iloc[0] if col == "asset_class" else float(g[col].mean())
        at_mean = price_exposures(pd.DataFrame([one]), terms).iloc[0]
        rows.append(
            {
                "grade": grade,
                "tier": scale.tier_of_grade(grade),
                "n": len(g),
                "ead": total,
                "pd": mean_pd,
                "el_rate": float(at_mean["el_rate"]),
                "capital_ratio": float(at_mean["capital_ratio"]),
                "capital_charge": float(at_mean["capital_charge"]),
                "rate": float(at_mean["rate"]),
                "rate_min": float(g["rate"].min()),
                "rate_max": float(g["rate"].max()),
            }
        )
    table = pd.DataFrame(rows)
    order = [_grade_key(g, scale.n_grades) for g in table["grade"]]
    table = table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    table["grade"] = [int(g) if str(g).isdigit() else g for g in table["grade"]]
    return table


def _shown(value: Any) -> str:
    """A cell value for an error message: numbers as ``1.5``, anything else as its repr."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def _grade_key(grade: Any, n_grades: int) -> int:
    text = str(grade).strip()
    return int(text) if text.isdigit() else n_grades + 1
