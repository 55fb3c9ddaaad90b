"""ONNX export of a fitted MoERiskClassifier, int8 dynamic quantisation, onnxruntime scoring.

The ONNX graph covers the network only -- encoded arrays in, the default-task logit out
(the ensemble mean, through the *dense* dispatch path, whose graph is static). The
preprocessing (fill values, quantile edges, vocabularies) and the post-hoc calibration
stay in Python as the same JSON the PyTorch model uses, so :class:`OnnxMoEScorer` applies
exactly the same encoder and calibrator as :meth:`MoERiskClassifier.predict_proba`.

An export folder is self-contained::

    model.onnx         fp32 graph (opset 17)
    model.int8.onnx    optional: weights quantised to int8 by onnxruntime (dynamic)
    preprocess.json    byte copy of the model's encoder + calibration state
    onnx_config.json   input names, classes, feature names, the source model's manifest
                       sha256 and the parity measured at export
    manifest.json      sha256 of every file and a digest of the manifest itself

Nothing is pickled; :meth:`OnnxMoEScorer.load` verifies every hash before use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from riskmoe.exceptions import DataError
from riskmoe.features import EncodedFrame, TabularEncoder
from riskmoe.models.moe._calibration import Calibrator
from riskmoe.models.moe._inputs import align_columns, as_frame
from riskmoe.models.moe._io import _canonical, _sha256, _version, _write
from riskmoe.models.moe._layers import Dispatch
from riskmoe.models.moe._network import MoEEnsemble, MoENetwork

if TYPE_CHECKING:
    import pandas as pd

    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = [
    "ExportResult",
    "OnnxMoEScorer",
    "OnnxVariant",
    "export_onnx",
    "quantize_onnx",
]

OnnxVariant = Literal["fp32", "int8"]
FORMAT = "riskmoe.MoERiskClassifier.onnx"
FORMAT_VERSION = 1
OPSET = 17
GRAPHS: dict[OnnxVariant, str] = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
CONFIG, PREPROCESS, MANIFEST = "onnx_config.json", "preprocess.json", "manifest.json"
INPUTS = ("numeric", "missing", "categorical")
PARITY_TOLERANCE = 1e-4  # logit units; export refuses a graph that disagrees more
_PROBE_ROWS = 256


class _DefaultTaskLogit(nn.Module):
    """Wraps the ensemble: encoded arrays -> default-task logit (batch,)."""

    def __init__(self, module: MoEEnsemble) -> None:
        super().__init__()
        self.module = module

    def forward(self, numeric: Tensor, missing: Tensor, categorical: Tensor) -> Tensor:
        return self.module(numeric, missing, categorical, [0]).logits[:, 0]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote.

    Attributes
    ----------
    path : Path
        The export folder.
    graphs : dict of str to Path
        ``{"fp32": .../model.onnx}`` plus ``"int8"`` when quantised.
    sizes : dict of str to int
        Bytes per graph.
    parity : dict of str to float
        Max absolute difference between onnxruntime and PyTorch logits on probe rows
        spanning the encoder's range (int8: the quantisation error, not a bug).
    source_manifest_sha256 : str
    """

    path: Path
    graphs: dict[str, Path]
    sizes: dict[str, int]
    parity: dict[str, float]
    source_manifest_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "path": str(self.path),
            "graphs": {k: str(v) for k, v in self.graphs.items()},
            "sizes": dict(self.sizes),
            "parity": dict(self.parity),
            "source_manifest_sha256": self.source_manifest_sha256,
        }


def probe_rows(encoder: TabularEncoder, n: int = _PROBE_ROWS, seed: int = 0) -> EncodedFrame:
    """Encoded rows across the encoder's range: values inside and just outside the
    quantile edges, some missing, every categorical index including unseen / missing."""
    rng = np.random.default_rng(seed)
    edges = encoder.bin_edges()
    numeric = np.empty((n, len(edges)), np.float32)
    for j, e in enumerate(edges):
        lo, hi = (float(min(e)), float(max(e))) if len(e) else (0.0, 1.0)
        pad = 0.1 * (hi - lo) + 1e-3
        numeric[:, j] = rng.uniform(lo - pad, hi + pad, n)
    missing = (rng.random((n, len(edges))) < 0.1).astype(np.float32)
    cards = encoder.cardinalities
    categorical = np.zeros((n, len(cards)), np.int64)
    for j, c in enumerate(cards):
        categorical[:, j] = rng.integers(0, c, n)
    return EncodedFrame(numeric, missing, categorical)


