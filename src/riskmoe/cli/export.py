"""``riskmoe export``: a trained model to ONNX (optionally int8) for onnxruntime scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmoe.cli._app import JsonOpt, app, err, handles_errors, out, print_json
from riskmoe.workflow import export as export_jobs


@app.command("export")
@handles_errors
def export(
    model: Annotated[Path, typer.Option(help="A model folder from `riskmoe train`.")],
    fmt: Annotated[str, typer.Option("--format", help="Export format: onnx.")] = "onnx",
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write an int8 dynamically quantised graph.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Export folder (default: MODEL/onnx).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the MoE network to ONNX, checking it scores like PyTorch (parity)."""
    with err.status(f"exporting {model} to {fmt}"):
        res = export_jobs.export_model(model, fmt=fmt, int8=int8, out_dir=out_dir)
    if as_json:
        print_json(res.to_dict())
        return
    for variant, path in res.graphs.items():
        out.print(
            f"{variant}: {path} ({res.sizes[variant] / 1024:,.0f} KiB; max |logit - PyTorch| "
            f"on probe rows {res.parity[variant]:.2g})"
        )
    out.print(f"score with: riskmoe score --model {res.path} --format onnx --input ... --out ...")
