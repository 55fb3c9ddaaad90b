"""Credit risk: expected and unexpected loss, Basel II IRB risk weights, capital.

All functions are vectorised over numpy broadcasting (a scalar in gives a float out) and
validate their inputs first: a PD or LGD outside ``[0, 1]``, a negative EAD or a NaN
anywhere is a :class:`~riskmoe.exceptions.DataError` naming the position.

=================================  =====================================================
expected loss                      :func:`expected_loss`  (EL = PD x LGD x EAD)
unexpected loss (loss std. dev.)   :func:`unexpected_loss`
IRB asset correlation              :func:`irb_correlation`
IRB capital requirement K          :func:`irb_capital_requirement`
IRB risk weight (K x 12.5)         :func:`irb_risk_weight`
RWA and capital                    :func:`rwa`, :func:`capital`
portfolio by grade and segment     :func:`credit_portfolio_summary`
=================================  =====================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from riskmoe.exceptions import DataError
from riskmoe.risk.grading import (
    BASEL_PD_FLOOR,
    DEFAULT_GRADE,
    MasterScale,
    _float_array,
    _in_range,
    _normalise_grades,
    _probability_array,
    _require_columns,
    _to_builtin,
)

__all__ = [
    "ASSET_CLASSES",
    "BASEL_PD_FLOOR",
    "CAPITAL_RATIO",
    "IRB_SCALING_FACTOR",
    "AssetClass",
    "CreditPortfolioSummary",
    "capital",
    "credit_portfolio_summary",
    "expected_loss",
    "irb_capital_requirement",
    "irb_correlation",
    "irb_risk_weight",
    "rwa",
    "unexpected_loss",
]

AssetClass = Literal["corporate", "mortgage", "qrre", "other_retail"]
#: IRB asset classes: corporate (incl. SME firm-size adjustment), residential mortgage,
#: qualifying revolving retail, other retail.
ASSET_CLASSES: tuple[AssetClass, ...] = get_args(AssetClass)

#: Basel II scaling factor applied to IRB credit RWA (para 44); the Annex 5 tables omit it.
IRB_SCALING_FACTOR = 1.06

#: Minimum total capital ratio (Basel II para 40): capital = 8 % of RWA.
CAPITAL_RATIO = 0.08

_CONFIDENCE = 0.999  # IRB confidence level (BCBS 2005, section 4.1)
_MIN_PD_FLOOR = 1e-5  # below ~2.9e-6 the maturity factor (1 - 1.5 b) turns negative


def _result(values: np.ndarray, scalar: bool) -> Any:
    return float(values) if scalar else values


def _broadcast(names: Sequence[str], *arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return [np.asarray(a) for a in np.broadcast_arrays(*arrays)]
    except ValueError as exc:
        shapes = ", ".join(f"{n} {np.shape(a)}" for n, a in zip(names, arrays, strict=True))
        raise DataError(f"{', '.join(names)} cannot be broadcast together: {shapes}.") from exc


def _nonnegative(values: Any, name: str) -> np.ndarray:
    arr = _float_array(values, name)
    _in_range(arr, name, 0.0, math.inf)
    finite = np.isfinite(arr.ravel())
    if not finite.all():
        pos = int(np.argmin(finite))
        raise DataError(f"{name} must be finite; got {arr.ravel()[pos]:g} at position {pos}.")
    return arr


def _check_asset_class(asset_class: Any) -> AssetClass:
    for known in ASSET_CLASSES:
        if asset_class == known:
            return known
    raise ValueError(f"asset_class must be one of {list(ASSET_CLASSES)}; got {asset_class!r}.")


def _check_pd_floor(pd_floor: float) -> float:
    if not (_MIN_PD_FLOOR <= pd_floor < 1.0):  # also refuses NaN
        raise ValueError(
            f"pd_floor must be in [{_MIN_PD_FLOOR:g}, 1); got {pd_floor!r} (below that the "
            "maturity adjustment 1 - 1.5 b turns negative)."
        )
    return float(pd_floor)


# ---------------------------------------------------------------------------------------
# Expected and unexpected loss
# ---------------------------------------------------------------------------------------


def expected_loss(pd: Any, lgd: Any, ead: Any) -> Any:
    """Expected loss ``EL = PD x LGD x EAD``.

    Parameters
    ----------
    pd : float or array-like
        Probability of default over the horizon, in ``[0, 1]``.
    lgd : float or array-like
        Loss given default as a fraction of EAD, in ``[0, 1]``.
    ead : float or array-like
        Exposure at default (currency), finite and ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        EL in the currency of ``ead``; broadcast over the inputs.

    Raises
    ------
    DataError
        NaN, PD or LGD outside ``[0, 1]``, negative or infinite EAD, or shapes that do not
        broadcast.

    Notes
    -----
    .. math:: EL = PD \\cdot LGD \\cdot EAD

    References
    ----------
    .. [1] Basel Committee on Banking Supervision (2005), *An Explanatory Note on the
       Basel II IRB Risk Weight Functions*, section 3 (expected and unexpected loss).

    Examples
    --------
    >>> round(expected_loss(0.02, 0.45, 1_000_000), 6)
    9000.0
    >>> expected_loss([0.01, 0.05], 0.5, [100.0, 200.0]).tolist()
    [0.5, 5.0]
    """
    p = _probability_array(pd, "pd")
    g = _probability_array(lgd, "lgd")
    e = _nonnegative(ead, "ead")
    p, g, e = _broadcast(("pd", "lgd", "ead"), p, g, e)
    return _result(p * g * e, p.ndim == 0)


def unexpected_loss(pd: Any, lgd: Any, ead: Any, lgd_volatility: Any = 0.0) -> Any:
    """Stand-alone unexpected loss: the standard deviation of the loss of one exposure.

    Parameters
    ----------
    pd, lgd, ead : float or array-like
        As in :func:`expected_loss`.
    lgd_volatility : float or array-like, default 0
        Standard deviation of the LGD (severity), ``>= 0``; 0 treats LGD as known.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    With default indicator :math:`L \\sim \\mathrm{Bernoulli}(PD)` independent of the
    severity (mean :math:`LGD`, variance :math:`\\sigma^2_{LGD}`):

    .. math:: UL = EAD \\sqrt{PD\\,\\sigma^2_{LGD} + LGD^2\\, PD (1 - PD)}

    Stand-alone ULs of a portfolio add up to an upper bound of its loss volatility
    (reached with perfectly correlated defaults). This is a loss volatility, not the
    99.9 % IRB capital (that is :func:`irb_capital_requirement` x EAD).

    References
    ----------
    .. [1] Bluhm, C., Overbeck, L. and Wagner, C. (2003), *An Introduction to Credit Risk
       Modeling*, Chapman & Hall/CRC, section 1.2 (unexpected loss).
    .. [2] Ong, M. K. (1999), *Internal Credit Risk Models*, Risk Books.

    Examples
    --------
    >>> round(unexpected_loss(0.01, 0.5, 100.0), 6)  # 100 * 0.5 * sqrt(0.01 * 0.99)
    4.974937
    """
    p = _probability_array(pd, "pd")
    g = _probability_array(lgd, "lgd")
    e = _nonnegative(ead, "ead")
    s = _nonnegative(lgd_volatility, "lgd_volatility")
    p, g, e, s = _broadcast(("pd", "lgd", "ead", "lgd_volatility"), p, g, e, s)
    return _result(e * np.sqrt(p * s**2 + g**2 * p * (1.0 - p)), p.ndim == 0)


# ---------------------------------------------------------------------------------------
# Basel II IRB
# ---------------------------------------------------------------------------------------


def _sme_adjustment(sales_eur_m: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``0.04 (1 - (S - 5)/45)`` with S clipped to [5, 50]; NaN sales -> no adjustment."""
    if sales_eur_m is None:
        return np.zeros(shape)
    if isinstance(sales_eur_m, pd.Series | pd.Index):
        sales = sales_eur_m.to_numpy(dtype=float, na_value=np.nan)
    else:
        sales = np.asarray(sales_eur_m)
        if sales.dtype.kind not in "iuf":
            raise DataError(f"sales_eur_m must be numeric; got dtype {sales.dtype}.")
        sales = sales.astype(float)
    given = ~np.isnan(sales)
    if (sales[given] < 0).any():
        flat = np.where(given, sales, 0.0).ravel()
        pos = int(np.argmax(flat < 0))
        raise DataError(f"sales_eur_m must be >= 0; got {flat[pos]:g} at position {pos}.")
    s = np.clip(np.where(given, sales, 50.0), 5.0, 50.0)
    return 0.04 * (1.0 - (s - 5.0) / 45.0)


