"""Benchmark: the MoE risk model against LightGBM, random forest, logistic and MLP on credit data.

A thin command line over :func:`riskmoe.evaluation.run_credit_benchmark` (the same function
``riskmoe benchmark credit`` calls). It writes

* ``benchmarks/results/credit_models.json`` -- one record per (dataset, model, fold);
* ``benchmarks/results/credit_models.meta.json`` -- design, versions, run times;
* ``benchmarks/results/credit_models.md`` -- mean ± std tables, the TabArena targets beside
  ours, and the PNG plots (ROC + calibration per dataset, MoE expert utilisation).

Usage::

    .venv/bin/python benchmarks/credit_models.py                       # the full run
    .venv/bin/python benchmarks/credit_models.py --models lightgbm,random_forest,logistic,mlp
    .venv/bin/python benchmarks/credit_models.py --datasets german_credit --quick --out /tmp/b

The full run is planned to finish in under 60 minutes on 2 cores; ``--quick`` (2 folds,
<= 5,000 rows per dataset, a minimal tuning budget) is the CI smoke, not a result.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from riskmoe.config import Settings
from riskmoe.evaluation.benchmark import (
    AVAILABLE_MODELS,
    CREDIT_DATASETS,
    CREDIT_MODELS,
    CreditBenchmarkConfig,
    run_credit_benchmark,
)
from riskmoe.exceptions import RiskMoEError

RESULTS = Path(__file__).resolve().parent / "results"


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        type=_names,
        default=list(CREDIT_DATASETS),
        help=f"comma-separated, from {','.join(CREDIT_DATASETS)} (default: all)",
    )
    parser.add_argument(
        "--models",
        type=_names,
        default=list(CREDIT_MODELS),
        help=f"comma-separated, from {','.join(AVAILABLE_MODELS)} "
        f"(default: {','.join(CREDIT_MODELS)})",
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: 2 folds, <= 5,000 rows")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument(
        "--n-trials",
        type=int,
        default=None,
        help="tuning budget per (fold, model), random draws besides the defaults",
    )
    parser.add_argument(
        "--max-train-rows",
        type=int,
        default=None,
        help="cap on training-fold rows (stratified subsample; default 20,000, 0 = no cap)",
    )
    parser.add_argument(
        "--max-rows", type=int, default=None, help="subsample every dataset to this many rows"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the folds and models (default: RISKMOE_RANDOM_STATE, else 0)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="folds run side by side (default: 2, quick: 1)"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = CreditBenchmarkConfig.quick() if args.quick else CreditBenchmarkConfig()
    overrides: dict[str, object] = {}
    if args.n_trials is not None:
        overrides["n_trials"] = args.n_trials
    if args.max_train_rows is not None:
        overrides["max_train_rows"] = args.max_train_rows or None
    if args.max_rows is not None:
        overrides["max_rows"] = args.max_rows
    if args.no_plots:
        overrides["plots"] = False
    if args.jobs is not None:
        overrides["n_jobs"] = args.jobs
    if overrides:
        config = dataclasses.replace(config, **overrides)
    command = "python benchmarks/credit_models.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=args.no_progress,
    )
    task = progress.add_task("loading datasets", total=None)

    started = time.perf_counter()
    steps = {"done": 0, "total": 0}

    def on_progress(message: str) -> None:
        if message.startswith("total "):
            steps["total"] = int(message.split()[1])
            progress.update(task, total=steps["total"], description="benchmark")
            return
        steps["done"] += 1
        progress.update(task, advance=1, description=message)
        if args.no_progress:  # a plain log line per step instead of the bar
            minutes = (time.perf_counter() - started) / 60
            console.print(f"[{steps['done']}/{steps['total']} {minutes:5.1f} min] {message}")

    try:
        with progress:
            result = run_credit_benchmark(
                args.datasets,
                args.models,
                quick=args.quick,
                out_dir=args.out,
                settings=Settings() if args.seed is None else Settings(random_state=args.seed),
                config=config,
                progress=on_progress,
                command=command.strip(),
            )
    except (RiskMoEError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(
        f"done in {result.seconds / 60:.1f} min; wrote {', '.join(p.name for p in result.files)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
