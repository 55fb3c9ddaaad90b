"""Market risk: Value-at-Risk and Expected Shortfall of return series and portfolios.

Conventions, the same in every function of this module:

* **Returns** are fractional (``0.01`` is 1 %), one row per trading day, oldest first.
  ``kind="simple"`` (default) or ``"log"`` only matters where returns are aggregated:
  across assets (a portfolio) and across days (simulated multi-day horizons).
* **Sign**: VaR and ES are *losses reported as positive numbers*, in return units
  (fractions of the portfolio value; multiply by the position value for money). A 99 % VaR
  of ``0.023`` means the one-day return falls below ``-2.3 %`` with probability 1 %.
* **Level** is the confidence level (``0.99``); the tail probability is ``alpha = 1 - level``.
* **Historical quantile**: ``VaR = -Q(alpha)`` with ``Q`` :func:`numpy.quantile` and
  ``quantile_method="linear"`` by default (Hyndman & Fan type 7, the default of numpy,
  pandas and Excel ``PERCENTILE.INC``: the order statistics ``x(1) <= ... <= x(n)`` are
  interpolated at position ``1 + (n - 1) * alpha``). ``quantile_method="inverted_cdf"``
  gives the order statistic ``x(ceil(n * alpha))``, the quantile of the empirical
  distribution itself. Any numpy method name is accepted.
* **Historical ES** is the tail mean of the empirical distribution (Acerbi & Tasche 2002),
  whatever the quantile method: with ``k = n * alpha`` and ``m = floor(k)``,
  ``ES = -(x(1) + ... + x(m) + (k - m) * x(m + 1)) / k``. It is never below the VaR.
* **Student t** has a fitted number of degrees of freedom ``nu`` (maximum likelihood with
  the location and scale fixed by the sample mean and standard deviation) and is *scaled to
  match the variance*: the return is ``mu + sigma * sqrt((nu - 2) / nu) * T_nu``.
* **Multi-day horizons**: ``horizon_method="sqrt"`` multiplies the one-day VaR and ES by
  ``sqrt(horizon)`` (the Basel square-root-of-time rule; the mean is not rescaled);
  ``"simulation"`` simulates ``horizon``-day paths from the method's own one-day model
  (bootstrap of days for ``historical``, bootstrap of standardised residuals through the
  GARCH recursion for ``fhs``) and compounds them.

GARCH estimation goes through ``arch`` on returns in percent (scaled by a power of ten so
that their variance lies where arch's optimiser works well, the rule arch itself uses), with
``rescale=False`` so the scale is ours and no ``DataScaleWarning`` can arise; a fit that does
not converge raises :class:`~riskmoe.exceptions.DataError` (single estimate) or keeps the
previous parameters (rolling forecasts, counted in the result's ``attrs``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from arch import arch_model
from numpy.lib.stride_tricks import sliding_window_view
from scipy import optimize, stats

from riskmoe.exceptions import DataError, SchemaError

__all__ = [
    "METHODS",
    "RiskEstimate",
    "company_market_risk",
    "estimate_risk",
    "expected_shortfall",
    "fit_student_t_dof",
    "normal_es",
    "normal_var",
    "portfolio_returns",
    "rolling_es",
    "rolling_risk",
    "rolling_var",
    "student_t_es",
    "student_t_var",
    "value_at_risk",
]

Method = Literal["historical", "normal", "student_t", "fhs", "monte_carlo"]
Volatility = Literal["sample", "ewma", "garch"]
HorizonMethod = Literal["sqrt", "simulation"]
ReturnKind = Literal["simple", "log"]
ReturnsLike = pd.Series | pd.DataFrame | np.ndarray | Sequence[float]
WeightsLike = Mapping[str, float] | pd.Series | np.ndarray | Sequence[float]

#: The VaR/ES methods, in the order error messages list them.
METHODS: tuple[str, ...] = get_args(Method)
_VOLATILITIES: tuple[str, ...] = get_args(Volatility)
# Which volatility models each method supports; the first is its default.
_SUPPORTED_VOLATILITY: dict[str, tuple[str, ...]] = {
    "historical": ("sample",),
    "normal": ("sample", "ewma", "garch"),
    "student_t": ("sample", "garch"),
    "fhs": ("garch",),
    "monte_carlo": ("sample", "ewma"),
}
_MIN_GARCH_OBS = 100
_SimulateFn = Callable[[int, int, np.random.Generator], np.ndarray]


# ---------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskEstimate:
    """VaR and ES of one return series or portfolio, with what produced them.

    Attributes
    ----------
    var, es : float
        Value-at-Risk and Expected Shortfall, losses as positive fractions of value.
    level : float
        Confidence level, e.g. 0.99.
    method, volatility : str
        The method and the volatility model used (``"sample"``, ``"ewma"``, ``"garch"``).
    horizon : int
        Horizon in days; ``horizon_method`` says how it was reached.
    horizon_method : str
        ``"sqrt"`` or ``"simulation"``.
    n_observations : int
        Number of returns used (after ``window``).
    details : dict
        Fitted quantities: ``mu``, ``sigma`` (one-day forecast), ``dof``, GARCH parameters.
    """

    var: float
    es: float
    level: float
    method: str
    volatility: str
    horizon: int
    horizon_method: str
    n_observations: int
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


# ---------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.integer | np.floating):
        raise ValueError(f"level must be in (0, 1); got {level!r}.")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    return float(level)


def _check_dof(dof: float) -> float:
    if not (isinstance(dof, int | float | np.integer | np.floating) and float(dof) > 2.0):
        raise ValueError(f"dof must be > 2 (a finite variance); got {dof}.")
    return float(dof)


def normal_var(sigma: float, level: float = 0.99, mu: float = 0.0) -> float:
    """VaR of a normal return ``N(mu, sigma**2)``, as a positive loss.

    Parameters
    ----------
    sigma : float
        Standard deviation of the return.
    level : float, default 0.99
        Confidence level in (0, 1).
    mu : float, default 0.0
        Mean return.

    Returns
    -------
    float
        ``sigma * z_level - mu``.

    Notes
    -----
    With ``z_level = Phi^{-1}(level)``, :math:`VaR = \\sigma z - \\mu`; at 99 %,
    ``z = 2.3263``.

    Examples
    --------
    >>> round(normal_var(1.0, 0.99), 4)
    2.3263
    """
    level = _check_level(level)
    return float(sigma * stats.norm.ppf(level) - mu)


def normal_es(sigma: float, level: float = 0.99, mu: float = 0.0) -> float:
    """Expected Shortfall of a normal return ``N(mu, sigma**2)``, as a positive loss.

    Parameters
    ----------
    sigma : float
        Standard deviation of the return.
    level : float, default 0.99
        Confidence level in (0, 1).
    mu : float, default 0.0
        Mean return.

    Returns
    -------
    float
        ``sigma * phi(z_level) / (1 - level) - mu``.

    Notes
    -----
    :math:`ES = \\sigma \\varphi(\\Phi^{-1}(level)) / (1 - level) - \\mu`; at 99 % the
    factor is 2.6652 (Hull, *Risk Management and Financial Institutions*, ch. 12).

    Examples
    --------
    >>> round(normal_es(1.0, 0.99), 4)
    2.6652
    """
    level = _check_level(level)
    z = stats.norm.ppf(level)
    return float(sigma * stats.norm.pdf(z) / (1.0 - level) - mu)


def student_t_var(sigma: float, dof: float, level: float = 0.99, mu: float = 0.0) -> float:
    """VaR of a Student-t return with standard deviation ``sigma``, as a positive loss.

    Parameters
    ----------
    sigma : float
        Standard deviation of the return (not the t scale parameter).
    dof : float
        Degrees of freedom, > 2.
    level : float, default 0.99
        Confidence level in (0, 1).
    mu : float, default 0.0
        Mean return.

    Returns
    -------
    float
        ``-(mu + sigma * sqrt((dof - 2) / dof) * t_dof^{-1}(1 - level))``.

    Notes
    -----
    The t distribution is scaled to variance ``sigma**2``: its scale parameter is
    :math:`s = \\sigma\\sqrt{(\\nu - 2)/\\nu}`, so
    :math:`VaR = -\\mu - s\\, t_\\nu^{-1}(1 - level)`.

    Examples
    --------
    >>> round(student_t_var(1.0, 5.0, 0.99), 4)
    2.6065
    """
    level = _check_level(level)
    dof = _check_dof(dof)
    scale = sigma * math.sqrt((dof - 2.0) / dof)
    return float(-(mu + scale * stats.t.ppf(1.0 - level, dof)))


def student_t_es(sigma: float, dof: float, level: float = 0.99, mu: float = 0.0) -> float:
    """Expected Shortfall of a Student-t return with standard deviation ``sigma``.

    Parameters
    ----------
    sigma : float
        Standard deviation of the return.
    dof : float
        Degrees of freedom, > 2.
    level : float, default 0.99
        Confidence level in (0, 1).
    mu : float, default 0.0
        Mean return.

    Returns
    -------
    float
        Positive loss.

    Notes
    -----
    With :math:`q = t_\\nu^{-1}(\\alpha)`, :math:`\\alpha = 1 - level`, and ``f`` the
    standard t density, :math:`E[T \\mid T < q] = -f(q)(\\nu + q^2) / ((\\nu - 1)\\alpha)`;
    hence :math:`ES = s f(q)(\\nu + q^2)/((\\nu - 1)\\alpha) - \\mu` with the variance-matched
    scale :math:`s = \\sigma\\sqrt{(\\nu - 2)/\\nu}` (McNeil, Frey & Embrechts,
    *Quantitative Risk Management*, 2015, example 2.15).

    Examples
    --------
    >>> round(student_t_es(1.0, 5.0, 0.99), 4)
    3.4488
    """
    level = _check_level(level)
    dof = _check_dof(dof)
    alpha = 1.0 - level
    q = stats.t.ppf(alpha, dof)
    scale = sigma * math.sqrt((dof - 2.0) / dof)
    tail = stats.t.pdf(q, dof) * (dof + q * q) / ((dof - 1.0) * alpha)
    return float(scale * tail - mu)


def fit_student_t_dof(returns: ReturnsLike, bounds: tuple[float, float] = (2.1, 100.0)) -> float:
    """Degrees of freedom of a variance-matched Student t, by maximum likelihood.

    Parameters
    ----------
    returns : array-like
        One return series (no NaN).
    bounds : (float, float), default (2.1, 100.0)
        Search interval for ``nu``; a normal-looking sample ends at the upper bound.

    Returns
    -------
    float
        The ``nu`` maximising the likelihood of ``mu + sigma sqrt((nu-2)/nu) T_nu`` with
        ``mu`` and ``sigma`` the sample mean and standard deviation (ddof=1).

    Notes
    -----
    A one-dimensional profile likelihood: location and scale are moment estimates, only
    ``nu`` is fitted (bounded Brent search), so it is fast enough for rolling windows and
    the fitted distribution always has the sample variance.
    """
    x = _prepare(returns, None, "simple").portfolio
    lo, hi = bounds
    if not 2.0 < lo < hi:
        raise ValueError(f"bounds must satisfy 2 < low < high; got {bounds}.")
    return _fit_dof(x, lo, hi)


def _fit_dof(x: np.ndarray, lo: float = 2.1, hi: float = 100.0) -> float:
    sd = float(np.std(x, ddof=1))
    if sd == 0.0:
        return hi
    z = (x - x.mean()) / sd

    def nll(nu: float) -> float:
        s = math.sqrt((nu - 2.0) / nu)
        return -float(np.sum(stats.t.logpdf(z / s, nu))) + z.size * math.log(s)

    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
    return float(res.x)


# ---------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Returns:
    matrix: np.ndarray  # (n, k) asset returns
    weights: np.ndarray  # (k,)
    index: pd.Index
    kind: str

    @property
    def portfolio(self) -> np.ndarray:
        return _aggregate_assets(self.matrix, self.weights, self.kind)

    def tail(self, window: int | None) -> _Returns:
        if window is None:
            return self
        return _Returns(self.matrix[-window:], self.weights, self.index[-window:], self.kind)


def _aggregate_assets(matrix: np.ndarray, weights: np.ndarray, kind: str) -> np.ndarray:
    """Portfolio return per row: ``w . r`` for simple returns, via gross returns for log."""
    if matrix.shape[-1] == 1 and weights[0] == 1.0:
        return matrix[..., 0]
    if kind == "simple":
        return matrix @ weights
    gross = 1.0 + np.expm1(matrix) @ weights
    if np.any(gross <= 0.0):
        raise DataError(
            "the portfolio loses more than its value on some day; log return undefined."
        )
    return np.log(gross)


def _aggregate_days(paths: np.ndarray, kind: str) -> np.ndarray:
    """Horizon return of each path (rows) of daily returns: compounded or summed."""
    if kind == "simple":
        return np.expm1(np.sum(np.log1p(paths), axis=-1))
    return paths.sum(axis=-1)


def _label(index: pd.Index, pos: int) -> str:
    value = index[pos]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(index, pd.RangeIndex):
        return f"position {pos}"
    return str(value)


def _check_kind(kind: str) -> str:
    if kind not in ("simple", "log"):
        raise ValueError(f"kind must be 'simple' or 'log'; got {kind!r}.")
    return kind


def _prepare(returns: ReturnsLike, weights: WeightsLike | None, kind: str) -> _Returns:
    kind = _check_kind(kind)
    columns: list[str]
    if isinstance(returns, pd.DataFrame):
        index = returns.index
        columns = [str(c) for c in returns.columns]
        raw: Any = returns
    elif isinstance(returns, pd.Series):
        index = returns.index
        columns = [str(returns.name)]
        raw = returns.to_frame()
    else:
        raw = np.asarray(returns)
        if raw.ndim == 1:
            raw = raw[:, None]
        if raw.ndim != 2:
            raise ValueError(f"returns must be 1-D or 2-D; got {raw.ndim} dimensions.")
        index = pd.RangeIndex(raw.shape[0])
        columns = [str(i) for i in range(raw.shape[1])]
    try:
        matrix = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"returns must be numeric ({exc}).") from exc
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise DataError("returns have no columns.")
    n = matrix.shape[0]
    if n == 0:
        raise DataError("returns are empty; need at least 2 observations.")
    if n < 2:
        raise DataError(f"returns have {n} observation; need at least 2.")
    for what, bad in (("NaN", np.isnan(matrix)), ("infinite", np.isinf(matrix))):
        count = int(bad.sum())
        if count:
            row, col = np.argwhere(bad)[0]
            where = _label(index, int(row))
            if matrix.shape[1] > 1:
                where += f", column {columns[col]!r}"
            raise DataError(f"returns contain {count} {what} values (first at {where})")
    w = _prepare_weights(weights, columns)
    return _Returns(matrix, w, index, kind)


def _prepare_weights(weights: WeightsLike | None, columns: list[str]) -> np.ndarray:
    k = len(columns)
    if weights is None:
        if k > 1:
            raise ValueError(
                f"weights are required for a DataFrame of {k} asset returns (columns {columns})."
            )
        return np.ones(1)
    if isinstance(weights, Mapping | pd.Series):
        mapping = {str(key): value for key, value in weights.items()}
        missing = [c for c in columns if c not in mapping]
        extra = [c for c in mapping if c not in columns]
        if missing or extra:
            raise ValueError(
                f"weights must name every return column: missing {missing}, unknown {extra}."
            )
        w = np.array([float(mapping[c]) for c in columns])
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != (k,):
        raise ValueError(f"weights must have one entry per asset ({k}); got {w.size}.")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite.")
    return w


def _check_method(method: str, volatility: str | None) -> tuple[str, str]:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    allowed = _SUPPORTED_VOLATILITY[method]
    if volatility is None:
        return method, allowed[0]
    if volatility not in _VOLATILITIES:
        raise ValueError(
            f"unknown volatility {volatility!r}; choose one of {', '.join(_VOLATILITIES)}"
        )
    if volatility not in allowed:
        raise ValueError(
            f"volatility {volatility!r} is not available for method {method!r}; "
            f"choose one of {', '.join(allowed)}"
        )
    return method, volatility


def _check_window(window: int | None, n: int, name: str = "window") -> int | None:
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ValueError(f"{name} must be an integer >= 2; got {window!r}.")
    if window > n:
        raise ValueError(f"{name}={window} exceeds the {n} observations available.")
    return int(window)


def _check_positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------------------
# Empirical VaR / ES
# ---------------------------------------------------------------------------------------


def _empirical(
    sample: np.ndarray, level: float, quantile_method: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """VaR and ES (positive losses) of samples along the last axis."""
    alpha = 1.0 - level
    try:
        q = np.quantile(sample, alpha, axis=-1, method=quantile_method)  # type: ignore[call-overload]
    except ValueError as exc:
        raise ValueError(f"unknown quantile_method {quantile_method!r} ({exc}).") from exc
    ordered = np.sort(sample, axis=-1)
    n = ordered.shape[-1]
    k = n * alpha
    m = min(int(math.floor(k + 1e-9)), n - 1)
    head = ordered[..., :m].sum(axis=-1)
    es = -(head + (k - m) * ordered[..., m]) / k
    return -np.asarray(q), np.asarray(es)


# ---------------------------------------------------------------------------------------
# GARCH via arch
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GarchParams:
    params: np.ndarray
    names: tuple[str, ...]
    scale: float
    dist: Literal["normal", "t"]


def _arch_scale(x: np.ndarray) -> float:
    """Percent, then powers of ten until the variance is in arch's comfortable range."""
    scale = 100.0
    variance = float(np.var(x)) * scale**2
    while variance > 0.0 and not 0.1 <= variance < 10_000.0:
        factor = 10.0 if variance < 0.1 else 0.1
        scale *= factor
        variance *= factor**2
    return scale