def _correlation(p: np.ndarray, asset_class: str, sme: np.ndarray) -> np.ndarray:
    if asset_class == "corporate":
        w = (1.0 - np.exp(-50.0 * p)) / (1.0 - math.exp(-50.0))
        return 0.12 * w + 0.24 * (1.0 - w) - sme
    if asset_class == "mortgage":
        return np.full_like(p, 0.15)
    if asset_class == "qrre":
        return np.full_like(p, 0.04)
    w = (1.0 - np.exp(-35.0 * p)) / (1.0 - math.exp(-35.0))
    return 0.03 * w + 0.16 * (1.0 - w)


def irb_correlation(
    pd: Any,
    asset_class: AssetClass = "corporate",
    sales_eur_m: Any = None,
    *,
    pd_floor: float = BASEL_PD_FLOOR,
) -> Any:
    """Asset correlation :math:`R` of the Basel II IRB risk-weight functions.

    Parameters
    ----------
    pd : float or array-like
        PDs in ``[0, 1]``; floored at ``pd_floor`` first.
    asset_class : {"corporate", "mortgage", "qrre", "other_retail"}
    sales_eur_m : float or array-like, optional
        Annual sales in EUR millions for the SME firm-size adjustment (corporate only);
        NaN means "not reported" (no adjustment).
    pd_floor : float, default 0.0003

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    See :func:`irb_capital_requirement` for the formulas.

    Examples
    --------
    >>> round(irb_correlation(0.01), 6), irb_correlation(0.01, "qrre")
    (0.192784, 0.04)
    """
    asset_class = _check_asset_class(asset_class)
    floor = _check_pd_floor(pd_floor)
    p = np.maximum(_probability_array(pd, "pd"), floor)
    if sales_eur_m is not None and asset_class != "corporate":
        raise ValueError(
            f"sales_eur_m applies to corporate exposures only; got asset_class={asset_class!r}."
        )
    sme = _sme_adjustment(sales_eur_m, p.shape)
    p, sme = _broadcast(("pd", "sales_eur_m"), p, sme)
    return _result(_correlation(p, asset_class, sme), p.ndim == 0)


