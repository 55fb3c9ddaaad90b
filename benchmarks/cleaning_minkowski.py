"""Benchmark: which Minkowski order p finds injected outliers best on real credit data.

Runs :func:`riskmoe.cleaning.select_minkowski_p` on the real credit datasets that are
registered (German credit numeric columns at minimum; Give Me Some Credit, Taiwan credit
card default and Polish bankruptcy when available), subsampled so the whole script runs
in a few minutes on 2 cores, and writes

* ``benchmarks/results/cleaning_minkowski.json`` -- every run, summary, settings, timing;
* ``benchmarks/results/cleaning_minkowski.md`` -- the table and the chosen p.

The main setting shifts 2 % of rows by 5 robust standard deviations in 1-3 random columns;
a sensitivity setting repeats it with a 3-SD shift (reported, not used for the choice).

Usage::

    .venv/bin/python benchmarks/cleaning_minkowski.py [--repeats 3] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd
import sklearn

from riskmoe.cleaning import MinkowskiSelection, select_minkowski_p
from riskmoe.data import list_datasets, load_dataset

RESULTS = Path(__file__).resolve().parent / "results"

# name -> (extra non-feature columns to drop, row cap). The cap keeps brute-force
# neighbour search (used above ~15 dimensions) affordable for p = 1.5 and p = 3.
CANDIDATES: dict[str, tuple[tuple[str, ...], int]] = {
    "german_credit": ((), 1_000),
    "give_me_some_credit": ((), 10_000),
    "taiwan_credit_card": (("ID",), 4_000),
    "polish_bankruptcy": ((), 2_000),
}
MAIN = {"shift": 5.0}
SENSITIVITY = {"shift": 3.0}
NOTES = """\
## Notes

* Choices fixed after a one-repeat pilot (subsamples of all four datasets): winsorising
  before injection (`winsorize=3`) -- without it the natural gross extremes of ratio columns
  (Give Me Some Credit `DebtRatio`, Polish ratios with near-zero denominators) fill the top
  2 % and kNN recall is about 0 for every p on three of the four datasets; and `shift=5` --
  at 3 robust SDs the differences between p are close to the repeat-to-repeat noise (the
  3-SD run is kept below as a sensitivity check; it picks the same p).
* The injection model perturbs 1-3 columns of a row (a *sparse* anomaly). Larger p weighs
  the largest coordinate difference more, which suits sparse anomalies; anomalies spread
  thinly over many columns would favour smaller p. The choice is conditional on that model.
* Polish bankruptcy (64 heavy-tailed ratios) stays hard: recall at 2 % is 0.04-0.21 even
  after winsorising, though AUC rises from 0.72 (kNN, p=1) to 0.90 (LOF, p=3).
* Cost: p = 1 and 2 have fast paths in scikit-learn; other p need a power per coordinate
  pair and are roughly 10-50x slower in brute-force search (used above ~15 columns). The
  detectors' default stays p = 2; pass `p=3` where the extra cost is affordable.
"""


def load_frames() -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Feature frames (target and identifiers removed) of the registered candidates."""
    registered = {d.name for d in list_datasets()}
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, Any] = {}
    for name, (drop, _) in CANDIDATES.items():
        if name not in registered:
            print(f"skip {name}: not registered")
            continue
        dataset = load_dataset(name)
        columns = [c for c in (dataset.target, *drop) if c is not None]
        frames[name] = dataset.frame.drop(columns=columns)
        sources[name] = {
            "rows": len(dataset.frame),
            "dropped_columns": columns,
            "origin": dataset.meta.origin,
            "source": dataset.meta.source,
        }
    if "german_credit" not in frames or len(frames) < 2:
        raise SystemExit(f"need german_credit and one more real dataset; got {sorted(frames)}")
    return frames, sources


