"""Benchmark: AUC of the DP-SGD-trained MoE versus epsilon, and of routing noise at inference.

For each credit dataset and each of the first ``--folds`` folds of the credit benchmark's
split (5-fold, seed 0, training fold capped at ``--max-train-rows`` rows):

* :class:`riskmoe.models.moe.DPMoEClassifier` at epsilon in {1, 3, 8, inf}
  (delta = 0.1 / n_train < 1 / n_train; inf = the same DP-SGD pipeline with clipping and no
  noise), held-out AUC;
* the plain :class:`MoERiskClassifier` (defaults, analyst feature groups), held-out AUC, and
  its AUC with Gaussian noise of std in {0.5, 1, 2} on the router logits at inference
  (:func:`riskmoe.models.moe.routing_noise`).

Writes ``benchmarks/results/privacy.{json,md,png}``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/privacy.py
    nice -n 10 .venv/bin/python benchmarks/privacy.py --datasets german_credit --folds 1
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _model_risk_common import (
    RESULTS,
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
from riskmoe.models.moe import DPMoEClassifier, routing_noise

EPSILONS = (1.0, 3.0, 8.0, math.inf)
NOISE_STDS = (0.0, 0.5, 1.0, 2.0)
DP_SETTINGS: dict[str, dict[str, Any]] = {
    # expected Poisson batch and epochs per dataset size (more steps cost more epsilon)
    "german_credit": {"batch_size": 64, "epochs": 15},
    "default": {"batch_size": 256, "epochs": 8},
}
DP_COMMON = {
    "learning_rate": 3e-3,
    "max_grad_norm": 1.0,
    "moe_params": {"expert_hidden": 32, "d_embedding": 8},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        default="german_credit,taiwan_credit_card",
        help="comma-separated credit datasets",
    )
    parser.add_argument("--folds", type=int, default=2, help="first N of the 5 folds")
    parser.add_argument("--max-train-rows", type=int, default=5_000)
    return parser.parse_args(argv)


def run_dataset(name: str, args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    X, y, groups = load_credit(name, settings)
    dp = {**DP_COMMON, **DP_SETTINGS.get(name, DP_SETTINGS["default"])}
    folds = credit_folds(y, args.folds, args.max_train_rows)
    records: list[dict[str, Any]] = []
    for fold in folds:
        X_tr, y_tr = X.iloc[fold.train], y.iloc[fold.train]
        X_te, y_te = X.iloc[fold.test], y.iloc[fold.test].to_numpy()
        timer = Timer()
        plain = MoERiskClassifier(feature_groups=groups, random_state=0).fit(X_tr, y_tr)
        fit_s = timer.seconds
        for std in NOISE_STDS:
            with routing_noise(plain, std=std, random_state=fold.fold):
                auc = roc_auc_score(y_te, plain.predict_proba(X_te)[:, 1])
            records.append(
                {
                    "fold": fold.fold,
                    "model": "moe",
                    "routing_noise_std": std,
                    "auc": auc,
                    "fit_seconds": fit_s,
                }
            )
        for eps in EPSILONS:
            timer = Timer()
            clf = DPMoEClassifier(
                target_epsilon=eps,
                random_state=0,
                **{**dp, "moe_params": {**dp["moe_params"], "feature_groups": groups}},
            ).fit(X_tr, y_tr)
            auc = roc_auc_score(y_te, clf.predict_proba(X_te)[:, 1])
            records.append(
                {
                    "fold": fold.fold,
                    "model": "dp_moe",
                    "target_epsilon": _key(eps),
                    "auc": auc,
                    "fit_seconds": timer.seconds,
                    "privacy": clf.privacy_.to_dict(),
                }
            )
            print(f"{name} fold {fold.fold} eps={eps}: AUC {auc:.4f}", file=sys.stderr)
    return {
        "dataset": name,
        "n_rows": len(X),
        "positive_rate": float(y.mean()),
        "n_train": [len(f.train) for f in folds],
        "n_test": [len(f.test) for f in folds],
        "dp_settings": dp,
        "records": records,
    }


def _key(eps: float) -> float | None:
    """Epsilon as stored in JSON: None for inf."""
    return eps if math.isfinite(eps) else None


def _fmt_eps(eps: float | None) -> str:
    return "inf" if eps is None else f"{eps:.3f}"


def _aucs(run: dict[str, Any], **match: Any) -> list[float]:
    return [r["auc"] for r in run["records"] if all(r.get(k) == v for k, v in match.items())]


def plot(runs: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [str(int(e)) if math.isfinite(e) else "inf" for e in EPSILONS]
    for run in runs:
        means = [np.mean(_aucs(run, model="dp_moe", target_epsilon=_key(e))) for e in EPSILONS]
        line = ax.plot(xs, means, marker="o", label=f"{run['dataset']} DP-SGD MoE")[0]
        plain = np.mean(_aucs(run, model="moe", routing_noise_std=0.0))
        ax.axhline(plain, ls="--", color=line.get_color(), label=f"{run['dataset']} plain MoE")
    ax.set_xlabel("epsilon (delta = 0.1 / n_train)")
    ax.set_ylabel("held-out AUC (mean over folds)")
    ax.set_title("AUC versus privacy budget")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def markdown(runs: list[dict[str, Any]], meta: dict[str, Any]) -> list[str]:
    lines = [
        "# Privacy: DP-SGD MoE (Opacus) and routing noise",
        "",
        f"Command: `{meta['command']}` -- {meta['seconds'] / 60:.1f} min on {meta['machine']} "
        f"({', '.join(f'{k} {v}' for k, v in meta['versions'].items())}).",
        "",
        f"Folds: the first {meta['folds']} of the credit benchmark's 5-fold split (seed 0); "
        f"training folds capped at {meta['max_train_rows']:,} rows (stratified), test folds whole. "
        "Fewer folds and smaller training sets than the credit benchmark, planned for ~10 "
        "minutes on a 2-core machine (the run time above was measured while other jobs "
        "shared the cores, load average 5-10): read the spread, not the third decimal.",
        "",
        "DP-SGD: Poisson sampling, per-row clipping at C = 1, Gaussian noise, Adam lr 3e-3, "
        "experts of width 32, dense dispatch, no dropout / router losses / early stopping / "
        "calibration / class weights (see `riskmoe.models.moe._privacy`). Epsilon from Opacus' "
        "RDP accountant with delta = 0.1 / n_train; `inf` = the same pipeline without noise. "
        "The encoder (quantile bins, vocabularies) is fitted on the training rows without "
        "privacy. The plain MoE row is the default `MoERiskClassifier` (feature groups, "
        "early stopping, calibration, ensembles).",
        "",
        "![AUC vs epsilon](privacy.png)",
        "",
        "## AUC versus epsilon (mean ± std over folds)",
        "",
        "| dataset | n_train | "
        + " | ".join(f"eps={'inf' if not math.isfinite(e) else int(e)}" for e in EPSILONS)
        + " | plain MoE |",
        "|---|---:|" + "---:|" * (len(EPSILONS) + 1),
    ]
    for run in runs:
        cells = [mean_std(_aucs(run, model="dp_moe", target_epsilon=_key(e))) for e in EPSILONS]
        plain = mean_std(_aucs(run, model="moe", routing_noise_std=0.0))
        lines.append(
            f"| {run['dataset']} | {run['n_train'][0]:,} | " + " | ".join(cells) + f" | {plain} |"
        )
    lines += ["", "Noise multipliers reached (sigma, first fold):", ""]
    for run in runs:
        sig = [
            f"eps={_fmt_eps(r['target_epsilon'])}: sigma={r['privacy']['noise_multiplier']:.3f}, "
            f"epsilon spent={_fmt_eps(r['privacy']['epsilon'])}"
            f", delta={r['privacy']['delta']:.2e}, steps={r['privacy']['steps']}"
            for r in run["records"]
            if r["model"] == "dp_moe" and r["fold"] == 0
        ]
        lines.append(f"* {run['dataset']}: " + "; ".join(sig))
    lines += [
        "",
        "## Routing noise at inference (plain MoE; mean ± std over folds)",
        "",
        "Gaussian noise of the given std added to every router's logits before top-k selection.",
        "",
        "| dataset | " + " | ".join(f"std={s}" for s in NOISE_STDS) + " |",
        "|---|" + "---:|" * len(NOISE_STDS),
    ]
    for run in runs:
        cells = [mean_std(_aucs(run, model="moe", routing_noise_std=s)) for s in NOISE_STDS]
        lines.append(f"| {run['dataset']} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings()
    timer = Timer()
    runs = []
    with one_thread():
        for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            runs.append(run_dataset(name, args, settings))
    meta = {
        "command": "python benchmarks/privacy.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "seconds": timer.seconds,
        "machine": machine(),
        "versions": versions(),
        "folds": args.folds,
        "max_train_rows": args.max_train_rows,
        "epsilons": [e if math.isfinite(e) else None for e in EPSILONS],
        "routing_noise_stds": list(NOISE_STDS),
    }
    files = write_results("privacy", {"meta": meta, "runs": runs}, markdown(runs, meta))
    files.append(plot(runs, RESULTS / "privacy.png"))
    print(f"done in {timer.seconds / 60:.1f} min: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