def irb_capital_requirement(
    pd: Any,
    lgd: Any = 0.45,
    maturity: Any = 2.5,
    asset_class: AssetClass = "corporate",
    sales_eur_m: Any = None,
    *,
    pd_floor: float = BASEL_PD_FLOOR,
) -> Any:
    """Basel II IRB capital requirement :math:`K` per unit of EAD (unexpected loss at 99.9 %).

    Parameters
    ----------
    pd : float or array-like
        One-year PDs in ``[0, 1]``. PDs below ``pd_floor`` are raised to it (Basel II
        paras 285 and 331); a PD of 1 (defaulted) gives :math:`K = 0`.
    lgd : float or array-like, default 0.45
        Downturn LGD in ``[0, 1]`` (0.45 = foundation IRB senior unsecured, para 287).
    maturity : float or array-like, default 2.5
        Effective maturity in years, ``> 0``; clipped to ``[1, 5]`` (para 320). Used by the
        corporate class only: retail classes have no maturity adjustment.
    asset_class : {"corporate", "mortgage", "qrre", "other_retail"}, default "corporate"
    sales_eur_m : float or array-like, optional
        Annual sales (EUR millions) of the borrower's consolidated group for the SME
        firm-size adjustment (corporate only); clipped to ``[5, 50]``, no adjustment from
        50 up; NaN = not reported (no adjustment).
    pd_floor : float, default 0.0003
        The PD floor; 0.0005 is the Basel III (2017) corporate floor.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    ValueError
        Unknown ``asset_class``, ``sales_eur_m`` for a retail class, or a bad ``pd_floor``.
    DataError
        NaN, PD or LGD outside ``[0, 1]``, maturity ``<= 0``, negative sales, or shapes
        that do not broadcast.

    Notes
    -----
    With :math:`N` the standard normal CDF and :math:`G` its inverse (BCBS 2006, para 272
    for corporates, paras 328-330 for retail):

    .. math::

        K = \\left[LGD \\cdot N\\left(\\frac{G(PD) + \\sqrt{R}\\,G(0.999)}{\\sqrt{1-R}}\\right)
            - PD \\cdot LGD\\right] \\cdot MA

    Corporate: :math:`R = 0.12 w + 0.24 (1 - w) - 0.04 (1 - (S-5)/45)` with
    :math:`w = (1 - e^{-50 PD}) / (1 - e^{-50})` and the firm-size term only for
    :math:`S < 50` (para 273); :math:`MA = (1 + (M - 2.5) b) / (1 - 1.5 b)`,
    :math:`b = (0.11852 - 0.05478 \\ln PD)^2`.
    Residential mortgage: :math:`R = 0.15`; QRRE: :math:`R = 0.04`; other retail:
    :math:`R = 0.03 w + 0.16 (1 - w)`, :math:`w = (1 - e^{-35 PD}) / (1 - e^{-35})`;
    :math:`MA = 1` for the retail classes.

    The floor is always applied; it changes nothing in the Annex 5 tables, whose lowest
    PD is the floor itself (0.03 %). For a defaulted exposure Basel sets
    :math:`K = \\max(0, LGD - EL_{BE})`; the formula at PD = 1 gives 0, i.e. it assumes the
    best-estimate expected loss equals the LGD.

    References
    ----------
    .. [1] Basel Committee on Banking Supervision (2006), *International Convergence of
       Capital Measurement and Capital Standards: A Revised Framework -- Comprehensive
       Version*, paras 272-273, 285, 318-320, 328-331 and Annex 5.
    .. [2] Basel Committee on Banking Supervision (2005), *An Explanatory Note on the
       Basel II IRB Risk Weight Functions*.

    Examples
    --------
    >>> round(irb_capital_requirement(0.01), 6)
    0.073853
    """
    asset_class = _check_asset_class(asset_class)
    floor = _check_pd_floor(pd_floor)
    p = _probability_array(pd, "pd")
    g = _probability_array(lgd, "lgd")
    m = _float_array(maturity, "maturity")
    _in_range(m, "maturity", 0.0, math.inf, low_open=True)
    if sales_eur_m is not None and asset_class != "corporate":
        raise ValueError(
            f"sales_eur_m applies to corporate exposures only; got asset_class={asset_class!r}."
        )
    sme = _sme_adjustment(sales_eur_m, np.shape(sales_eur_m) if sales_eur_m is not None else ())
    p, g, m, sme = _broadcast(("pd", "lgd", "maturity", "sales_eur_m"), p, g, m, sme)
    scalar = p.ndim == 0
    p = np.maximum(p, floor)
    r = _correlation(p, asset_class, sme)
    conditional_pd = ndtr((ndtri(p) + np.sqrt(r) * ndtri(_CONFIDENCE)) / np.sqrt(1.0 - r))
    k = g * (conditional_pd - p)
    if asset_class == "corporate":
        b = (0.11852 - 0.05478 * np.log(p)) ** 2
        k = k * (1.0 + (np.clip(m, 1.0, 5.0) - 2.5) * b) / (1.0 - 1.5 * b)
    return _result(k, scalar)