def _garch_model(y: np.ndarray, dist: Literal["normal", "t"]) -> Any:
    return arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist=dist, rescale=False)


def _garch_fit(x: np.ndarray, dist: Literal["normal", "t"]) -> tuple[_GarchParams | None, Any, str]:
    """Fit GARCH(1,1); return (params or None when not converged, result, message)."""
    scale = _arch_scale(x)
    model = _garch_model(x * scale, dist)
    # show_warning=False: convergence is checked through the flag below, deliberately,
    # instead of letting a ConvergenceWarning escape.
    res = model.fit(disp="off", show_warning=False)
    if res.convergence_flag != 0:
        res = model.fit(disp="off", show_warning=False, options={"maxiter": 1000})
    if res.convergence_flag != 0:
        message = str(res.optimization_result.message)
        return None, res, message
    params = _GarchParams(np.asarray(res.params, dtype=float), tuple(res.params.index), scale, dist)
    return params, res, ""


def _garch_fixed(x: np.ndarray, fit: _GarchParams) -> Any:
    model = _garch_model(x * fit.scale, fit.dist)
    return model.fix(pd.Series(fit.params, index=list(fit.names)))


def _garch_one_day(res: Any) -> tuple[float, float]:
    """(mean, standard deviation) of the next return, in the scaled units."""
    forecast = res.forecast(horizon=1, reindex=False)
    mean = float(forecast.mean.to_numpy()[-1, 0])
    sd = math.sqrt(float(forecast.variance.to_numpy()[-1, 0]))
    return mean, sd


