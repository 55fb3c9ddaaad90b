"""The Mixture-of-Experts risk model: layers, multi-task network, estimator, explanations, I/O."""

from riskmoe.models.moe._calibration import Calibrator
from riskmoe.models.moe._distributed import DistributedMoERiskClassifier
from riskmoe.models.moe._estimator import MoERiskClassifier
from riskmoe.models.moe._explain import Explanation, integrated_gradients
from riskmoe.models.moe._extension import ExtendedMoEClassifier, ExtendedNetwork, add_expert
from riskmoe.models.moe._layers import Expert, MoELayer, MoEOutput, Router, RouterOutput
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork, NetworkOutput
from riskmoe.models.moe._onnx import ExportResult, OnnxMoEScorer, export_onnx, quantize_onnx
from riskmoe.models.moe._pretraining import (
    SHARED_COLUMNS,
    fine_tune,
    pretrain,
    shared_features,
)
from riskmoe.models.moe._pruning import PruneResult, prune_experts
from riskmoe.models.moe._regressor import MoERiskRegressor
from riskmoe.models.moe._serving import RecordScorer

__all__ = [
    "SHARED_COLUMNS",
    "Calibrator",
    "DistributedMoERiskClassifier",
    "Expert",
    "Explanation",
    "ExtendedMoEClassifier",
    "ExtendedNetwork",
    "ExportResult",
    "MoEEnsemble",
    "MoELayer",
    "MoENetwork",
    "MoEOutput",
    "MoERiskClassifier",
    "MoERiskRegressor",
    "NetworkOutput",
    "OnnxMoEScorer",
    "PruneResult",
    "RecordScorer",
    "Router",
    "RouterOutput",
    "add_expert",
    "export_onnx",
    "fine_tune",
    "integrated_gradients",
    "pretrain",
    "prune_experts",
    "quantize_onnx",
    "shared_features",
    # lazily imported (opacus is slow to import): see __getattr__
    "DPMoEClassifier",
    "PrivacyReport",
    "privacy_spent",
    "routing_noise",
]

_LAZY = {
    "DPMoEClassifier": "riskmoe.models.moe._privacy",
    "PrivacyReport": "riskmoe.models.moe._privacy",
    "privacy_spent": "riskmoe.models.moe._privacy",
    "routing_noise": "riskmoe.models.moe._privacy",
}


def __getattr__(name: str) -> object:
    """Import the privacy tools on first use (PEP 562): opacus takes seconds to import."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
