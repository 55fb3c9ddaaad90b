"""Risk measurement and grading: master scale, credit (EL, Basel IRB), liquidity, market.

=========================  ==============================================================
grading                    :class:`MasterScale`, :func:`regrade`, :func:`migration_matrix`
credit                     :func:`expected_loss`, :func:`unexpected_loss`,
                           :func:`irb_risk_weight`, :func:`irb_capital_requirement`,
                           :func:`rwa`, :func:`capital`, :func:`credit_portfolio_summary`
liquidity                  :func:`liquidity_ratios`, :data:`CN_FINANCIALS_INPUTS`
market                     :func:`value_at_risk`, :func:`expected_shortfall`,
                           :func:`estimate_risk`, :func:`rolling_var`, :func:`rolling_es`,
                           :func:`rolling_risk`, :func:`company_market_risk`
backtest                   :func:`backtest`, :func:`kupiec_pof`, :func:`christoffersen`,
                           :func:`traffic_light`, :func:`acerbi_szekely_z2`
portfolio                  :class:`Book` (options, bonds, FX), :func:`generate_scenarios`,
                           :func:`full_revaluation_var`, :func:`delta_normal_var`,
                           :func:`surrogate_var`
=========================  ==============================================================

Pure functions and frozen results: frames in, results out. The store is wired in
``riskmoe.workflow``.
"""

from riskmoe.risk.backtest import (
    BacktestResult,
    ChristoffersenResult,
    KupiecResult,
    TrafficLightResult,
    Z2Result,
    acerbi_szekely_z2,
    backtest,
    christoffersen,
    kupiec_pof,
    traffic_light,
)
from riskmoe.risk.credit import (
    ASSET_CLASSES,
    CAPITAL_RATIO,
    IRB_SCALING_FACTOR,
    CreditPortfolioSummary,
    capital,
    credit_portfolio_summary,
    expected_loss,
    irb_capital_requirement,
    irb_correlation,
    irb_risk_weight,
    rwa,
    unexpected_loss,
)
from riskmoe.risk.grading import (
    BASEL_PD_FLOOR,
    DEFAULT_BOUNDS,
    DEFAULT_GRADE,
    DEFAULT_TIER_CUTOFFS,
    TIERS,
    MasterScale,
    MigrationMatrix,
    Regrading,
    migration_matrix,
    regrade,
)
from riskmoe.risk.liquidity import (
    CN_FINANCIALS_INPUTS,
    LIQUIDITY_RATIOS,
    LiquidityAssessment,
    liquidity_ratios,
)
from riskmoe.risk.market import (
    METHODS,
    RiskEstimate,
    company_market_risk,
    estimate_risk,
    expected_shortfall,
    rolling_es,
    rolling_risk,
    rolling_var,
    value_at_risk,
)
from riskmoe.risk.portfolio import (
    Book,
    BookRisk,
    EquityOption,
    FixedRateBond,
    FXPosition,
    MarketState,
    Scenarios,
    StockPosition,
    SurrogateResult,
    delta_normal_var,
    full_revaluation_var,
    generate_scenarios,
    surrogate_var,
)

__all__ = [
    # grading
    "BASEL_PD_FLOOR",
    "DEFAULT_BOUNDS",
    "DEFAULT_GRADE",
    "DEFAULT_TIER_CUTOFFS",
    "TIERS",
    "MasterScale",
    "MigrationMatrix",
    "Regrading",
    "migration_matrix",
    "regrade",
    # credit
    "ASSET_CLASSES",
    "CAPITAL_RATIO",
    "IRB_SCALING_FACTOR",
    "CreditPortfolioSummary",
    "capital",
    "credit_portfolio_summary",
    "expected_loss",
    "irb_capital_requirement",
    "irb_correlation",
    "irb_risk_weight",
    "rwa",
    "unexpected_loss",
    # liquidity
    "CN_FINANCIALS_INPUTS",
    "LIQUIDITY_RATIOS",
    "LiquidityAssessment",
    "liquidity_ratios",
    # market
    "METHODS",
    "RiskEstimate",
    "company_market_risk",
    "estimate_risk",
    "expected_shortfall",
    "rolling_es",
    "rolling_risk",
    "rolling_var",
    "value_at_risk",
    # backtest
    "BacktestResult",
    "ChristoffersenResult",
    "KupiecResult",
    "TrafficLightResult",
    "Z2Result",
    "acerbi_szekely_z2",
    "backtest",
    "christoffersen",
    "kupiec_pof",
    "traffic_light",
    # portfolio (nonlinear book)
    "Book",
    "BookRisk",
    "EquityOption",
    "FXPosition",
    "FixedRateBond",
    "MarketState",
    "Scenarios",
    "StockPosition",
    "SurrogateResult",
    "delta_normal_var",
    "full_revaluation_var",
    "generate_scenarios",
    "surrogate_var",
]