def markdown(main: MinkowskiSelection, sensitivity: MinkowskiSelection, meta: dict) -> str:
    """The results page."""
    lines = [
        "# Minkowski p for distance-based outlier detection (injected outliers, real data)",
        "",
        f"Command: `{meta['command']}` — {meta['seconds']:.0f} s on {meta['cpus']} "
        f"(scikit-learn {meta['sklearn']}).",
        "",
        f"**Chosen p = {main.chosen_p:g}** (per method: "
        + ", ".join(f"{m} p = {p:g}" for m, p in main.best_p_by_method.items())
        + ").",
        "",
        f"Criterion: {main.criterion}.",
        "",
        "Setting: "
        + ", ".join(f"{k}={v}" for k, v in main.settings.items())
        + ". Injection: a random `rate` share of rows is shifted by `shift` robust SDs "
        "(IQR/1.349, SD where the IQR is 0) with random sign in 1..`max_columns` random "
        "columns, after median imputation and Tukey far-out winsorising (`winsorize`). "
        "Scores are leave-self-out training scores of `KNNOutliers` (distance to the "
        "k-th neighbour) and `LOFOutliers`; recall = share of injected rows among the "
        "top n_injected scores (= precision there).",
        "",
        "| dataset | rows | cols | method | p | recall@rate | AUC |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for s in main.summary:
        info = main.datasets[s.dataset]
        lines.append(
            f"| {s.dataset} | {info['n_rows']} | {len(info['columns'])} | {s.method} | {s.p:g} "
            f"| {s.recall_mean:.3f} ± {s.recall_std:.3f} | {s.auc_mean:.3f} ± {s.auc_std:.3f} |"
        )
    lines += ["", "Pooled over datasets, methods and repeats:", ""]
    lines += ["| p | mean recall | mean AUC |", "|---:|---:|---:|"]
    for p in main.mean_recall_by_p:
        lines.append(f"| {p:g} | {main.mean_recall_by_p[p]:.3f} | {main.mean_auc_by_p[p]:.3f} |")
    lines += [
        "",
        f"## Sensitivity: shift = {sensitivity.settings['shift']:g} robust SDs",
        "",
        f"Chosen p = {sensitivity.chosen_p:g} (per method: "
        + ", ".join(f"{m} p = {p:g}" for m, p in sensitivity.best_p_by_method.items())
        + "). Not used for the choice.",
        "",
        "| p | mean recall | mean AUC |",
        "|---:|---:|---:|",
    ]
    for p in sensitivity.mean_recall_by_p:
        lines.append(
            f"| {p:g} | {sensitivity.mean_recall_by_p[p]:.3f} "
            f"| {sensitivity.mean_auc_by_p[p]:.3f} |"
        )
    lines += [
        "",
        "| dataset | method | p | recall@rate | AUC |",
        "|---|---|---:|---:|---:|",
    ]
    for s in sensitivity.summary:
        lines.append(
            f"| {s.dataset} | {s.method} | {s.p:g} | {s.recall_mean:.3f} ± {s.recall_std:.3f} "
            f"| {s.auc_mean:.3f} ± {s.auc_std:.3f} |"
        )
    return "\n".join(lines) + "\n\n" + NOTES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="injections per dataset")
    parser.add_argument("--n-jobs", type=int, default=2, help="neighbour-search jobs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    frames, sources = load_frames()
    caps = {name: CANDIDATES[name][1] for name in frames}
    common = {"n_repeats": args.repeats, "max_rows": caps, "n_jobs": args.n_jobs}
    main_result = select_minkowski_p(frames, **MAIN, **common, random_state=args.seed)
    print(main_result.to_frame().round(3).to_string())
    sensitivity = select_minkowski_p(frames, **SENSITIVITY, **common, random_state=args.seed)
    seconds = time.perf_counter() - start

    meta = {
        "command": "python benchmarks/cleaning_minkowski.py "
        f"--repeats {args.repeats} --n-jobs {args.n_jobs} --seed {args.seed}",
        "seconds": seconds,
        "cpus": f"{args.n_jobs} job(s), {platform.processor() or platform.machine()}",
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "chosen_p": main_result.chosen_p,
        "criterion": main_result.criterion,
        "main": main_result.to_dict(),
        "sensitivity": sensitivity.to_dict(),
        "sources": sources,
        "meta": meta,
    }
    (RESULTS / "cleaning_minkowski.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "cleaning_minkowski.md").write_text(markdown(main_result, sensitivity, meta))
    print(f"chosen p = {main_result.chosen_p:g}; {seconds:.0f} s; wrote {RESULTS}")


if __name__ == "__main__":
    main()
