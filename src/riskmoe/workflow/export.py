"""Export job: a saved MoE model folder -> an ONNX export folder (optionally int8).

The export folder (default ``<model>/onnx``) holds the fp32 graph, the int8 graph when
asked for, a byte copy of the model's ``preprocess.json`` and a sha256 manifest; the
model folder's own files and manifest are not touched, so a registered model stays
verifiable. ``riskmoe score --format onnx`` scores through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from riskmoe.exceptions import DataError
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe._onnx import CONFIG, ExportResult, OnnxMoEScorer, export_onnx

__all__ = ["ExportFormat", "ScoringFormat", "export_model", "onnx_folder", "open_onnx_scorer"]

ExportFormat = Literal["onnx"]
ScoringFormat = Literal["torch", "onnx", "onnx-int8"]
EXPORT_FORMATS: tuple[str, ...] = ("onnx",)
SCORING_FORMATS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")


def export_model(
    model_dir: str | Path,
    *,
    fmt: str = "onnx",
    int8: bool = False,
    out_dir: str | Path | None = None,
) -> ExportResult:
    """Load (and verify) a saved model, export it, and check the graph's parity.

    Parameters
    ----------
    model_dir : path
        A folder written by ``riskmoe train`` / :meth:`MoERiskClassifier.save`.
    fmt : {"onnx"}
    int8 : bool, default False
        Also write the int8 dynamically quantised graph.
    out_dir : path, optional
        Export folder; default ``model_dir / "onnx"``.

    Raises
    ------
    ValueError
        For an unknown format.
    DataError
        For a missing, altered or malformed model folder, or a failed parity check.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; allowed: {', '.join(EXPORT_FORMATS)}.")
    model = MoERiskClassifier.load(model_dir)
    return export_onnx(model, model_dir, out_dir, int8=int8)


def onnx_folder(model: str | Path) -> Path:
    """The export folder for ``model``: the folder itself if it is an export, else
    ``model / "onnx"``.

    Raises
    ------
    DataError
        If neither holds an export.
    """
    path = Path(model)
    if (path / CONFIG).is_file():
        return path
    if (path / "onnx" / CONFIG).is_file():
        return path / "onnx"
    raise DataError(
        f"no ONNX export in {str(path)!r} or {str(path / 'onnx')!r}; run "
        f"`riskmoe export --model {path} --format onnx` first."
    )


def open_onnx_scorer(model: str | Path, fmt: str) -> OnnxMoEScorer:
    """An :class:`OnnxMoEScorer` for ``fmt`` ``"onnx"`` (fp32) or ``"onnx-int8"``.

    Raises
    ------
    ValueError
        For another format.
    DataError
        When the export is missing, altered or lacks the int8 graph.
    """
    if fmt not in ("onnx", "onnx-int8"):
        raise ValueError(f"unknown ONNX format {fmt!r}; allowed: onnx, onnx-int8.")
    return OnnxMoEScorer.load(onnx_folder(model), "int8" if fmt == "onnx-int8" else "fp32")
