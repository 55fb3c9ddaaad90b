"""Models: the Mixture-of-Experts risk classifier and configured baselines."""

from riskmoe.models.baselines import make_logistic

__all__ = ["make_logistic"]