def irb_risk_weight(
    pd: Any,
    lgd: Any = 0.45,
    maturity: Any = 2.5,
    asset_class: AssetClass = "corporate",
    sales_eur_m: Any = None,
    scaling: float = 1.0,
    *,
    pd_floor: float = BASEL_PD_FLOOR,
) -> Any:
    """Basel II IRB risk weight as a fraction: ``RW = K x 12.5 x scaling``.

    Parameters
    ----------
    pd, lgd, maturity, asset_class, sales_eur_m, pd_floor
        As in :func:`irb_capital_requirement`.
    scaling : float, default 1.0
        Multiplier on the risk weight: 1.0 reproduces the Basel II Annex 5 tables;
        :data:`IRB_SCALING_FACTOR` (1.06, para 44) gives the Basel II Pillar 1 figure.

    Returns
    -------
    float or numpy.ndarray
        1.0 means 100 %.

    Raises
    ------
    ValueError
        Unknown ``asset_class``, ``scaling`` not finite and positive, etc.
    DataError
        Bad PD / LGD / maturity / sales values.

    Notes
    -----
    .. math:: RW = 12.5 \\cdot K \\cdot \\text{scaling}, \\qquad RWA = RW \\cdot EAD

    12.5 is the reciprocal of the 8 % minimum capital ratio, so ``capital(rwa(...))``
    returns :math:`K \\cdot EAD \\cdot \\text{scaling}`.

    References
    ----------
    .. [1] BCBS (2006), *Basel II Comprehensive Version*, para 272 and Annex 5
       ("Illustrative IRB risk weights").

    Examples
    --------
    Annex 5, corporate, LGD 45 %, M = 2.5 years:

    >>> [round(100 * irb_risk_weight(p), 2) for p in (0.0003, 0.01, 0.03)]
    [14.44, 92.32, 128.44]
    """
    if not (math.isfinite(scaling) and scaling > 0):
        raise ValueError(f"scaling must be finite and > 0; got {scaling!r}.")
    k = irb_capital_requirement(
        pd, lgd, maturity, asset_class, sales_eur_m, pd_floor=pd_floor
    )
    return k * 12.5 * scaling


