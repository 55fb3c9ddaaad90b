"""The Mixture-of-Experts risk model: layers, multi-task network, estimator, explanations, I/O."""

from riskmoe.models.moe._calibration import Calibrator
from riskmoe.models.moe._estimator import MoERiskClassifier
from riskmoe.models.moe._explain import Explanation, integrated_gradients
from riskmoe.models.moe._layers import Expert, MoELayer, MoEOutput, Router, RouterOutput
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork, NetworkOutput

__all__ = [
    "Calibrator",
    "Expert",
    "Explanation",
    "MoEEnsemble",
    "MoELayer",
    "MoENetwork",
    "MoEOutput",
    "MoERiskClassifier",
    "NetworkOutput",
    "Router",
    "RouterOutput",
    "integrated_gradients",
]
