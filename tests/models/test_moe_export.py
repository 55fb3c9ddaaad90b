"""The dense dispatch path exports to ONNX (static graph) and scores like the torch model."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import Tensor, nn

from riskmoe.features import FeatureEmbedding
from riskmoe.models.moe import MoENetwork


class _DefaultLogit(nn.Module):
    def __init__(self, net: MoENetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, numeric: Tensor, missing: Tensor, categorical: Tensor) -> Tensor:
        return self.net(numeric, missing, categorical, [0]).logits


def test_dense_path_exports_to_onnx(tmp_path: Path):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        embedding = FeatureEmbedding([(0.0, 1.0, 2.0), (5.0, 9.0)], [4, 3], d_embedding=4)
        net = MoENetwork(embedding, [[0, 2], None, [1, 3]], n_shared=1, d_hidden=8, top_k=2)
    net.dispatch = "dense"
    model = _DefaultLogit(net).eval()
    rng = np.random.default_rng(0)

    def inputs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        numeric = rng.uniform(-1, 10, (n, 2)).astype(np.float32)
        missing = (rng.random((n, 2)) < 0.2).astype(np.float32)
        return numeric, missing, rng.integers(0, 3, (n, 2)).astype(np.int64)

    path = tmp_path / "moe.onnx"
    names = ["numeric", "missing", "categorical"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter deprecation notices
        torch.onnx.export(
            model,
            tuple(torch.from_numpy(a) for a in inputs(8)),
            str(path),
            input_names=names,
            output_names=["logit"],
            dynamic_axes={name: {0: "rows"} for name in names},
            dynamo=False,
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = inputs(33)  # another batch size than the one traced
    onnx_logit = session.run(None, dict(zip(names, batch, strict=True)))[0]
    with torch.no_grad():
        dense = model(*(torch.from_numpy(a) for a in batch)).numpy()
        net.dispatch = "sparse"
        sparse = model(*(torch.from_numpy(a) for a in batch)).numpy()
    np.testing.assert_allclose(onnx_logit, dense, atol=1e-5)
    np.testing.assert_allclose(sparse, dense, atol=1e-5)