def rwa(ead: Any, risk_weight: Any) -> Any:
    """Risk-weighted assets ``RWA = EAD x RW``.

    Examples
    --------
    >>> rwa(1_000.0, 0.9232)
    923.2
    """
    e = _nonnegative(ead, "ead")
    w = _nonnegative(risk_weight, "risk_weight")
    e, w = _broadcast(("ead", "risk_weight"), e, w)
    return _result(e * w, e.ndim == 0)


def capital(rwa_: Any, ratio: float = CAPITAL_RATIO) -> Any:
    """Minimum capital ``ratio x RWA`` (8 % by default, Basel II para 40).

    Examples
    --------
    >>> capital(1_000.0)
    80.0
    """
    if not (math.isfinite(ratio) and 0 < ratio <= 1):
        raise ValueError(f"ratio must be in (0, 1]; got {ratio!r}.")
    r = _nonnegative(rwa_, "rwa")
    return _result(r * ratio, r.ndim == 0)


# ---------------------------------------------------------------------------------------
# Portfolio summary
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CreditPortfolioSummary:
    """EL, UL, RWA and capital of a credit portfolio, per exposure and by grade x segment.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per (grade, segment): ``grade``, ``segment``, ``n``, ``ead``, ``el``,
        ``ul``, ``rwa``, ``capital``, ``pd_ead_weighted``, ``el_rate`` (EL / EAD),
        ``rwa_density`` (RWA / EAD); best grade first.
    exposures : pandas.DataFrame
        The input rows with ``grade``, ``tier``, ``el``, ``ul``, ``risk_weight``, ``rwa``,
        ``capital`` added.
    totals : dict
        Portfolio ``n``, ``ead``, ``el``, ``ul`` (sum of stand-alone ULs: an upper bound),
        ``rwa``, ``capital``.
    scaling, capital_ratio, pd_floor : float
        The settings used.
    """

    frame: pd.DataFrame
    exposures: pd.DataFrame
    totals: dict[str, float] = field(default_factory=dict)
    scaling: float = 1.0
    capital_ratio: float = CAPITAL_RATIO
    pd_floor: float = BASEL_PD_FLOOR

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: settings, totals and the grade x segment rows (not exposures)."""
        return {
            "scaling": self.scaling,
            "capital_ratio": self.capital_ratio,
            "pd_floor": self.pd_floor,
            "totals": _to_builtin(self.totals),
            "by_grade_segment": _to_builtin(self.frame),
        }


def credit_portfolio_summary(
    exposures: pd.DataFrame,
    *,
    scale: MasterScale | None = None,
    scaling: float = 1.0,
    capital_ratio: float = CAPITAL_RATIO,
    pd_floor: float = BASEL_PD_FLOOR,
) -> CreditPortfolioSummary:
    """EL, stand-alone UL, IRB RWA and capital of a portfolio, by grade and segment.

    Parameters
    ----------
    exposures : pandas.DataFrame
        One row per exposure with ``pd``, ``lgd``, ``ead`` and optionally ``maturity``
        (default 2.5), ``asset_class`` (default ``"corporate"``), ``sales_eur_m`` (NaN =
        not SME), ``lgd_volatility`` (default 0), ``segment`` (default ``"all"``) and
        ``grade`` (default: graded from ``pd`` by ``scale``; ``"D"`` allowed).
    scale : MasterScale, optional
        Grades the PDs when ``grade`` is absent; :class:`MasterScale` defaults.
    scaling : float, default 1.0
        IRB scaling factor (1.06 for Basel II Pillar 1).
    capital_ratio : float, default 0.08
    pd_floor : float, default 0.0003

    Returns
    -------
    CreditPortfolioSummary

    Raises
    ------
    SchemaError
        Missing ``pd``, ``lgd`` or ``ead``.
    DataError
        An empty portfolio, bad values, unknown asset classes or grades.
    ValueError
        Bad settings.

    Notes
    -----
    Per exposure: :math:`EL = PD \\cdot LGD \\cdot EAD` (:func:`expected_loss`),
    :math:`UL` = :func:`unexpected_loss`, :math:`RWA = 12.5 K \\cdot scaling \\cdot EAD`
    (:func:`irb_risk_weight`), capital :math:`= ratio \\cdot RWA`. Grouped sums; the
    summed ULs ignore diversification (an upper bound of portfolio loss volatility).

    Examples
    --------
    >>> book = pd.DataFrame({"pd": [0.01, 0.03], "lgd": [0.45, 0.45], "ead": [100.0, 100.0],
    ...                      "segment": ["sme", "sme"]})
    >>> s = credit_portfolio_summary(book)
    >>> round(s.totals["el"], 4), round(s.totals["rwa"], 2)
    (1.8, 220.75)
    """
    _require_columns(exposures, ("pd", "lgd", "ead"), "exposures")
    if len(exposures) == 0:
        raise DataError("exposures is empty; a portfolio summary needs at least one row.")
    if not (math.isfinite(capital_ratio) and 0 < capital_ratio <= 1):
        raise ValueError(f"capital_ratio must be in (0, 1]; got {capital_ratio!r}.")
    scale = MasterScale() if scale is None else scale
    book = exposures.reset_index(drop=True)
    n = len(book)
    p = _probability_array(book["pd"], "exposures.pd")
    g = _probability_array(book["lgd"], "exposures.lgd")
    e = _nonnegative(book["ead"], "exposures.ead")
    m = (_float_array(book["maturity"], "exposures.maturity") if "maturity" in book
         else np.full(n, 2.5))
    vol = (_nonnegative(book["lgd_volatility"], "exposures.lgd_volatility")
           if "lgd_volatility" in book else np.zeros(n))
    if "asset_class" in book:
        classes = book["asset_class"].astype(object).to_numpy()
        unknown = ~np.isin(classes, np.asarray(ASSET_CLASSES, dtype=object))
        if unknown.any():
            pos = int(np.argmax(unknown))
            raise DataError(
                f"exposures.asset_class must be one of {list(ASSET_CLASSES)}; got "
                f"{classes[pos]!r} at row {pos}."
            )
    else:
        classes = np.full(n, "corporate", dtype=object)
    sales = (book["sales_eur_m"].to_numpy(dtype=float, na_value=np.nan)
             if "sales_eur_m" in book else np.full(n, np.nan))
    retail_sales = (classes != "corporate") & ~np.isnan(sales)
    if retail_sales.any():
        pos = int(np.argmax(retail_sales))
        raise DataError(
            f"exposures.sales_eur_m applies to corporate exposures only; row {pos} is "
            f"{classes[pos]!r} with sales {sales[pos]:g}."
        )
    if "grade" in book:
        grades, ranks = _normalise_grades(book["grade"], scale.n_grades, "exposures.grade")
    else:
        ranks = np.asarray(scale.grade(p), dtype=np.int64)
        grades = [int(r) for r in ranks]
    segments = (book["segment"].astype(str).to_numpy() if "segment" in book
                else np.full(n, "all", dtype=object))

    risk_weight = np.zeros(n)
    for asset_class in ASSET_CLASSES:
        rows = classes == asset_class
        if rows.any():
            risk_weight[rows] = irb_risk_weight(
                p[rows], g[rows], m[rows], asset_class,
                sales[rows] if asset_class == "corporate" else None,
                scaling, pd_floor=pd_floor,
            )
    detail = book.copy()
    detail["grade"] = pd.Series(grades, dtype=object if DEFAULT_GRADE in grades else "int64")
    detail["tier"] = [scale.tier_of_grade(x) for x in grades]
    detail["el"] = expected_loss(p, g, e)
    detail["ul"] = unexpected_loss(p, g, e, vol)
    detail["risk_weight"] = risk_weight
    detail["rwa"] = rwa(e, risk_weight)
    detail["capital"] = capital(detail["rwa"].to_numpy(), capital_ratio)

    work = pd.DataFrame({
        "rank": ranks, "segment": segments, "ead": e, "el": detail["el"],
        "ul": detail["ul"], "rwa": detail["rwa"], "capital": detail["capital"],
        "pd_x_ead": p * e,
    })
    grouped = work.groupby(["rank", "segment"], sort=True).agg(
        n=("ead", "size"), ead=("ead", "sum"), el=("el", "sum"), ul=("ul", "sum"),
        rwa=("rwa", "sum"), capital=("capital", "sum"), pd_x_ead=("pd_x_ead", "sum"),
    ).reset_index()
    ead_sum = grouped["ead"].to_numpy()
    positive = ead_sum > 0
    safe = np.where(positive, ead_sum, 1.0)
    labels = [DEFAULT_GRADE if r > scale.n_grades else int(r) for r in grouped["rank"]]
    summary = pd.DataFrame({
        "grade": pd.Series(labels, dtype=object if DEFAULT_GRADE in labels else "int64"),
        "segment": grouped["segment"].astype(str),
        "n": grouped["n"].astype("int64"),
        "ead": ead_sum,
        "el": grouped["el"],
        "ul": grouped["ul"],
        "rwa": grouped["rwa"],
        "capital": grouped["capital"],
        # zero-EAD groups have no rate: NaN there is "undefined", documented in the result
        "pd_ead_weighted": np.where(positive, grouped["pd_x_ead"] / safe, np.nan),
        "el_rate": np.where(positive, grouped["el"] / safe, np.nan),
        "rwa_density": np.where(positive, grouped["rwa"] / safe, np.nan),
    })
    totals = {
        "n": int(n),
        "ead": float(e.sum()),
        "el": float(detail["el"].sum()),
        "ul": float(detail["ul"].sum()),
        "rwa": float(detail["rwa"].sum()),
        "capital": float(detail["capital"].sum()),
    }
    return CreditPortfolioSummary(
        frame=summary, exposures=detail, totals=totals, scaling=float(scaling),
        capital_ratio=float(capital_ratio), pd_floor=float(pd_floor),
    )