def _switch_to_dense(module: MoEEnsemble) -> list[Dispatch]:
    """Put every member on the dense path (static graph); return the previous modes."""
    previous: list[Dispatch] = []
    for member in module.members:
        assert isinstance(member, MoENetwork)
        previous.append(member.dispatch)
        member.dispatch = "dense"
    return previous


def _restore_dispatch(module: MoEEnsemble, previous: Sequence[Dispatch]) -> None:
    for member, mode in zip(module.members, previous, strict=True):
        assert isinstance(member, MoENetwork)
        member.dispatch = mode


@torch.no_grad()
def torch_logits(module: MoEEnsemble, encoded: EncodedFrame) -> np.ndarray:
    """Default-task logits of the PyTorch network (dense path) on encoded rows."""
    previous = _switch_to_dense(module)
    try:
        module.eval()
        out = _DefaultTaskLogit(module)(*(torch.from_numpy(a) for a in _arrays(encoded)))
    finally:
        _restore_dispatch(module, previous)
    return out.double().numpy()


def _arrays(encoded: EncodedFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.ascontiguousarray(encoded.numeric, dtype=np.float32),
        np.ascontiguousarray(encoded.missing, dtype=np.float32),
        np.ascontiguousarray(encoded.categorical, dtype=np.int64),
    )


def _session(path: Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(session: Any, encoded: EncodedFrame) -> np.ndarray:
    feed = dict(zip(INPUTS, _arrays(encoded), strict=True))
    # the tracer drops inputs the network never reads (e.g. no categorical columns)
    wanted = {i.name for i in session.get_inputs()}
    out = session.run(None, {k: v for k, v in feed.items() if k in wanted})[0]
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _export_graph(module: MoEEnsemble, example: EncodedFrame, path: Path) -> None:
    import onnx

    previous = _switch_to_dense(module)
    try:
        module.eval()
        wrapper = _DefaultTaskLogit(module).eval()
        args = tuple(torch.from_numpy(a) for a in _arrays(example))
        with warnings.catch_warnings():
            # the TorchScript exporter (the one that handles the router's top-k and
            # scatter without onnxscript) announces its deprecation and the tracer notes
            # constant index tensors; neither affects the graph, which parity checks below
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                args,
                str(path),
                input_names=list(INPUTS),
                output_names=["logit"],
                dynamic_axes={**{name: {0: "rows"} for name in INPUTS}, "logit": {0: "rows"}},
                opset_version=OPSET,
                dynamo=False,
            )
    finally:
        _restore_dispatch(module, previous)
    onnx.checker.check_model(str(path))


def quantize_onnx(src: str | Path, dst: str | Path, *, keep_router_fp32: bool = True) -> Path:
    """Int8 dynamic quantisation of an fp32 graph with onnxruntime.

    Weights of MatMul / Gemm nodes become int8 (per tensor, signed); activations are
    quantised on the fly per batch. Embedding tables and the top-k selection stay exact.

    Parameters
    ----------
    src, dst : path
        The fp32 graph and where to write the int8 one.
    keep_router_fp32 : bool, default True
        Leave the routers' linear gates in float32: a rounding error in a router logit
        can flip which experts a row is sent to (ST-MoE keeps routing in float32 for
        the same reason); the experts hold nearly all of the weights anyway.

    Returns
    -------
    Path
        ``dst``.

    References
    ----------
    .. [1] onnxruntime, "Quantize ONNX models" (``quantize_dynamic``).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(dst)
    exclude = []
    if keep_router_fp32:
        graph = onnx.load(str(src)).graph
        exclude = [node.name for node in graph.node if "/routers." in node.name]
    root = logging.getLogger()
    # onnxruntime logs a hint to pre-process the graph (shape inference for conv nets);
    # this graph has static widths, so drop that one record instead of printing it
    hint = _DropMessage("Please consider to run pre-processing before quantization")
    root.addFilter(hint)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(src), str(out), weight_type=QuantType.QInt8, nodes_to_exclude=exclude
            )
    finally:
        root.removeFilter(hint)
    return out


class _DropMessage(logging.Filter):
    """Drops log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def _manifest(folder: Path, names: Sequence[str]) -> None:
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {name: _sha256(folder / name) for name in names},
        "versions": {
            "riskmoe": _version("riskmoe"),
            "torch": torch.__version__,
            "onnx": _version("onnx"),
            "onnxruntime": _version("onnxruntime"),
        },
    }
    manifest = {**body, "digest": hashlib.sha256(_canonical(body)).hexdigest()}
    _write(folder / MANIFEST, _canonical(manifest))


