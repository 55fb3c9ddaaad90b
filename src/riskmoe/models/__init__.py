"""Models: the Mixture-of-Experts risk classifier and configured baselines."""

from riskmoe.models.baselines import (
    LightGBMClassifier,
    ParameterMatchedMLP,
    make_lightgbm,
    make_logistic,
    make_mlp,
    make_random_forest,
    make_scorecard,
)
from riskmoe.models.moe import Explanation, MoERiskClassifier, MoERiskRegressor, RecordScorer

__all__ = [
    "Explanation",
    "LightGBMClassifier",
    "MoERiskClassifier",
    "MoERiskRegressor",
    "ParameterMatchedMLP",
    "RecordScorer",
    "make_lightgbm",
    "make_logistic",
    "make_mlp",
    "make_random_forest",
    "make_scorecard",
]