def _garch_simulator(res: Any, scale: float, bootstrap: bool) -> _SimulateFn:
    def simulate(n_paths: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
        state = np.random.RandomState(int(rng.integers(2**31 - 1)))
        forecast = res.forecast(
            horizon=horizon,
            method="bootstrap" if bootstrap else "simulation",
            simulations=n_paths,
            random_state=state,
            reindex=False,
        )
        return np.asarray(forecast.simulations.values[-1], dtype=float) / scale

    return simulate


def _garch_details(fit: _GarchParams) -> dict[str, float]:
    out = {f"garch_{name}": float(value) for name, value in zip(fit.names, fit.params, strict=True)}
    out["garch_scale"] = fit.scale
    return out


# ---------------------------------------------------------------------------------------
# One-day models
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OneDay:
    var: float
    es: float
    details: dict[str, float]
    simulate: _SimulateFn


@dataclass(frozen=True)
class _Options:
    level: float
    method: str
    volatility: str
    quantile_method: str
    ewma_lambda: float
    dof: float | None
    zero_mean: bool
    n_simulations: int


def _ewma_weights(n: int, lam: float) -> np.ndarray:
    """Weights of the n observations, oldest first, newest weight largest, summing to 1."""
    w = (1.0 - lam) * lam ** np.arange(n - 1, -1, -1, dtype=float)
    return w / w.sum()


def _moments(data: _Returns, opt: _Options) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and covariance matrix of the asset returns for the volatility model."""
    m = data.matrix
    if opt.volatility == "ewma":
        w = _ewma_weights(m.shape[0], opt.ewma_lambda)
        cov = (m * w[:, None]).T @ m  # RiskMetrics: zero mean
        return np.zeros(m.shape[1]), np.atleast_2d(cov)
    mean = np.zeros(m.shape[1]) if opt.zero_mean else m.mean(axis=0)
    cov = np.atleast_2d(np.cov(m, rowvar=False, ddof=1))
    return mean, cov


def _one_day(
    data: _Returns, opt: _Options, garch: _GarchParams | None = None, fitted: Any = None
) -> _OneDay:
    """One-day VaR/ES of the portfolio and a simulator of its daily returns.

    ``garch`` (fixed parameters) or ``fitted`` (an arch result) short-cut the GARCH fit:
    rolling forecasts pass the parameters of the last refit.
    """
    x = data.portfolio
    level, method = opt.level, opt.method
    details: dict[str, float] = {}

    if method == "historical":
        var_hs, es_hs = _empirical(x, level, opt.quantile_method)

        def simulate_hs(n_paths: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
            return x[rng.integers(0, x.size, size=(n_paths, horizon))]

        return _OneDay(float(var_hs), float(es_hs), details, simulate_hs)

    if method == "monte_carlo":
        return _monte_carlo(data, opt)

    if opt.volatility == "garch" or method == "fhs":
        dist: Literal["normal", "t"] = "t" if method == "student_t" else "normal"
        if fitted is None:
            if garch is None:
                if x.size < _MIN_GARCH_OBS:
                    raise DataError(
                        f"GARCH(1,1) needs at least {_MIN_GARCH_OBS} returns; got {x.size}."
                    )
                garch, fitted, message = _garch_fit(x, dist)
                if garch is None:
                    raise DataError(
                        f"GARCH(1,1) did not converge on these {x.size} returns ({message}); "
                        "use a longer window or another method."
                    )
            else:
                fitted = _garch_fixed(x, garch)
        assert garch is not None  # set above or passed with ``fitted``
        mean_s, sd_s = _garch_one_day(fitted)
        mu, sigma = mean_s / garch.scale, sd_s / garch.scale
        details.update(_garch_details(garch), mu=mu, sigma=sigma)
        if method == "fhs":
            z = np.asarray(fitted.std_resid, dtype=float)
            z = z[np.isfinite(z)]
            qz, esz = _empirical(z, level, opt.quantile_method)
            var, es = float(sigma * qz - mu), float(sigma * esz - mu)
            return _OneDay(var, es, details, _garch_simulator(fitted, garch.scale, True))
        if method == "student_t":
            nu = float(garch.params[garch.names.index("nu")])
            details["dof"] = nu
            var, es = student_t_var(sigma, nu, level, mu), student_t_es(sigma, nu, level, mu)
        else:
            var, es = normal_var(sigma, level, mu), normal_es(sigma, level, mu)
        return _OneDay(var, es, details, _garch_simulator(fitted, garch.scale, False))

    # normal / student_t with sample or EWMA volatility
    if opt.volatility == "ewma":
        w = _ewma_weights(x.size, opt.ewma_lambda)
        mu, sigma = 0.0, math.sqrt(float(w @ (x * x)))
        details["ewma_lambda"] = opt.ewma_lambda
    else:
        mu = 0.0 if opt.zero_mean else float(x.mean())
        sigma = float(np.std(x, ddof=1))
    details.update(mu=mu, sigma=sigma)
    if method == "normal":

        def simulate_normal(n_paths: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
            return mu + sigma * rng.standard_normal((n_paths, horizon))

        return _OneDay(
            normal_var(sigma, level, mu), normal_es(sigma, level, mu), details, simulate_normal
        )
    nu = opt.dof if opt.dof is not None else _fit_dof(x)
    details["dof"] = nu
    t_scale = sigma * math.sqrt((nu - 2.0) / nu)

    def simulate_t(n_paths: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
        return mu + t_scale * rng.standard_t(nu, (n_paths, horizon))

    return _OneDay(
        student_t_var(sigma, nu, level, mu), student_t_es(sigma, nu, level, mu), details, simulate_t
    )


def _monte_carlo(data: _Returns, opt: _Options) -> _OneDay:
    mean, cov = _moments(data, opt)
    vals, vecs = np.linalg.eigh(cov)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))  # cov = root @ root.T, PSD-safe
    dof = opt.dof
    kind, weights = data.kind, data.weights

    def simulate(n_paths: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal((n_paths * horizon, mean.size)) @ root.T
        if dof is not None:
            # multivariate t with covariance ``cov``: normal / sqrt(chi2/(dof-2))
            z *= np.sqrt((dof - 2.0) / rng.chisquare(dof, size=(n_paths * horizon, 1)))
        daily = _aggregate_assets(z + mean, weights, kind)
        return daily.reshape(n_paths, horizon)

    details: dict[str, float] = {"n_simulations": float(opt.n_simulations)}
    if dof is not None:
        details["dof"] = dof
    return _OneDay(math.nan, math.nan, details, simulate)


def _options(
    level: float,
    method: str,
    volatility: str | None,
    quantile_method: str,
    ewma_lambda: float,
    dof: float | None,
    zero_mean: bool,
    n_simulations: int,
) -> _Options:
    level = _check_level(level)
    method, vol = _check_method(method, volatility)
    if not 0.0 < ewma_lambda < 1.0:
        raise ValueError(f"ewma_lambda must be in (0, 1); got {ewma_lambda}.")
    if dof is not None:
        dof = _check_dof(dof)
    n_simulations = _check_positive_int(n_simulations, "n_simulations")
    return _Options(level, method, vol, quantile_method, ewma_lambda, dof, zero_mean, n_simulations)


# ---------------------------------------------------------------------------------------
# Public point estimates
# ---------------------------------------------------------------------------------------


def estimate_risk(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    *,
    window: int | None = None,
    horizon: int = 1,
    horizon_method: HorizonMethod = "sqrt",
    weights: WeightsLike | None = None,
    kind: ReturnKind = "simple",
    volatility: Volatility | None = None,
    ewma_lambda: float = 0.94,
    dof: float | None = None,
    zero_mean: bool = False,
    quantile_method: str = "linear",
    n_simulations: int = 50_000,
    random_state: int | np.random.Generator | None = None,
) -> RiskEstimate:
    """VaR and ES of a return series or a weighted portfolio of assets.

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first (fractions, not percent). A DataFrame (or 2-D array)
        holds one column per asset and needs ``weights``.
    level : float, default 0.99
        Confidence level in (0, 1).
    method : {"historical", "normal", "student_t", "fhs", "monte_carlo"}
        ``historical``: empirical quantile of the returns; ``normal`` / ``student_t``:
        parametric (t with fitted ``dof``, variance-matched); ``fhs``: GARCH(1,1)-filtered
        historical simulation (Barone-Adesi et al. 1999); ``monte_carlo``: simulation from
        a multivariate normal (or t when ``dof`` is given) fitted to the asset returns,
        revaluing the portfolio on each draw.
    window : int, optional
        Use only the last ``window`` observations.
    horizon : int, default 1
        Horizon in days.
    horizon_method : {"sqrt", "simulation"}, default "sqrt"
        Square-root-of-time scaling, or simulated ``horizon``-day paths (see module notes).
    weights : mapping, Series or array-like, optional
        Portfolio weights (fractions of value, may be negative) per asset column; required
        when there is more than one column.
    kind : {"simple", "log"}, default "simple"
        Type of the returns; decides how assets and days are aggregated.
    volatility : {"sample", "ewma", "garch"}, optional
        Volatility model. ``normal``: sample (default), EWMA (RiskMetrics, zero mean) or
        GARCH(1,1); ``student_t``: sample (default) or GARCH(1,1)-t (dof from the GARCH
        fit); ``monte_carlo``: sample (default) or EWMA covariance; ``fhs`` is GARCH by
        definition; ``historical`` uses the raw sample.
    ewma_lambda : float, default 0.94
        EWMA decay (RiskMetrics daily value).
    dof : float, optional
        Fixed Student-t degrees of freedom (> 2) for ``student_t`` (fitted when None) and
        for ``monte_carlo`` (multivariate t instead of normal).
    zero_mean : bool, default False
        Set the mean return to zero for sample-volatility methods.
    quantile_method : str, default "linear"
        :func:`numpy.quantile` method for empirical quantiles (``historical``, ``fhs``,
        ``monte_carlo``, simulated horizons); ``"inverted_cdf"`` is the order statistic.
    n_simulations : int, default 50_000
        Draws for ``monte_carlo`` and for simulated horizons.
    random_state : int or numpy Generator, optional
        Seed for the simulations (local; never global).

    Returns
    -------
    RiskEstimate

    Raises
    ------
    ValueError
        For a level outside (0, 1), an unknown method, volatility or kind, missing weights,
        a window or horizon that is not a positive integer.
    DataError
        For empty returns, NaN or infinite values, or a GARCH fit that does not converge.

    Notes
    -----
    Parametric one-day forecasts: normal :math:`VaR = \\sigma z_{level} - \\mu`,
    :math:`ES = \\sigma\\varphi(z_{level})/\\alpha - \\mu`; Student t see
    :func:`student_t_var`. FHS: with GARCH(1,1) standardised residuals
    :math:`z_t = (r_t - \\mu)/\\sigma_t`, :math:`VaR = -(\\mu + \\sigma_{T+1} Q_z(\\alpha))`
    and ES the empirical tail mean of ``z`` scaled the same way.

    References
    ----------
    Barone-Adesi, G., Giannopoulos, K. & Vosper, L. (1999). VaR without correlations for
    portfolios of derivative securities. *Journal of Futures Markets* 19(5), 583-602.
    Hull, J. C. (2018). *Risk Management and Financial Institutions*, 5th ed., ch. 12-14.
    J.P. Morgan/Reuters (1996). *RiskMetrics -- Technical Document*, 4th ed.
    Acerbi, C. & Tasche, D. (2002). On the coherence of expected shortfall. *Journal of
    Banking & Finance* 26(7), 1487-1503.

    Examples
    --------
    >>> r = [-0.05, -0.03, -0.01, 0.0, 0.01, 0.02, 0.02, 0.03, 0.04, 0.05]
    >>> est = estimate_risk(r, level=0.9, method="historical")
    >>> round(est.var, 4), round(est.es, 4)
    (0.032, 0.05)
    """
    opt = _options(
        level, method, volatility, quantile_method, ewma_lambda, dof, zero_mean, n_simulations
    )
    horizon = _check_positive_int(horizon, "horizon")
    if horizon_method not in ("sqrt", "simulation"):
        raise ValueError(f"horizon_method must be 'sqrt' or 'simulation'; got {horizon_method!r}.")
    data = _prepare(returns, weights, kind)
    data = data.tail(_check_window(window, data.matrix.shape[0]))
    rng = np.random.default_rng(random_state)
    one = _one_day(data, opt)
    var, es = one.var, one.es
    simulate_horizon = horizon > 1 and horizon_method == "simulation"
    if opt.method == "monte_carlo" and not simulate_horizon:
        var_a, es_a = _empirical(
            one.simulate(opt.n_simulations, 1, rng)[:, 0], opt.level, opt.quantile_method
        )
        var, es = float(var_a), float(es_a)
    if simulate_horizon:
        paths = one.simulate(opt.n_simulations, horizon, rng)
        var_a, es_a = _empirical(_aggregate_days(paths, data.kind), opt.level, opt.quantile_method)
        var, es = float(var_a), float(es_a)
    elif horizon > 1:
        var, es = var * math.sqrt(horizon), es * math.sqrt(horizon)
    return RiskEstimate(
        var=float(var),
        es=float(es),
        level=opt.level,
        method=opt.method,
        volatility=opt.volatility if opt.method != "historical" else "none",
        horizon=horizon,
        horizon_method=horizon_method,
        n_observations=int(data.matrix.shape[0]),
        details=one.details,
    )


def value_at_risk(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    *,
    window: int | None = None,
    horizon: int = 1,
    horizon_method: HorizonMethod = "sqrt",
    weights: WeightsLike | None = None,
    kind: ReturnKind = "simple",
    volatility: Volatility | None = None,
    ewma_lambda: float = 0.94,
    dof: float | None = None,
    zero_mean: bool = False,
    quantile_method: str = "linear",
    n_simulations: int = 50_000,
    random_state: int | np.random.Generator | None = None,
) -> float:
    """Value-at-Risk as a positive loss (fraction of value).

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first; see :func:`estimate_risk`.
    level : float, default 0.99
        Confidence level in (0, 1).
    method : {"historical", "normal", "student_t", "fhs", "monte_carlo"}
        See :func:`estimate_risk`.
    window, horizon, horizon_method, weights, kind, volatility
        As in :func:`estimate_risk`.
    ewma_lambda, dof, zero_mean, quantile_method, n_simulations, random_state
        As in :func:`estimate_risk`.

    Returns
    -------
    float

    Raises
    ------
    ValueError, DataError
        See :func:`estimate_risk`.

    Notes
    -----
    :math:`VaR_{level} = -Q_{1-level}(r)` for the method's forecast distribution of the
    return ``r``.

    References
    ----------
    Jorion, P. (2007). *Value at Risk*, 3rd ed. McGraw-Hill.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([-0.02, -0.01, 0.0, 0.01, 0.02])
    >>> round(value_at_risk(r, 0.95, "normal", zero_mean=True), 5)
    0.02601
    """
    return estimate_risk(
        returns,
        level,
        method,
        window=window,
        horizon=horizon,
        horizon_method=horizon_method,
        weights=weights,
        kind=kind,
        volatility=volatility,
        ewma_lambda=ewma_lambda,
        dof=dof,
        zero_mean=zero_mean,
        quantile_method=quantile_method,
        n_simulations=n_simulations,
        random_state=random_state,
    ).var


def expected_shortfall(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    *,
    window: int | None = None,
    horizon: int = 1,
    horizon_method: HorizonMethod = "sqrt",
    weights: WeightsLike | None = None,
    kind: ReturnKind = "simple",
    volatility: Volatility | None = None,
    ewma_lambda: float = 0.94,
    dof: float | None = None,
    zero_mean: bool = False,
    quantile_method: str = "linear",
    n_simulations: int = 50_000,
    random_state: int | np.random.Generator | None = None,
) -> float:
    """Expected Shortfall (the mean loss beyond the VaR) as a positive loss.

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first; see :func:`estimate_risk`.
    level : float, default 0.99
        Confidence level in (0, 1).
    method : {"historical", "normal", "student_t", "fhs", "monte_carlo"}
        See :func:`estimate_risk`.
    window, horizon, horizon_method, weights, kind, volatility
        As in :func:`estimate_risk`.
    ewma_lambda, dof, zero_mean, quantile_method, n_simulations, random_state
        As in :func:`estimate_risk`.

    Returns
    -------
    float

    Raises
    ------
    ValueError, DataError
        See :func:`estimate_risk`.

    Notes
    -----
    :math:`ES_{level} = -E[r \\mid r \\le -VaR_{level}]`, for discrete samples the
    Acerbi-Tasche tail mean (module notes).

    References
    ----------
    Acerbi, C. & Tasche, D. (2002). On the coherence of expected shortfall. *Journal of
    Banking & Finance* 26(7), 1487-1503.

    Examples
    --------
    >>> round(expected_shortfall([-0.04, -0.02, 0.0, 0.01, 0.03], 0.8), 4)
    0.04
    """
    return estimate_risk(
        returns,
        level,
        method,
        window=window,
        horizon=horizon,
        horizon_method=horizon_method,
        weights=weights,
        kind=kind,
        volatility=volatility,
        ewma_lambda=ewma_lambda,
        dof=dof,
        zero_mean=zero_mean,
        quantile_method=quantile_method,
        n_simulations=n_simulations,
        random_state=random_state,
    ).es


def portfolio_returns(
    returns: pd.DataFrame, weights: WeightsLike, kind: ReturnKind = "simple"
) -> pd.Series:
    """Daily returns of a constant-weight (daily rebalanced) portfolio.

    Parameters
    ----------
    returns : DataFrame
        One column of returns per asset.
    weights : mapping, Series or array-like
        Weight per column (fractions of value).
    kind : {"simple", "log"}, default "simple"
        Simple: :math:`r_p = \\sum_i w_i r_i`; log: :math:`r_p = \\log(1 + \\sum_i w_i
        (e^{r_i} - 1))`.

    Returns
    -------
    Series
        Indexed like ``returns``, named ``"portfolio"``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [0.01, -0.02], "b": [0.03, 0.0]})
    >>> portfolio_returns(df, {"a": 0.5, "b": 0.5}).round(3).tolist()
    [0.02, -0.01]
    """
    data = _prepare(returns, weights, kind)
    return pd.Series(data.portfolio, index=data.index, name="portfolio")


# ---------------------------------------------------------------------------------------
# Rolling (out-of-sample) forecasts
# ---------------------------------------------------------------------------------------


def rolling_risk(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    *,
    window: int = 250,
    refit_every: int = 20,
    weights: WeightsLike | None = None,
    kind: ReturnKind = "simple",
    volatility: Volatility | None = None,
    ewma_lambda: float = 0.94,
    dof: float | None = None,
    zero_mean: bool = False,
    quantile_method: str = "linear",
    n_simulations: int = 10_000,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Out-of-sample one-day VaR and ES forecasts over a rolling window.

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first (see :func:`estimate_risk`).
    level : float, default 0.99
        Confidence level in (0, 1).
    method : {"historical", "normal", "student_t", "fhs", "monte_carlo"}
        See :func:`estimate_risk`.
    window : int, default 250
        Estimation window in days.
    refit_every : int, default 20
        Days between re-estimations of the slow parameters: the GARCH(1,1) parameters
        (``fhs`` and ``volatility="garch"``) and the fitted Student-t ``dof``. In between,
        the GARCH recursion is re-run every day on the latest window with the parameters
        fixed, so the volatility forecast is always current; means, standard deviations,
        EWMA variances and historical quantiles are recomputed every day.
    weights, kind, volatility, ewma_lambda, dof, zero_mean, quantile_method
        As in :func:`estimate_risk`.
    n_simulations : int, default 10_000
        Draws per day for ``monte_carlo``.
    random_state : int or numpy Generator, optional
        Seed for ``monte_carlo``.

    Returns
    -------
    DataFrame
        Columns ``var`` and ``es`` (positive losses), indexed by the *forecast day*: the
        row for day ``t`` uses the returns of days ``t - window`` to ``t - 1`` only (no
        look-ahead). The first ``window`` days have no forecast and are not in the index.
        ``attrs`` records ``method``, ``volatility``, ``level``, ``window``,
        ``refit_every``, ``refits`` and ``failed_refits`` (GARCH fits that did not converge;
        the previous parameters were kept).

    Raises
    ------
    ValueError, DataError
        See :func:`estimate_risk`; also when ``window`` exceeds the data.

    Notes
    -----
    Refitting GARCH every ~20 days and filtering daily with fixed parameters costs about
    a twentieth of daily refits (a fit takes ~20 ms, a fixed-parameter filter ~1 ms) while
    the parameters of a 250-day GARCH move little in a month; this keeps rolling FHS over
    20 years of data well under a minute on one core. With ``refit_every=1`` the forecast
    for each day equals :func:`estimate_risk` on the preceding ``window`` returns.

    References
    ----------
    Christoffersen, P. (2012). *Elements of Financial Risk Management*, 2nd ed., ch. 13.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> r = pd.Series(np.random.default_rng(0).normal(0, 0.01, 300),
    ...               index=pd.bdate_range("2020-01-01", periods=300))
    >>> f = rolling_risk(r, 0.99, "historical", window=250)
    >>> len(f), f.index[0] == r.index[250]
    (50, True)
    """
    opt = _options(
        level, method, volatility, quantile_method, ewma_lambda, dof, zero_mean, n_simulations
    )
    refit_every = _check_positive_int(refit_every, "refit_every")
    data = _prepare(returns, weights, kind)
    n = data.matrix.shape[0]
    w = _check_window(window, n)
    assert w is not None
    if w == n:
        raise ValueError(f"window={w} leaves no day to forecast in {n} observations.")
    x = data.portfolio
    windows = sliding_window_view(x, w)[:-1]  # row j: x[j : j + w] -> forecast day j + w
    stats_out: dict[str, int] = {"refits": 0, "failed_refits": 0}
    if opt.method == "historical":
        var, es = _empirical(windows, opt.level, opt.quantile_method)
    elif opt.method in ("normal", "student_t") and opt.volatility in ("sample", "ewma"):
        var, es = _rolling_parametric(windows, opt, refit_every, stats_out)
    else:
        var, es = _rolling_loop(data, w, opt, refit_every, stats_out, random_state)
    frame = pd.DataFrame({"var": var, "es": es}, index=data.index[w:])
    frame.attrs.update(
        method=opt.method,
        volatility=opt.volatility if opt.method != "historical" else "none",
        level=opt.level,
        window=w,
        refit_every=refit_every,
        **stats_out,
    )
    return frame


