"""Advice jobs: price, limit, hedge and allocate from the store and the shared data.

* :func:`advise_portfolio` reads the scored portfolio ``<dataset>_portfolio`` that
  ``riskmoe run`` stores, prices it by grade, checks the limits (breaches and warnings
  are appended to the monitoring room's ``alerts`` log) and returns the recommendations.
* :func:`advise_entity` prices one applicant from its PD.
* :func:`hedge_basket` hedges an equal-weighted basket of S&P 500 stocks with the index.
* :func:`allocate_stocks` allocates across S&P 500 stocks with the risk-tier cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from riskmoe.advice import (
    ALLOCATION_METHODS,
    Allocation,
    AllocationConstraints,
    HedgePosition,
    HedgeRatio,
    Limit,
    LimitPolicy,
    LimitReport,
    PricingTerms,
    RarocResult,
    Recommendation,
    allocate,
    break_even_rate,
    check_limits,
    hedge_contracts,
    hedged_variance_reduction,
    min_variance_hedge_ratio,
    price_by_grade,
    price_exposures,
    raroc,
    recommend,
    recommend_hedges,
)
from riskmoe.advice.allocation import Method
from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.store import Store, TableVersion
from riskmoe.exceptions import DataError, StoreError
from riskmoe.monitoring import ALERT_TABLE, alerts_frame
from riskmoe.risk import MasterScale
from riskmoe.workflow.returns import load_returns

__all__ = [
    "AdviceResult",
    "HedgeAdvice",
    "advise_entity",
    "advise_portfolio",
    "allocate_stocks",
    "default_limit_policy",
    "hedge_basket",
    "load_policy",
    "loan_raroc",
    "price_pds",
]

_EMINI_MULTIPLIER = 50.0  # CME E-mini S&P 500: $50 x index


def _json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


@dataclass(frozen=True)
class AdviceResult:
    """Pricing, limits and recommendations for one stored portfolio."""

    dataset: str
    source: str
    terms: PricingTerms
    pricing: pd.DataFrame
    limits: LimitReport
    recommendations: list[Recommendation]
    alerts_added: int
    reference: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "dataset": self.dataset,
            "source": self.source,
            "terms": self.terms.to_dict(),
            "pricing_by_grade": _json(self.pricing),
            "limits": self.limits.to_dict(),
            "alerts_added": self.alerts_added,
            "default_rate_reference": self.reference,
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


def default_limit_policy(book: pd.DataFrame) -> LimitPolicy:
    """A starting policy for a scored book (replace it with ``--limits FILE``).

    High-risk tier (grades 8-10) at most 10 % of EAD; no segment (purpose / industry)
    above 35 % -- only when the book has at least three segments, else such a cap would be
    infeasible --; no single exposure above 2 % of the book (books of 100 or more).
    Warnings at 90 % of a limit.
    """
    limits = [Limit("concentration", 0.10, by="tier", group="high", name="high-risk tier share")]
    if "segment" in book and book["segment"].astype(str).nunique() >= 3:
        limits.append(Limit("concentration", 0.35, by="segment", name="segment share"))
    if "row" in book and len(book) >= 100:  # 2 % caps need at least 50 names to be feasible
        limits.append(Limit("concentration", 0.02, by="row", name="single-name share"))
    return LimitPolicy(limits, default_warning=0.9)


def loan_raroc(
    exposure: float,
    rate: float,
    funding_rate: float,
    expected_loss_rate: float,
    operating_cost_rate: float,
    capital_ratio: float,
    capital_return_rate: float = 0.0,
    tax_rate: float = 0.0,
    hurdle: float = 0.15,
) -> tuple[RarocResult, float]:
    """RAROC of one loan and the break-even rate for ``hurdle``."""
    result = raroc(
        exposure,
        rate,
        funding_rate,
        expected_loss_rate,
        operating_cost_rate,
        capital_ratio,
        capital_return_rate,
        tax_rate,
    )
    rate_at_hurdle = break_even_rate(
        hurdle,
        funding_rate,
        expected_loss_rate,
        operating_cost_rate,
        capital_ratio,
        capital_return_rate,
        tax_rate,
    )
    return result, float(rate_at_hurdle)


def price_pds(pds: Sequence[float], terms: PricingTerms | None = None) -> pd.DataFrame:
    """Risk-based rate, grade and tier for each PD."""
    if not pds:
        raise DataError("give at least one PD to price.")
    priced = price_exposures(pd.DataFrame({"pd": list(pds)}), terms)
    scale = MasterScale()
    priced.insert(1, "grade", scale.grade(priced["pd"].to_numpy(dtype=float)))
    priced.insert(2, "tier", scale.tier(priced["pd"].to_numpy(dtype=float)))
    return priced


def load_policy(path: Path) -> LimitPolicy:
    """Read a JSON limit policy (see :meth:`LimitPolicy.to_dict` for the format)."""
    return LimitPolicy.from_json(Path(path).read_text(encoding="utf-8"))


def _portfolio(
    store: Store, dataset: str
) -> tuple[pd.DataFrame, TableVersion, pd.DataFrame | None]:
    name = f"{dataset}_portfolio"
    versions = store.versions(name)
    if not versions:
        raise StoreError(
            f"no scored portfolio {name!r} in the store; run `riskmoe run --dataset {dataset}` "
            "first (its credit stage stores the graded held-out cases)."
        )
    book = store.table(name)
    previous = store.table(name, versions[-2].version) if len(versions) > 1 else None
    return book, versions[-1], previous


def advise_portfolio(
    settings: Settings,
    dataset: str,
    *,
    terms: PricingTerms | None = None,
    policy: LimitPolicy | None = None,
    current_rate: float | None = None,
    experts: Sequence[str] | None = None,
    store: Store | None = None,
) -> AdviceResult:
    """Price, limit-check and advise the scored portfolio of ``dataset``.

    ``experts`` (one per portfolio row, in stored order) names the MoE expert that
    drove each PD; recommendations then cite the dominant expert of each grade/segment.

    Limit breaches and warnings are appended to the ``alerts`` log table (replays of
    the same book version add nothing). Segment default rates are compared with the
    previous stored version of the portfolio when there is one, else with the book.

    Raises
    ------
    StoreError
        No stored portfolio for ``dataset``.
    ConfigError
        An infeasible limit policy.
    """
    terms = PricingTerms() if terms is None else terms
    if store is None:
        with Store(settings.resolved_store_path) as opened:
            return advise_portfolio(
                settings,
                dataset,
                terms=terms,
                policy=policy,
                current_rate=current_rate,
                experts=experts,
                store=opened,
            )
    book, version, previous = _portfolio(store, dataset)
    if experts is not None:
        if len(experts) != len(book):
            raise DataError(
                f"experts has {len(experts)} entries for a portfolio of {len(book)} rows."
            )
        book = book.assign(expert=list(experts))
    reference_rates: dict[str, float] | None = None
    reference = "the whole book (no earlier version)"
    if previous is not None and {"segment", "y"} <= set(previous.columns):
        rates = previous.groupby(previous["segment"].astype(str))["y"].mean()
        reference_rates = {str(k): float(v) for k, v in rates.items()}
        reference = f"the previous version ({dataset}_portfolio v{version.version - 1})"
    policy = default_limit_policy(book) if policy is None else policy
    as_of = version.created_at
    as_of = as_of if isinstance(as_of, datetime) else pd.Timestamp(as_of).to_pydatetime()
    limits = check_limits(book, policy, as_of=as_of, source=version.table_name)
    alerts = limits.alerts()
    added = store.append(ALERT_TABLE, alerts_frame(alerts), key="alert_id") if alerts else 0
    recs = recommend(
        book,
        terms=terms,
        current_rate=current_rate,
        reference_default_rates=reference_rates,
        limits=limits,
    )
    return AdviceResult(
        dataset=dataset,
        source=version.table_name,
        terms=terms,
        pricing=price_by_grade(book, terms),
        limits=limits,
        recommendations=recs,
        alerts_added=added,
        reference=reference,
    )


def advise_entity(
    pd_: float,
    *,
    name: str = "this applicant",
    current_rate: float | None = None,
    lgd: float | None = None,
    terms: PricingTerms | None = None,
) -> list[Recommendation]:
    """Recommendations for one applicant from its PD (and LGD, current rate)."""
    entity: dict[str, Any] = {"pd": pd_, "name": name}
    if lgd is not None:
        entity["lgd"] = lgd
    return recommend(entity, terms=terms, current_rate=current_rate)


@dataclass(frozen=True)
class HedgeAdvice:
    """An index hedge of an S&P 500 basket, fitted and checked out of sample."""

    tickers: tuple[str, ...]
    index: str
    fit_period: str
    test_period: str
    hedge: HedgeRatio
    variance_reduction_out_of_sample: float
    position_value: float
    index_level: float
    contracts: float
    recommendations: list[Recommendation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "tickers": list(self.tickers),
            "index": self.index,
            "fit_period": self.fit_period,
            "test_period": self.test_period,
            "hedge": self.hedge.to_dict(),
            "variance_reduction_out_of_sample": self.variance_reduction_out_of_sample,
            "position_value": self.position_value,
            "index_level": self.index_level,
            "contracts": self.contracts,
            "recommendations": [r.to_dict() for r in self.recommendations],
        }


def hedge_basket(
    settings: Settings,
    tickers: Sequence[str],
    *,
    position_value: float = 10_000_000.0,
    fit_share: float = 0.4,
) -> HedgeAdvice:
    """Hedge an equal-weighted basket of S&P 500 stocks with the S&P 500 index.

    The hedge ratio is fitted on the first ``fit_share`` of the common history and its
    variance reduction measured on the rest. Contracts are E-mini S&P 500 ($50 x index),
    tailed at the index level on the last fitting day (the index stands in for its futures).

    Raises
    ------
    DataError
        Unknown tickers, fewer than 60 common days, or a bad ``fit_share``.
    """
    if not tickers:
        raise DataError("name at least one S&P 500 ticker to hedge.")
    if not 0.1 <= fit_share <= 0.9:
        raise DataError(f"fit_share must be in [0.1, 0.9]; got {fit_share}.")
    if not position_value > 0:
        raise DataError(f"position_value must be > 0; got {position_value}.")
    stocks = pd.concat(
        [load_returns(f"sp500:{t}", settings) for t in tickers], axis=1, join="inner"
    )
    index = load_returns("sp500", settings)
    stocks.index = pd.DatetimeIndex(stocks.index)
    index.index = pd.DatetimeIndex(index.index)
    common = stocks.index.intersection(index.index)
    if len(common) < 60:
        raise DataError(f"only {len(common)} days shared by the basket and the index; need 60.")
    basket = stocks.loc[common].mean(axis=1)
    fut = index.loc[common]
    cut = int(len(common) * fit_share)
    h = min_variance_hedge_ratio(basket.iloc[:cut], fut.iloc[:cut])
    import arch.data.sp500

    levels = arch.data.sp500.load()["Adj Close"].astype(float)
    levels.index = pd.DatetimeIndex(levels.index)
    level = float(levels.loc[common[cut - 1]])
    units = position_value / level  # index units of exposure
    contracts = hedge_contracts(
        h.ratio, units, _EMINI_MULTIPLIER, spot_price=level, futures_price=level
    )
    names = tuple(t.upper() for t in tickers)
    position = HedgePosition(
        f"basket {'+'.join(names)} ({position_value:,.0f})",
        units,
        _EMINI_MULTIPLIER,
        h,
        spot_price=level,
        futures_price=level,
    )
    return HedgeAdvice(
        tickers=names,
        index="sp500",
        fit_period=f"{common[0].date()} .. {common[cut - 1].date()}",
        test_period=f"{common[cut].date()} .. {common[-1].date()}",
        hedge=h,
        variance_reduction_out_of_sample=hedged_variance_reduction(
            basket.iloc[cut:], fut.iloc[cut:], h.ratio
        ),
        position_value=position_value,
        index_level=level,
        contracts=contracts,
        recommendations=recommend_hedges([position]),
    )


def allocate_stocks(
    settings: Settings,
    tickers: Sequence[str] | None = None,
    *,
    method: Method | str = "mean_cvar",
    window: int = 252,
    constraints: AllocationConstraints | None = None,
) -> Allocation:
    """Allocate across S&P 500 stocks on the last ``window`` days of ``sp500_stocks``.

    Without tickers: every stock with a full history over the window. Tiers are the
    volatility tiers of the window; high-risk names are capped by ``constraints``.

    Raises
    ------
    DataError
        Unknown tickers or too short a window.
    ConfigError
        Infeasible constraints.
    """
    prices = load_dataset("sp500_stocks", settings=settings).frame
    wide = prices.pivot(index="date", columns="ticker", values="close").sort_index()
    if tickers:
        wanted = [t.upper() for t in tickers]
        unknown = [t for t in wanted if t not in wide.columns]
        if unknown:
            raise DataError(f"no S&P 500 ticker {unknown} in sp500_stocks (2013-2018 panel).")
        wide = wide[wanted]
    if window < 60:
        raise DataError(f"window must be at least 60 days; got {window}.")
    if method not in ALLOCATION_METHODS:
        raise ValueError(f"method must be one of {list(ALLOCATION_METHODS)}; got {method!r}.")
    returns = wide.pct_change().iloc[1:].iloc[-window:].dropna(axis=1)
    return allocate(returns, cast(Method, method), constraints=constraints)