def export_onnx(
    model: MoERiskClassifier,
    model_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    int8: bool = False,
) -> ExportResult:
    """Export a saved model's network to ONNX (and optionally int8) beside its preprocessing.

    Parameters
    ----------
    model : MoERiskClassifier
        The fitted model loaded from ``model_dir``.
    model_dir : path
        Its saved folder (``preprocess.json`` is copied byte for byte; the manifest's
        sha256 is recorded so a scorer can tell which weights the graph came from).
    out_dir : path, optional
        Export folder; default ``model_dir / "onnx"``. Replaced if it holds an export.
    int8 : bool, default False
        Also write ``model.int8.onnx`` (:func:`quantize_onnx`).

    Returns
    -------
    ExportResult

    Raises
    ------
    DataError
        If the model folder lacks its files, or the exported fp32 graph's logits differ
        from PyTorch's by more than ``PARITY_TOLERANCE`` on the probe rows.
    """
    source = Path(model_dir)
    for name in ("preprocess.json", "manifest.json"):
        if not (source / name).is_file():
            raise DataError(f"{name} is missing from {str(source)!r}; export a saved model.")
    folder = Path(out_dir) if out_dir is not None else source / "onnx"
    if folder.exists() and any(folder.iterdir()) and not (folder / CONFIG).is_file():
        raise DataError(
            f"{str(folder)!r} exists and holds files that are not an ONNX export; choose "
            "an empty or new folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for stale in GRAPHS.values():
        (folder / stale).unlink(missing_ok=True)
    module = model.module_
    probe = probe_rows(model.encoder_)
    reference = torch_logits(module, probe)
    graphs: dict[str, Path] = {"fp32": folder / GRAPHS["fp32"]}
    _export_graph(module, probe, graphs["fp32"])
    parity = {"fp32": float(np.max(np.abs(_run(_session(graphs["fp32"]), probe) - reference)))}
    if not parity["fp32"] <= PARITY_TOLERANCE:
        raise DataError(
            f"the exported graph disagrees with PyTorch by {parity['fp32']:.3g} in logit on "
            f"probe rows (allowed {PARITY_TOLERANCE}); not writing a broken export."
        )
    if int8:
        graphs["int8"] = quantize_onnx(graphs["fp32"], folder / GRAPHS["int8"])
        parity["int8"] = float(np.max(np.abs(_run(_session(graphs["int8"]), probe) - reference)))
    shutil.copyfile(source / "preprocess.json", folder / PREPROCESS)
    source_sha = _sha256(source / "manifest.json")
    classes = model.classes_
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "opset": OPSET,
        "inputs": list(INPUTS),
        "output": "logit",
        "graphs": {k: v.name for k, v in graphs.items()},
        "classes": {"dtype": str(classes.dtype), "values": [_plain(c) for c in classes]},
        "n_features_in": int(model.n_features_in_),
        "feature_names_in": (
            [str(c) for c in model.feature_names_in_]
            if hasattr(model, "feature_names_in_")
            else None
        ),
        "source_manifest_sha256": source_sha,
        "parity_probe_max_abs_logit": parity,
    }
    _write(folder / CONFIG, _canonical(config))
    _manifest(folder, [CONFIG, PREPROCESS, *(p.name for p in graphs.values())])
    sizes = {k: int(v.stat().st_size) for k, v in graphs.items()}
    return ExportResult(folder, graphs, sizes, parity, source_sha)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _verify(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise DataError(f"ONNX export folder {str(folder)!r} does not exist.")
    if not (folder / MANIFEST).is_file() or not (folder / CONFIG).is_file():
        raise DataError(
            f"{str(folder)!r} is not an ONNX export (no {MANIFEST} / {CONFIG}); run "
            "`riskmoe export --model DIR --format onnx` first."
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{MANIFEST} in {str(folder)!r} is not valid JSON ({exc}).") from exc
    body = {k: v for k, v in manifest.items() if k != "digest"}
    if hashlib.sha256(_canonical(body)).hexdigest() != manifest.get("digest"):
        raise DataError(
            f"{MANIFEST} in {str(folder)!r} failed its integrity check (digest mismatch). "
            "Refusing to load."
        )
    if manifest.get("format") != FORMAT:
        raise DataError(f"{str(folder)!r} holds {manifest.get('format')!r}, not {FORMAT!r}.")
    for name, expected in manifest.get("files", {}).items():
        file = folder / name
        if not file.is_file():
            raise DataError(f"{name} is missing from {str(folder)!r}. Refusing to load.")
        actual = _sha256(file)
        if actual != expected:
            raise DataError(
                f"{name} failed its integrity check: sha256 {actual} does not match the "
                f"manifest ({expected}); the export was modified. Refusing to load."
            )
    return manifest


class OnnxMoEScorer:
    """Scores raw frames with an exported graph and the model's own preprocessing.

    Same encoder, same column matching and same calibrator as
    :meth:`MoERiskClassifier.predict_proba`; only the network runs in onnxruntime.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
    encoder : TabularEncoder
    calibrator : Calibrator
    classes : ndarray of shape (2,)
    feature_names : list of str or None
        Training column names (None: the model was fitted on an array).
    variant : {"fp32", "int8"}

    See Also
    --------
    export_onnx : writes the folder :meth:`load` reads.
    """

    def __init__(
        self,
        session: Any,
        encoder: TabularEncoder,
        calibrator: Calibrator,
        classes: np.ndarray,
        feature_names: list[str] | None,
        variant: OnnxVariant = "fp32",
    ) -> None:
        self.session = session
        self.encoder_ = encoder
        self.calibrator_ = calibrator
        self.classes_ = classes
        self.variant = variant
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.n_features_in_ = len(encoder.columns_)

    @classmethod
    def load(
        cls, folder: str | Path, variant: OnnxVariant = "fp32", *, threads: int | None = None
    ) -> OnnxMoEScorer:
        """Verify an export folder's hashes and open its ``variant`` graph.

        ``threads``: onnxruntime intra-op threads (default: its own choice, all cores).

        Raises
        ------
        DataError
            Missing or altered files, or no graph of that variant in the export.
        """
        path = Path(folder)
        _verify(path)
        config = json.loads((path / CONFIG).read_text("utf-8"))
        graphs = config.get("graphs", {})
        if variant not in graphs:
            raise DataError(
                f"the export in {str(path)!r} has no {variant!r} graph (has "
                f"{sorted(graphs)}); re-export with --int8 for the quantised one."
            )
        preprocess = json.loads((path / PREPROCESS).read_text("utf-8"))
        classes = config["classes"]
        return cls(
            _session(path / graphs[variant], threads),
            TabularEncoder.from_dict(preprocess["encoder"]),
            Calibrator.from_dict(preprocess["calibration"]),
            np.asarray(
                classes["values"],
                dtype=object if classes["dtype"] == "object" else classes["dtype"],
            ),
            config.get("feature_names_in"),
            variant,
        )

    def encode(self, X: Any) -> EncodedFrame:
        """The encoder's arrays for ``X`` (columns matched as the PyTorch model does)."""
        frame, has_names = as_frame(X)
        frame = align_columns(
            frame,
            has_names,
            list(self.encoder_.columns_),
            hasattr(self, "feature_names_in_"),
            "MoERiskClassifier",
        )
        return self.encoder_.transform(frame)

    def decision_logits(self, X: Any) -> np.ndarray:
        """Raw default-task logits, shape (n_samples,)."""
        return _run(self.session, self.encode(X))

    def predict_proba(self, X: pd.DataFrame | Any) -> np.ndarray:
        """Calibrated class probabilities, shape (n_samples, 2); column 1 is the default."""
        p = self.calibrator_.transform(self.decision_logits(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Class labels: the default class where its probability exceeds 0.5."""
        p = self.predict_proba(X)[:, 1]
        return np.asarray(self.classes_[(p > 0.5).astype(np.int64)])
