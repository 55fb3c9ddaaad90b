"""Benchmark: multi-task pre-training on three credit datasets, fine-tuning on German credit.

1. Pre-train one MoE (:func:`riskmoe.models.moe.pretrain`) on the shared features
   (:data:`riskmoe.models.moe.SHARED_COLUMNS`) of Taiwan credit card, Give Me Some Credit
   and Lending Club (a stratified sample of ``--pretrain-rows`` rows each); German credit
   is never seen in pre-training.
2. On each of the first ``--folds`` folds of the credit benchmark's German split (5-fold,
   seed 0), held-out AUC of

   * ``scratch (shared features)``: a fresh MoE on the German training fold's shared
     features;
   * ``fine-tuned (shared features)``: the pre-trained MoE fine-tuned on the same rows
     (:func:`riskmoe.models.moe.fine_tune`);
   * ``scratch (all German features)``: the MoE on all 20 German columns (reference).

   Single-member MoEs (``n_ensemble=1``) throughout, seed 0.

Writes ``benchmarks/results/pretraining.{json,md}``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/pretraining.py
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

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
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import fine_tune, pretrain, shared_features

SOURCES = ("taiwan_credit_card", "give_me_some_credit", "lending_club")
MODELS = (
    "scratch (shared features)",
    "fine-tuned (shared features)",
    "scratch (all German features)",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--pretrain-rows", type=int, default=6_000)
    args = parser.parse_args(argv)
    timer = Timer()
    settings = Settings()
    params: dict[str, Any] = {"n_ensemble": 1, "random_state": 0}
    records: list[dict[str, Any]] = []
    with one_thread():
        sources = {}
        for name in SOURCES:
            X, y, _ = load_credit(name, settings)
            keep, _ = train_test_split(
                np.arange(len(X)), train_size=args.pretrain_rows, stratify=y, random_state=0
            )
            sources[name] = (shared_features(name, X.iloc[keep]), y.iloc[keep])
        t = Timer()
        pre = pretrain(sources, **params)
        pretrain_s = t.seconds
        print(f"pre-trained in {pretrain_s:.0f} s", file=sys.stderr)
        X, y, groups = load_credit("german_credit", settings)
        Xs = shared_features("german_credit", X)
        for fold in credit_folds(y, args.folds, None):
            y_tr, y_te = y.iloc[fold.train], y.iloc[fold.test].to_numpy()
            for model in MODELS:
                t = Timer()
                if model == MODELS[0]:
                    est = MoERiskClassifier(**params).fit(Xs.iloc[fold.train], y_tr)
                elif model == MODELS[1]:
                    est = fine_tune(pre, Xs.iloc[fold.train], y_tr, random_state=0)
                else:
                    est = MoERiskClassifier(feature_groups=groups, **params).fit(
                        X.iloc[fold.train], y_tr
                    )
                test_X = X.iloc[fold.test] if "all German" in model else Xs.iloc[fold.test]
                auc = roc_auc_score(y_te, est.predict_proba(test_X)[:, 1])
                records.append(
                    {"fold": fold.fold, "model": model, "auc": auc, "fit_seconds": t.seconds}
                )
                print(f"fold {fold.fold} {model}: AUC {auc:.4f}", file=sys.stderr)
    meta = {
        "command": "python benchmarks/pretraining.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "seconds": timer.seconds,
        "machine": machine(),
        "versions": versions(),
        "folds": args.folds,
        "pretrain_rows_per_source": args.pretrain_rows,
        "pretrain_seconds": pretrain_s,
        "sources": list(SOURCES),
    }
    lines = [
        "# Multi-task pre-training on three credit datasets, fine-tuned on German credit",
        "",
        f"Command: `{meta['command']}` -- {meta['seconds'] / 60:.1f} min on {meta['machine']} "
        f"({', '.join(f'{k} {v}' for k, v in meta['versions'].items())}).",
        "",
        f"Pre-training: {args.pretrain_rows:,} stratified rows from each of "
        f"{', '.join(SOURCES)} in the shared schema (age, log amount, term, open credits, "
        "log monthly income, debt ratio, dependents; NaN where a dataset lacks one), main task "
        "= pooled default flag, one auxiliary task per source; "
        f"{pretrain_s:.0f} s. German credit folds: the first {args.folds} of the credit "
        "benchmark's 5-fold split (seed 0; the credit benchmark repeats German 3 times, here "
        "one repeat). Single-member MoEs.",
        "",
        "| model | German test AUC (mean ± std) | fit s (mean) |",
        "|---|---:|---:|",
    ]
    for model in MODELS:
        rows = [r for r in records if r["model"] == model]
        lines.append(
            f"| {model} | {mean_std([r['auc'] for r in rows])} | "
            f"{np.mean([r['fit_seconds'] for r in rows]):.1f} |"
        )
    diffs = [
        a["auc"] - b["auc"]
        for a, b in zip(
            [r for r in records if r["model"] == MODELS[1]],
            [r for r in records if r["model"] == MODELS[0]],
            strict=True,
        )
    ]
    lines += [
        "",
        "Fine-tuned minus scratch on the same shared features, per fold: "
        + ", ".join(f"{d:+.4f}" for d in diffs)
        + f" (mean {np.mean(diffs):+.4f}).",
    ]
    files = write_results("pretraining", {"meta": meta, "records": records}, lines)
    print(f"done in {timer.seconds / 60:.1f} min: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