def _rolling_parametric(
    windows: np.ndarray, opt: _Options, refit_every: int, stats_out: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    if opt.volatility == "ewma":
        weights = _ewma_weights(windows.shape[1], opt.ewma_lambda)
        sigma = np.sqrt((windows * windows) @ weights)
        mu = np.zeros_like(sigma)
    else:
        mu = np.zeros(windows.shape[0]) if opt.zero_mean else windows.mean(axis=1)
        sigma = windows.std(axis=1, ddof=1)
    if opt.method == "normal":
        z = stats.norm.ppf(opt.level)
        var = sigma * z - mu
        es = sigma * stats.norm.pdf(z) / (1.0 - opt.level) - mu
        return var, es
    if opt.dof is not None:
        nu = np.full(windows.shape[0], opt.dof)
    else:
        nu = np.empty(windows.shape[0])
        for start in range(0, windows.shape[0], refit_every):
            nu[start : start + refit_every] = _fit_dof(windows[start])
            stats_out["refits"] += 1
    alpha = 1.0 - opt.level
    q = stats.t.ppf(alpha, nu)
    scale = sigma * np.sqrt((nu - 2.0) / nu)
    var = -(mu + scale * q)
    es = scale * stats.t.pdf(q, nu) * (nu + q * q) / ((nu - 1.0) * alpha) - mu
    return var, es


def _rolling_loop(
    data: _Returns,
    w: int,
    opt: _Options,
    refit_every: int,
    stats_out: dict[str, int],
    random_state: int | np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    n = data.matrix.shape[0]
    rng = np.random.default_rng(random_state)
    var = np.empty(n - w)
    es = np.empty(n - w)
    garch_based = opt.method == "fhs" or opt.volatility == "garch"
    dist: Literal["normal", "t"] = "t" if opt.method == "student_t" else "normal"
    params: _GarchParams | None = None
    for j, t in enumerate(range(w, n)):
        window = _Returns(data.matrix[t - w : t], data.weights, data.index[t - w : t], data.kind)
        fitted = None
        if garch_based and j % refit_every == 0:
            stats_out["refits"] += 1
            new, fitted, message = _garch_fit(window.portfolio, dist)
            if new is None:
                stats_out["failed_refits"] += 1
                fitted = None
                if params is None:
                    raise DataError(
                        f"GARCH(1,1) did not converge on the first window ending "
                        f"{_label(data.index, t - 1)} ({message}); use a longer window."
                    )
            else:
                params = new
        if opt.method == "monte_carlo":
            one = _monte_carlo(window, opt)
            sample = one.simulate(opt.n_simulations, 1, rng)[:, 0]
            v, e = _empirical(sample, opt.level, opt.quantile_method)
            var[j], es[j] = float(v), float(e)
            continue
        one = _one_day(window, opt, garch=params, fitted=fitted)
        var[j], es[j] = one.var, one.es
    return var, es


def rolling_var(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    window: int = 250,
    refit_every: int = 20,
    **options: Any,
) -> pd.Series:
    """Out-of-sample one-day VaR forecasts aligned to the forecast day.

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first.
    level : float, default 0.99
        Confidence level in (0, 1).
    method : str, default "historical"
        See :func:`estimate_risk`.
    window : int, default 250
        Estimation window in days.
    refit_every : int, default 20
        Days between GARCH / Student-t ``dof`` re-estimations (see :func:`rolling_risk`).
    **options
        Further keyword options of :func:`rolling_risk`.

    Returns
    -------
    Series
        VaR forecast for day ``t`` from returns up to ``t - 1``, named ``"var"``.

    Raises
    ------
    ValueError, DataError
        See :func:`rolling_risk`.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(1).normal(0, 0.01, 300)
    >>> rolling_var(r, 0.99, "normal", window=250).shape
    (50,)
    """
    frame = rolling_risk(returns, level, method, window=window, refit_every=refit_every, **options)
    out = frame["var"]
    out.attrs.update(frame.attrs)
    return out


def rolling_es(
    returns: ReturnsLike,
    level: float = 0.99,
    method: Method = "historical",
    window: int = 250,
    refit_every: int = 20,
    **options: Any,
) -> pd.Series:
    """Out-of-sample one-day ES forecasts aligned to the forecast day.

    Parameters
    ----------
    returns : Series, DataFrame or array-like
        Daily returns, oldest first.
    level : float, default 0.99
        Confidence level in (0, 1).
    method : str, default "historical"
        See :func:`estimate_risk`.
    window : int, default 250
        Estimation window in days.
    refit_every : int, default 20
        See :func:`rolling_risk`.
    **options
        Further keyword options of :func:`rolling_risk`.

    Returns
    -------
    Series
        ES forecast for day ``t`` from returns up to ``t - 1``, named ``"es"``.

    Raises
    ------
    ValueError, DataError
        See :func:`rolling_risk`.
    """
    frame = rolling_risk(returns, level, method, window=window, refit_every=refit_every, **options)
    out = frame["es"]
    out.attrs.update(frame.attrs)
    return out


# ---------------------------------------------------------------------------------------
# Company market risk
# ---------------------------------------------------------------------------------------

_TRADING_DAYS = 252


def company_market_risk(
    prices: pd.DataFrame,
    level: float = 0.99,
    window: int = 250,
    *,
    returns_column: str | None = None,
    min_observations: int = 60,
    code_column: str = "code",
    date_column: str = "date",
    close_column: str = "close",
) -> pd.DataFrame:
    """Market risk of each listed company as of its last date.

    Parameters
    ----------
    prices : DataFrame
        Long frame with ``code``, ``date`` and ``close`` (e.g. ``load_dataset(
        "cn_csi300_stocks").frame``).
    level : float, default 0.99
        Confidence level in (0, 1).
    window : int, default 250
        Number of most recent daily returns per company.
    returns_column : str, optional
        A column of ready-made daily simple returns *as fractions* to use instead of
        ``close`` changes -- for unadjusted prices, whose close-to-close changes jump on
        ex-rights days (for baostock's ``pctChg``, divide by 100 first).
    min_observations : int, default 60
        Companies with fewer valid returns in the window get NaN measures and a
        ``status`` saying so.
    code_column, date_column, close_column : str
        Column names.

    Returns
    -------
    DataFrame
        One row per company, sorted by code: ``code``, ``as_of`` (last date),
        ``n_observations`` (valid returns used), ``n_missing`` (missing returns in the
        window, dropped), ``annualised_volatility`` (daily standard deviation x sqrt(252)),
        ``var_historical``, ``es_historical``, ``var_normal``, ``es_normal`` (one day,
        positive losses, module conventions), ``max_drawdown`` (largest peak-to-trough
        fall of the cumulated returns within the window, a positive fraction) and
        ``status`` (``"ok"`` or why the measures are missing).

    Raises
    ------
    SchemaError
        Missing columns or duplicated (code, date) rows.
    DataError
        Non-positive close prices.

    Notes
    -----
    Returns are simple, :math:`r_t = P_t / P_{t-1} - 1` per company in date order; a
    missing close makes the returns on both sides missing. Drawdown:
    :math:`\\max_t (1 - W_t / \\max_{s \\le t} W_s)` with :math:`W_t = \\prod (1 + r)`.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"code": ["A"] * 4, "date": pd.bdate_range("2024-01-01", periods=4),
    ...                   "close": [10.0, 11.0, 9.9, 10.89]})
    >>> out = company_market_risk(p, 0.9, window=3, min_observations=2)
    >>> int(out.loc[0, "n_observations"]), float(out.loc[0, "max_drawdown"])
    (3, 0.1)
    """
    level = _check_level(level)
    _check_positive_int(window, "window")
    source = returns_column if returns_column is not None else close_column
    needed = [code_column, date_column, source]
    missing = [c for c in needed if c not in prices.columns]
    if missing:
        raise SchemaError(
            f"prices: expected columns {missing} are missing; found {list(prices.columns)}."
        )
    frame = prices[needed].sort_values([code_column, date_column], kind="stable")
    dup = frame.duplicated([code_column, date_column])
    if dup.any():
        first = frame.loc[dup, [code_column, date_column]].iloc[0].to_dict()
        raise SchemaError(f"prices: {int(dup.sum())} duplicated (code, date) rows, e.g. {first}.")
    values = pd.to_numeric(frame[source], errors="raise").astype(float)
    if returns_column is None:
        if (values <= 0).any():
            bad = frame.loc[values <= 0, [code_column, date_column]].iloc[0].to_dict()
            raise DataError(f"prices: close prices must be positive; e.g. {bad}.")
        ret = values / values.groupby(frame[code_column], sort=False).shift(1) - 1.0
        first_row = ~frame[code_column].duplicated()
    else:
        ret = values
        first_row = pd.Series(False, index=frame.index)
    work = pd.DataFrame({"code": frame[code_column], "date": frame[date_column], "r": ret})
    work = work[~first_row.to_numpy()]
    rows = []
    z = stats.norm.ppf(level)
    for code, group in work.groupby("code", sort=True):
        tail = group.iloc[-window:]
        r = tail["r"].to_numpy(dtype=float)
        valid = r[np.isfinite(r)]
        row: dict[str, Any] = {
            "code": code,
            "as_of": group["date"].iloc[-1] if len(group) else pd.NaT,
            "n_observations": int(valid.size),
            "n_missing": int(r.size - valid.size),
        }
        if valid.size < max(min_observations, 2):
            row["status"] = f"insufficient history ({valid.size} < {min_observations} returns)"
            rows.append(row)
            continue
        var_h, es_h = _empirical(valid, level)
        sd = float(np.std(valid, ddof=1))
        mu = float(valid.mean())
        wealth = np.cumprod(np.concatenate([[1.0], 1.0 + valid]))
        drawdown = 1.0 - wealth / np.maximum.accumulate(wealth)
        row.update(
            annualised_volatility=sd * math.sqrt(_TRADING_DAYS),
            var_historical=float(var_h),
            es_historical=float(es_h),
            var_normal=sd * z - mu,
            es_normal=sd * float(stats.norm.pdf(z)) / (1.0 - level) - mu,
            max_drawdown=round(float(drawdown.max()), 12),
            status="ok",
        )
        rows.append(row)
    columns = [
        "code", "as_of", "n_observations", "n_missing", "annualised_volatility",
        "var_historical", "es_historical", "var_normal", "es_normal", "max_drawdown", "status",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=columns)
