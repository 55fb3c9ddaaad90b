"""Benchmark: extending a trained MoE with a macro-economic expert fed from FRED-MD.

Lending Club 2007-2011 loans are joined to FRED-MD (``fred_md``) of the month *before* each
loan's issue month (no look-ahead): unemployment rate, effective federal funds rate, Baa
corporate and 10-year Treasury spreads over fed funds, 12-month change of industrial
production and of the S&P 500. For each of the first ``--folds`` folds of the credit
benchmark's split (5-fold, seed 0, training fold capped at ``--max-train-rows``):

1. the training fold is split (stratified, seed = fold) into an "old" half A and a "new"
   half B;
2. ``base``: :class:`MoERiskClassifier` on A with the loan features only;
3. ``base + macro expert``: :func:`riskmoe.models.moe.add_expert` on B -- a new expert on
   the macro group, trained with the router only; all base weights frozen (checked bit for
   bit here too);
4. ``base refit on A+B``: the loan-only model trained again on all training rows (what the
   extension competes with when new data arrives);
5. ``full refit with macro``: a model trained from scratch on A+B with loan and macro
   features.

All scored on the untouched test fold. Writes ``benchmarks/results/extension.{json,md}``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/extension.py
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _model_risk_common import (
    Timer,
    credit_folds,
    machine,
    mean_std,
    one_thread,
    versions,
    write_results,
)

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.models import MoERiskClassifier
from riskmoe.models.moe import add_expert

MACRO_LEVELS = ("UNRATE", "FEDFUNDS", "BAAFFM", "T10YFFM")
MACRO_GROWTH = ("INDPRO", "S&P 500")
MODELS = ("base", "base + macro expert", "base refit on A+B", "full refit with macro")


def lending_club_with_macro(settings: Settings) -> tuple[pd.DataFrame, pd.Series, dict, list]:
    ds = load_dataset("lending_club", settings=settings)
    X, y = ds.X_y()
    fred = load_dataset("fred_md", settings=settings).frame
    idx = pd.PeriodIndex(fred["date"].dt.to_period("M"))
    macro = fred[list(MACRO_LEVELS)].set_axis(idx, axis=0).copy()
    for col in MACRO_GROWTH:
        series = fred[col].set_axis(idx, axis=0)
        macro[f"{col}_yoy"] = series / series.shift(12) - 1.0
    month = ds.frame["issue_d"].dt.to_period("M") - 1  # last month published before issue
    joined = pd.DataFrame(macro.reindex(month).to_numpy(), columns=macro.columns, index=X.index)
    groups = {k: list(v) for k, v in ds.feature_groups.items()}
    return X.join(joined), y.astype(int), groups, list(macro.columns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--max-train-rows", type=int, default=16_000)
    args = parser.parse_args(argv)
    timer = Timer()
    X, y, groups, macro_cols = lending_club_with_macro(Settings())
    loan_cols = [c for c in X.columns if c not in macro_cols]
    params: dict[str, Any] = {"n_ensemble": 1, "random_state": 0}
    records = []
    with one_thread():
        for fold in credit_folds(y, args.folds, args.max_train_rows):
            X_te, y_te = X.iloc[fold.test], y.iloc[fold.test].to_numpy()
            a, b = train_test_split(
                fold.train, test_size=0.5, stratify=y.iloc[fold.train], random_state=fold.fold
            )
            XA, yA, XB, yB = X.iloc[a], y.iloc[a], X.iloc[b], y.iloc[b]
            XAB, yAB = X.iloc[fold.train], y.iloc[fold.train]
            scores: dict[str, tuple[float, float]] = {}

            t = Timer()
            base = MoERiskClassifier(feature_groups=groups, **params).fit(XA[loan_cols], yA)
            scores["base"] = (
                roc_auc_score(y_te, base.predict_proba(X_te[loan_cols])[:, 1]),
                t.seconds,
            )
            frozen = {k: v.clone() for k, v in base.module_.state_dict().items()}

            t = Timer()
            ext = add_expert(base, {"macro": macro_cols}, XB, yB, random_state=0)
            scores["base + macro expert"] = (
                roc_auc_score(y_te, ext.predict_proba(X_te)[:, 1]),
                t.seconds,
            )
            identical = all(torch.equal(v, base.module_.state_dict()[k]) for k, v in frozen.items())
            identical &= all(
                torch.equal(p, q)
                for m, o in zip(ext.members_, base.module_.members, strict=True)
                for p, q in zip(m.base.parameters(), o.parameters(), strict=True)
            )
            usage = dict(
                zip(ext.expert_names_, ext.expert_usage(X_te).round(4).tolist(), strict=True)
            )

            t = Timer()
            refit = MoERiskClassifier(feature_groups=groups, **params).fit(XAB[loan_cols], yAB)
            scores["base refit on A+B"] = (
                roc_auc_score(y_te, refit.predict_proba(X_te[loan_cols])[:, 1]),
                t.seconds,
            )

            t = Timer()
            full = MoERiskClassifier(feature_groups={**groups, "macro": macro_cols}, **params).fit(
                XAB, yAB
            )
            scores["full refit with macro"] = (
                roc_auc_score(y_te, full.predict_proba(X_te)[:, 1]),
                t.seconds,
            )

            for model, (auc, secs) in scores.items():
                records.append({"fold": fold.fold, "model": model, "auc": auc, "fit_seconds": secs})
            records.append(
                {
                    "fold": fold.fold,
                    "model": "_checks",
                    "frozen_bit_identical": bool(identical),
                    "new_expert_usage_test": usage,
                    "n_A": len(a),
                    "n_B": len(b),
                    "n_test": len(fold.test),
                }
            )
            print(
                f"fold {fold.fold}: " + ", ".join(f"{k} {v[0]:.4f}" for k, v in scores.items()),
                file=sys.stderr,
            )

    meta = {
        "command": "python benchmarks/extension.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "seconds": timer.seconds,
        "machine": machine(),
        "versions": versions(),
        "folds": args.folds,
        "max_train_rows": args.max_train_rows,
        "macro_columns": macro_cols,
        "model_params": params,
    }
    checks = [r for r in records if r["model"] == "_checks"]
    lines = [
        "# Extension: a FRED-MD macro expert added to a trained Lending Club MoE",
        "",
        f"Command: `{meta['command']}` -- {meta['seconds'] / 60:.1f} min on {meta['machine']} "
        f"({', '.join(f'{k} {v}' for k, v in meta['versions'].items())}).",
        "",
        "Lending Club 2007-2011 (`lending_club`) joined to FRED-MD of the month before each "
        f"loan's issue month: {', '.join(macro_cols)} (`_yoy` = 12-month change). Folds: the "
        f"first {args.folds} of the credit benchmark's 5-fold split (seed 0), training folds "
        f"capped at {args.max_train_rows:,} rows and halved into A (old data) and B (new data); "
        "test folds whole. Single-member MoEs (`n_ensemble=1`) and two folds, planned for ~10 "
        "minutes on a 2-core machine (measured above while other jobs shared the cores, load "
        "average 5-10).",
        "",
        "| model | trained on | test AUC (mean ± std) | fit s (mean) |",
        "|---|---|---:|---:|",
    ]
    trained_on = {
        "base": "A, loan features",
        "base + macro expert": "A (frozen) + B for the new expert and router",
        "base refit on A+B": "A+B, loan features",
        "full refit with macro": "A+B, loan + macro features",
    }
    for model in MODELS:
        rows = [r for r in records if r["model"] == model]
        lines.append(
            f"| {model} | {trained_on[model]} | {mean_std([r['auc'] for r in rows])} | "
            f"{np.mean([r['fit_seconds'] for r in rows]):.1f} |"
        )
    lines += [
        "",
        f"Frozen weights bit-identical after `add_expert` on every fold: "
        f"{all(c['frozen_bit_identical'] for c in checks)}.",
        "",
        "Share of test rows routed to each expert of the extended model (first fold; top-2 "
        "routing, so shares sum to 2):",
        "",
    ]
    lines += [f"* {k}: {v:.1%}" for k, v in checks[0]["new_expert_usage_test"].items()]
    files = write_results("extension", {"meta": meta, "records": records}, lines)
    print(f"done in {timer.seconds / 60:.1f} min: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
