"""Benchmark: the MoE stacked with LightGBM, and the MoE averaged over seeds, same folds.

For each credit dataset and each of the first ``--folds`` folds of the credit benchmark's
split (5-fold, seed 0, training fold capped at ``--max-train-rows``), held-out AUC, Brier
score and fit time of

* ``moe``: the default :class:`MoERiskClassifier` (analyst feature groups; on these small
  datasets ``n_ensemble="auto"`` already averages 5 members with their own inner splits);
* ``lightgbm``: :func:`riskmoe.models.make_lightgbm` defaults;
* ``moe_seed_avg``: :class:`riskmoe.models.ensembles.SeedAveragedMoE`, 5 single-member MoEs
  (``n_ensemble=1``) with seeds 0..4;
* ``stacked_moe_lightgbm``: :class:`riskmoe.models.ensembles.StackedMoELightGBM` (3 inner
  folds, single-member MoE inside, logistic combiner).

Writes ``benchmarks/results/ensembles.{json,md}``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/ensembles.py
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _model_risk_common import (
    Timer,
    credit_folds,
    load_credit,
    machine,
    mean_std,
    one_thread,
    versions,
    write_results,
)

from riskmoe.config import Settings
from riskmoe.evaluation import probability_metrics
from riskmoe.models import MoERiskClassifier, make_lightgbm
from riskmoe.models.ensembles import SeedAveragedMoE, StackedMoELightGBM

MODELS = ("moe", "lightgbm", "moe_seed_avg", "stacked_moe_lightgbm")


def build(model: str, groups: dict[str, list[str]]) -> Any:
    single = {"feature_groups": groups, "n_ensemble": 1}
    if model == "moe":
        return MoERiskClassifier(feature_groups=groups, random_state=0)
    if model == "lightgbm":
        return make_lightgbm(random_state=0)
    if model == "moe_seed_avg":
        return SeedAveragedMoE(n_seeds=5, moe_params=single, random_state=0)
    return StackedMoELightGBM(moe_params=single, cv=3, random_state=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="german_credit,australian_credit")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-train-rows", type=int, default=5_000)
    args = parser.parse_args(argv)
    timer = Timer()
    settings = Settings()
    records: list[dict[str, Any]] = []
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    with one_thread():
        for name in names:
            X, y, groups = load_credit(name, settings)
            for fold in credit_folds(y, args.folds, args.max_train_rows):
                X_tr, y_tr = X.iloc[fold.train], y.iloc[fold.train]
                X_te, y_te = X.iloc[fold.test], y.iloc[fold.test].to_numpy()
                for model in MODELS:
                    t = Timer()
                    est = build(model, groups).fit(X_tr, y_tr)
                    fit_s = t.seconds
                    m = probability_metrics(y_te, est.predict_proba(X_te)[:, 1])
                    rec = {
                        "dataset": name,
                        "fold": fold.fold,
                        "model": model,
                        "auc": m.auc,
                        "brier": m.brier,
                        "ece": m.ece,
                        "fit_seconds": fit_s,
                        "n_train": len(fold.train),
                        "n_test": len(fold.test),
                    }
                    if model == "stacked_moe_lightgbm":
                        rec["combiner_weights"] = est.weights_
                    records.append(rec)
                    print(
                        f"{name} fold {fold.fold} {model}: AUC {m.auc:.4f} ({fit_s:.0f} s)",
                        file=sys.stderr,
                    )
    meta = {
        "command": "python benchmarks/ensembles.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "seconds": timer.seconds,
        "machine": machine(),
        "versions": versions(),
        "folds": args.folds,
        "max_train_rows": args.max_train_rows,
    }
    lines = [
        "# Ensembles: MoE + LightGBM stacking, MoE seed averaging",
        "",
        f"Command: `{meta['command']}` -- {meta['seconds'] / 60:.1f} min on {meta['machine']} "
        f"({', '.join(f'{k} {v}' for k, v in meta['versions'].items())}).",
        "",
        f"Folds: the first {args.folds} of the credit benchmark's 5-fold split (seed 0; the "
        "credit benchmark repeats these small datasets 3 times; here only the first repeat, "
        "to keep the run short on a busy 2-core machine). `moe` is the "
        "default model (on these datasets 5 averaged members); `moe_seed_avg` averages 5 "
        "single-member MoEs with seeds 0-4; `stacked_moe_lightgbm` is a logistic combiner "
        "over out-of-fold MoE (single member) and LightGBM probabilities (3 inner folds).",
        "",
        "| dataset | model | AUC | Brier | ECE | fit s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in names:
        for model in MODELS:
            rows = [r for r in records if r["dataset"] == name and r["model"] == model]
            lines.append(
                f"| {name} | {model} | {mean_std([r['auc'] for r in rows])} | "
                f"{mean_std([r['brier'] for r in rows])} | {mean_std([r['ece'] for r in rows])} | "
                f"{np.mean([r['fit_seconds'] for r in rows]):.1f} |"
            )
    lines += [
        "",
        "Combiner weights (logistic coefficients on each model's default probability):",
        "",
    ]
    for r in records:
        if r["model"] == "stacked_moe_lightgbm":
            w = r["combiner_weights"]
            lines.append(
                f"* {r['dataset']} fold {r['fold']}: MoE {w['moe']:.2f}, "
                f"LightGBM {w['lightgbm']:.2f}"
            )
    files = write_results("ensembles", {"meta": meta, "records": records}, lines)
    print(f"done in {timer.seconds / 60:.1f} min: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
