"""``riskmoe train``, ``score`` and ``benchmark credit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskmoe.cli._app import (
    JsonOpt,
    OptionOpt,
    app,
    benchmark_app,
    err,
    handles_errors,
    load_settings,
    out,
    parse_options,
    print_json,
)
from riskmoe.workflow import models as model_jobs


@app.command("train")
@handles_errors
def train(
    dataset: Annotated[str, typer.Option(help="Dataset with a binary target.")],
    out_dir: Annotated[Path, typer.Option("--out", help="New folder for the model.")],
    option: OptionOpt = None,
    test_size: Annotated[float, typer.Option(help="Held-out share for the metrics.")] = 0.2,
    distributed: Annotated[
        bool, typer.Option(help="Train with DDP under torchrun (gloo on CPU).")
    ] = False,
    nproc: Annotated[int, typer.Option(help="Processes with --distributed.")] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Train the MoE model, evaluate it on a held-out split, save and register it."""
    if distributed:
        from riskmoe.workflow.distributed import train_distributed

        with err.status(f"training the MoE on {dataset} with {nproc} DDP processes"):
            ddp = train_distributed(
                dataset,
                out_dir,
                load_settings(),
                nproc=nproc,
                test_size=test_size,
                **parse_options(option),
            )
        if as_json:
            print_json(ddp.to_dict())
            return
        t, dm = ddp.train, ddp.train["metrics"]
        out.print(
            f"{t['model_id']}: {ddp.world_size} processes ({ddp.backend}), "
            f"{ddp.seconds:.0f} s; {t['n_train']:,} training rows; held-out {t['n_test']:,} "
            f"rows: AUC {dm['auc']:.4f}, KS {dm['ks']:.4f}, Brier {dm['brier']:.4f}; "
            f"saved to {t['path']}"
        )
        return
    with err.status(f"training the MoE on {dataset}"):
        res = model_jobs.train(
            dataset, out_dir, load_settings(), test_size=test_size, **parse_options(option)
        )
    if as_json:
        print_json(res.to_dict())
        return
    m = res.metrics
    out.print(
        f"{res.model_id}: {res.n_train:,} training rows; held-out {res.n_test:,} rows: "
        f"AUC {m.auc:.4f}, KS {m.ks:.4f}, Brier {m.brier:.4f}, ECE {m.ece:.4f}"
    )
    usage = Table(title="expert utilisation (share of training rows routed)")
    usage.add_column("expert")
    usage.add_column("share", justify="right")
    for name, share in res.expert_usage.items():
        usage.add_row(name, f"{share:.1%}")
    out.print(usage)
    v = res.registry_version
    out.print(f"saved to {res.path}; registered in {v.name} v{v.version}")


@app.command("score")
@handles_errors
def score(
    input_path: Annotated[Path, typer.Option("--input", help="CSV / Parquet / XLSX to score.")],
    out_path: Annotated[Path, typer.Option("--out", help="Scores file (.csv or .parquet).")],
    model: Annotated[
        Path | None,
        typer.Option(
            help="A model folder from `riskmoe train` (default: the active model, else the "
            "newest registered one)."
        ),
    ] = None,
    explain: Annotated[bool, typer.Option(help="Add the top three reason codes per row.")] = False,
    model_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="torch (the saved model), onnx or onnx-int8 (its `riskmoe export`).",
        ),
    ] = "torch",
    as_json: JsonOpt = False,
) -> None:
    """Score a file: PD, master-scale grade and tier per row (and reason codes)."""
    if model is None:
        model = model_jobs.serving_model_dir(load_settings())
    with err.status(f"scoring {input_path}"):
        res = model_jobs.score_file(
            model, input_path, out_path, explain=explain, model_format=model_format
        )
    if as_json:
        print_json(res.to_dict())
        return
    tiers = ", ".join(f"{k} {v:,}" for k, v in sorted(res.tier_counts.items()))
    out.print(f"scored {res.rows:,} rows (mean PD {res.mean_pd:.2%}; {tiers}) -> {res.output}")


@benchmark_app.command("credit")
@handles_errors
def benchmark_credit(
    datasets: Annotated[str | None, typer.Option(help="Comma-separated datasets.")] = None,
    models: Annotated[str | None, typer.Option(help="Comma-separated models.")] = None,
    quick: Annotated[
        bool, typer.Option(help="2 folds on at most 5,000 rows (a smoke run).")
    ] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Results folder.")] = Path(
        "benchmarks/results"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Cross-validated credit benchmark: MoE against LightGBM, random forest, logistic, MLP."""
    from riskmoe.evaluation import run_credit_benchmark

    def split(value: str | None) -> list[str] | None:
        return [v.strip() for v in value.split(",") if v.strip()] if value else None

    with err.status("running the credit benchmark (see --quick for a smoke run)"):
        result = run_credit_benchmark(
            split(datasets),
            split(models),
            quick,
            out_dir,
            load_settings(),
            command="riskmoe benchmark credit",
        )
    if as_json:
        print_json(result.to_dict())
        return
    out.print(f"{len(result.records)} fold records in {result.seconds / 60:.1f} min")
    for f in result.files:
        out.print(f"  wrote {f}")
