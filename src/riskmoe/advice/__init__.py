"""Advice: turn grades and measures into priced, limited, hedged and allocated decisions.

=========================  ==============================================================
pricing                    :func:`raroc`, :func:`break_even_rate`, :class:`PricingTerms`,
                           :func:`price_exposures`, :func:`price_by_grade`
limits                     :class:`Limit`, :class:`LimitPolicy`, :func:`check_limits`,
                           :class:`LimitReport` (breaches -> monitoring alerts)
hedging                    :func:`min_variance_hedge_ratio`, :func:`hedge_contracts`,
                           :func:`hedged_variance_reduction`
allocation                 :func:`allocate` (skfolio mean-CVaR, risk parity, equal weight),
                           :func:`volatility_tiers`, :func:`walk_forward`
recommend                  :func:`recommend`, :func:`recommend_hedges` -> :class:`Recommendation`
=========================  ==============================================================

Pure functions and frozen results; the store is wired in ``riskmoe.workflow``.
"""

from riskmoe.advice.allocation import (
    ALLOCATION_METHODS,
    Allocation,
    AllocationConstraints,
    OutOfSampleResult,
    allocate,
    performance,
    volatility_tiers,
    walk_forward,
)
from riskmoe.advice.hedging import (
    HedgeRatio,
    hedge_contracts,
    hedged_variance_reduction,
    min_variance_hedge_ratio,
)
from riskmoe.advice.limits import (
    LIMIT_KINDS,
    Limit,
    LimitCheck,
    LimitPolicy,
    LimitReport,
    check_limits,
)
from riskmoe.advice.pricing import (
    PricingTerms,
    RarocResult,
    break_even_rate,
    price_by_grade,
    price_exposures,
    raroc,
)
from riskmoe.advice.recommend import HedgePosition, Recommendation, recommend, recommend_hedges

__all__ = [
    "ALLOCATION_METHODS",
    "LIMIT_KINDS",
    "Allocation",
    "AllocationConstraints",
    "HedgePosition",
    "HedgeRatio",
    "Limit",
    "LimitCheck",
    "LimitPolicy",
    "LimitReport",
    "OutOfSampleResult",
    "PricingTerms",
    "RarocResult",
    "Recommendation",
    "allocate",
    "break_even_rate",
    "check_limits",
    "hedge_contracts",
    "hedged_variance_reduction",
    "min_variance_hedge_ratio",
    "performance",
    "price_by_grade",
    "price_exposures",
    "raroc",
    "recommend",
    "recommend_hedges",
    "volatility_tiers",
    "walk_forward",
]
