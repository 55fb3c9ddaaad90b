"""The credit-model benchmark: the MoE against LightGBM, random forest, logistic and MLP.

:func:`run_credit_benchmark` cross-validates the chosen models on the chosen credit
datasets with :func:`riskmoe.evaluation.cross_validate_models` and, given an output
folder, writes

* ``credit_models.json`` -- a list of per-fold records (:data:`RECORD_KEYS`);
* ``credit_models.meta.json`` -- the design, settings, versions and run times;
* ``credit_models.md`` -- mean ± std tables, the public targets beside ours, the plots;
* ``credit_models_<dataset>.png`` -- ROC and calibration curves (out-of-fold, repeat 0);
* ``credit_models_expert_usage.png`` -- MoE expert utilisation, when the MoE ran.

Design (the full run)
---------------------
* Folds: stratified 5-fold CV, repeated 3 times on datasets under 5,000 rows and on
  ``cn_distress`` (1.4 % positives), once elsewhere; the same folds for every model.
* Training folds larger than 20,000 rows are cut to a stratified 20,000-row subsample
  (the same rows for every model); test folds are scored whole. This is the cap that
  lets the MoE run on Give Me Some Credit and Lending Club inside the hour.
* Tuning budget, equal for every tuned model (LightGBM, random forest, MLP, MoE): the
  defaults plus ``n_trials`` random draws (:func:`riskmoe.evaluation.tune`) per fold,
  scored by AUC on an inner stratified 80/20 split of the training fold (at most
  ``tune_max_rows`` rows), the winner refitted on the whole training fold -- nested, so
  no test row influences a choice. The full run's budget is **0 draws**: every model at
  its documented defaults, because even 2 draws per fold for the MoE (about 10-40 s a
  fit at these sizes) would not fit the 60-minute budget; ``--n-trials N`` gives every
  tuned model the same N. Logistic regression is a fixed reference (C = 1), never tuned.
* One BLAS / OpenMP thread per model (:attr:`CreditBenchmarkConfig.threads`).
* ``quick``: 2 folds, no repeats, each dataset subsampled (stratified) to 5,000 rows, one
  random draw on at most 1,000 rows, 20 latency calls -- a smoke test, not a result.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import train_test_split

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.evaluation.credit_bar import bar_markdown, calibration_by_dataset, credit_bar
from riskmoe.evaluation.cv import (
    CVResult,
    FoldContext,
    ModelSpec,
    ProgressCallback,
    cross_validate_models,
    summarize,
)
from riskmoe.evaluation.plots import plot_expert_usage, plot_roc_calibration, usage_table
from riskmoe.exceptions import ConfigError
from riskmoe.models.baselines import (
    LIGHTGBM_SPACE,
    MLP_SPACE,
    RANDOM_FOREST_SPACE,
    make_lightgbm,
    make_logistic,
    make_mlp,
    make_random_forest,
    make_scorecard,
)

__all__ = [
    "CREDIT_DATASETS",
    "CREDIT_MODELS",
    "CreditBenchmarkConfig",
    "CreditBenchmarkResult",
    "AVAILABLE_MODELS",
    "EXTRA_KEYS",
    "MOE_SPACE",
    "RECORD_KEYS",
    "REQUIRED_KEYS",
    "TARGETS",
    "credit_model_specs",
    "run_credit_benchmark",
]

CREDIT_DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "german_credit": ("german_credit", {}),
    "australian_credit": ("australian_credit", {}),
    "taiwan_credit_card": ("taiwan_credit_card", {}),
    "give_me_some_credit": ("give_me_some_credit", {}),
    "polish_bankruptcy_y1": ("polish_bankruptcy", {"year": 1}),
    "polish_bankruptcy_y5": ("polish_bankruptcy", {"year": 5}),
    "lending_club": ("lending_club", {}),
    "cn_distress": ("cn_distress", {}),
}
"""Benchmark record name -> (registry name, dataset options)."""

CREDIT_MODELS: tuple[str, ...] = ("moe", "lightgbm", "random_forest", "logistic", "mlp")
"""The models of the issue, in run order (the MoE before the MLP matched to it)."""

AVAILABLE_MODELS: tuple[str, ...] = (  # run order; ``scorecard`` is an optional extra
    "moe",
    "lightgbm",
    "random_forest",
    "logistic",
    "scorecard",
    "mlp",
)

REQUIRED_KEYS: tuple[str, ...] = (
    "dataset",
    "model",
    "fold",
    "auc",
    "ks",
    "pr_auc",
    "brier",
    "logloss",
    "ece",
    "fit_seconds",
    "predict_rows_per_s",
)
"""Keys every JSON record has (issue 3)."""

EXTRA_KEYS: tuple[str, ...] = (
    "repeat",
    "n_train",
    "n_test",
    "positives_test",
    "single_row_ms",
    "tune_seconds",
    "n_trials",
    "best_params",
    "n_parameters",
)
"""Further keys of every record: fold design, latency, tuning, parameter count."""

RECORD_KEYS: tuple[str, ...] = REQUIRED_KEYS + EXTRA_KEYS

TARGETS: dict[str, dict[str, tuple[float, str]]] = {
    "give_me_some_credit": {
        "best": (0.8722, "TabPFN-3"),
        "gbdt": (0.8706, "LightGBM"),
        "tabm": (0.8708, "TabM tuned+ens"),
        "logistic": (0.845, "logistic"),
    },
    "taiwan_credit_card": {
        "best": (0.7950, "TabICLv2"),
        "gbdt": (0.7907, "XGBoost"),
        "tabm": (0.7926, "TabM tuned+ens"),
        "logistic": (0.747, "logistic"),
    },
    "polish_bankruptcy_y5": {
        "best": (0.9973, "AutoGluon"),
        "gbdt": (0.9707, "CatBoost"),
        "tabm": (0.9778, "TabM tuned+ens"),
        "logistic": (0.90, "logistic"),
    },
    "german_credit": {
        "best": (0.7967, "RealMLP"),
        "gbdt": (0.7927, "CatBoost"),
        "tabm": (0.7882, "TabM tuned+ens"),
        "logistic": (0.766, "logistic"),
    },
}
"""TabArena single-split AUCs (first split of 3-fold outer CV), from the issue / ANCHORS.md."""

MOE_SPACE: dict[str, Any] = {
    "learning_rate": stats.loguniform(5e-4, 3e-3),
    "weight_decay": stats.loguniform(1e-5, 1e-3),
    "dropout": [0.0, 0.1, 0.2],
    "expert_hidden": [64, 128],
}
"""Search space of the MoE (around the TabM recipe in ANCHORS.md: AdamW lr 1e-3 to 2e-3,
weight decay about 3e-4, dropout 0.1); only names ``MoERiskClassifier`` accepts are used."""


@dataclass(frozen=True)
class CreditBenchmarkConfig:
    """Knobs of the benchmark (the defaults are the full run; :meth:`quick` the smoke).

    Parameters
    ----------
    n_splits : int
        Folds per repeat.
    n_repeats_small : int
        Repeats on datasets with fewer than ``small_rows`` rows and on
        ``repeated_datasets``; others get one.
    small_rows : int
        Size below which folds are repeated.
    repeated_datasets : tuple of str
        Datasets always repeated (rare positives).
    n_trials : int
        Tuning budget per (fold, model): random draws besides the defaults.
    tune_max_rows : int
        Rows (stratified subsample of the training fold) the search may use.
    max_rows : int or None
        Stratified subsample of each dataset before CV (``None``: all rows).
    max_train_rows : int or None
        Train on a stratified subsample of at most this many rows of each training fold
        (the same rows for every model); every test fold is scored whole.
    throughput_rows : int
        Batch size for ``predict_rows_per_s``.
    latency_calls : int
        One-row calls for ``single_row_ms``.
    latency_folds : int or None
        Measure single-row latency on the first this-many folds of each dataset only
        (``None``: every fold).
    mlp_parameters : int
        The MLP's parameter target on folds where no MoE was fitted.
    threads : int or None
        BLAS and OpenMP threads during the run (``threadpoolctl``; this covers numpy,
        LightGBM and torch's intra-op pool); ``None`` leaves them be. One by default:
        tabular models multiply small matrices, where a second thread costs more in
        synchronisation than it saves, and far more on a busy machine (measured on this
        2-core machine with other jobs running: the MLP on German credit 0.5-0.7 s with
        one thread vs 5.5-8.9 s with two; the MoE 16.5 s vs 286 s).
    plots : bool
        Draw PNG figures.
    n_jobs : int
        Folds run side by side in separate processes (one per core of this 2-core
        machine); each fold is seeded on its own, so the metrics equal a serial run's.
    """

    n_splits: int = 5
    n_repeats_small: int = 3
    small_rows: int = 5_000
    repeated_datasets: tuple[str, ...] = ("cn_distress",)
    n_trials: int = 0
    tune_max_rows: int = 5_000
    max_rows: int | None = None
    max_train_rows: int | None = 20_000
    throughput_rows: int = 10_000
    latency_calls: int = 200
    latency_folds: int | None = 1
    mlp_parameters: int = 10_000
    threads: int | None = 1
    plots: bool = True
    n_jobs: int = 2

    @classmethod
    def quick(cls) -> CreditBenchmarkConfig:
        """The CI smoke: 2 folds, 5,000-row cap, 1 draw on <= 1,000 rows, 20 latency calls."""
        return cls(
            n_splits=2,
            n_repeats_small=1,
            repeated_datasets=(),
            n_trials=1,
            tune_max_rows=1_000,
            max_rows=5_000,
            latency_calls=20,
            n_jobs=1,
        )

    def design(self, name: str, n_rows: int) -> tuple[int, int]:
        """(folds, repeats) for dataset ``name`` with ``n_rows`` rows."""
        repeated = n_rows < self.small_rows or name in self.repeated_datasets
        return self.n_splits, (self.n_repeats_small if repeated else 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = asdict(self)
        out["repeated_datasets"] = list(self.repeated_datasets)
        return out


def _moe_class() -> Any:
    """``MoERiskClassifier`` if the models room has it, else ``None``."""
    try:
        from riskmoe.models import MoERiskClassifier
    except ImportError:
        return None
    return MoERiskClassifier


def _moe_spec(cls: Any) -> tuple[ModelSpec, list[str]]:
    accepted = cls().get_params(deep=False)
    space = {k: v for k, v in MOE_SPACE.items() if k in accepted}

    def build(context: FoldContext, **params: Any) -> Any:
        model = cls(random_state=context.random_state)
        groups = context.feature_groups
        if "feature_groups" in accepted and groups:
            # One routed expert per analyst feature group at least (the MoE needs
            # n_experts >= number of groups to give every group a specialist; "auto"
            # sizes itself).
            model.set_params(feature_groups={k: list(v) for k, v in groups.items()})
            current = model.get_params().get("n_experts")
            if isinstance(current, int) and current < len(groups):
                model.set_params(n_experts=len(groups))
        return model.set_params(**params)

    return ModelSpec("moe", build, space, uses_context=True), sorted(space)


def _mlp_spec(default_parameters: int) -> ModelSpec:
    def build(context: FoldContext, **params: Any) -> Any:
        moe = context.fitted.get("moe")
        target = getattr(moe, "n_active_parameters_", None) if moe is not None else None
        n = int(target) if target is not None else default_parameters
        return make_mlp(n, random_state=context.random_state, **params)

    return ModelSpec("mlp", build, MLP_SPACE, uses_context=True)


def credit_model_specs(
    models: Sequence[str], config: CreditBenchmarkConfig | None = None
) -> tuple[list[ModelSpec], list[str]]:
    """Runner specs for the named models, in run order, and notes on what was left out.

    Raises
    ------
    ConfigError
        For an unknown model name.
    """
    config = config or CreditBenchmarkConfig()
    unknown = sorted(set(models) - set(AVAILABLE_MODELS))
    if unknown:
        raise ConfigError(f"unknown model(s) {unknown}; choose from {list(AVAILABLE_MODELS)}.")
    notes: list[str] = []
    specs: list[ModelSpec] = []
    for name in AVAILABLE_MODELS:
        if name not in models:
            continue
        if name == "moe":
            cls = _moe_class()
            if cls is None:
                notes.append(
                    "moe: riskmoe.models.MoERiskClassifier is not available in this build; "
                    "the MoE was skipped."
                )
                continue
            spec, tuned = _moe_spec(cls)
            notes.append(f"moe: tuned parameters {tuned or 'none (no known names)'}.")
            specs.append(spec)
        elif name == "lightgbm":
            specs.append(ModelSpec("lightgbm", make_lightgbm, LIGHTGBM_SPACE))
        elif name == "random_forest":
            specs.append(ModelSpec("random_forest", make_random_forest, RANDOM_FOREST_SPACE))
        elif name == "logistic":
            # Unweighted, so its probabilities estimate default rates like every other model's.
            specs.append(ModelSpec("logistic", functools.partial(make_logistic, class_weight=None)))
        elif name == "scorecard":
            specs.append(ModelSpec("scorecard", make_scorecard))
        elif name == "mlp":
            specs.append(_mlp_spec(config.mlp_parameters))
    return specs, notes


@dataclass(frozen=True)
class DatasetRun:
    """One dataset's part of the benchmark."""

    name: str
    n_rows: int
    n_rows_source: int
    positive_rate: float
    n_splits: int
    n_repeats: int
    seconds: float
    result: CVResult = field(repr=False)
    usage_labels: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CreditBenchmarkResult:
    """What :func:`run_credit_benchmark` measured, and the files it wrote."""

    records: tuple[dict[str, Any], ...]
    summary: pd.DataFrame
    runs: tuple[DatasetRun, ...]
    notes: tuple[str, ...]
    seconds: float
    files: tuple[Path, ...]
    bar: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (records, notes, seconds, files, the bar's verdicts)."""
        return {
            "records": list(self.records),
            "notes": list(self.notes),
            "seconds": self.seconds,
            "files": [str(p) for p in self.files],
            "bar": dict(self.bar),
        }


def _subsample(
    X: pd.DataFrame, y: pd.Series, max_rows: int | None, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    if max_rows is None or len(X) <= max_rows:
        return X, y
    keep, _ = train_test_split(
        np.arange(len(X)), train_size=max_rows, stratify=y.to_numpy(), random_state=seed
    )
    keep = np.sort(keep)
    return X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def run_credit_benchmark(
    datasets: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    quick: bool = False,
    out_dir: Path | str | None = None,
    settings: Settings | None = None,
    *,
    config: CreditBenchmarkConfig | None = None,
    progress: ProgressCallback | None = None,
    command: str | None = None,
) -> CreditBenchmarkResult:
    """Run the credit benchmark and, given ``out_dir``, write its JSON, Markdown and PNGs.

    Parameters
    ----------
    datasets : sequence of str or None
        Record names from :data:`CREDIT_DATASETS` (default: all).
    models : sequence of str or None
        From ``moe, lightgbm, random_forest, logistic, mlp`` (and ``scorecard``); default
        the five of :data:`CREDIT_MODELS`. The MoE is skipped with a note when the
        models room does not have it yet.
    quick : bool
        Use :meth:`CreditBenchmarkConfig.quick` (ignored when ``config`` is given).
    out_dir : path or None
        Folder for ``credit_models.*``; ``None`` writes nothing.
    settings : Settings or None
        Where datasets are found and the base seed (``random_state``).
    config : CreditBenchmarkConfig or None
        Design knobs; overrides ``quick``.
    progress : callable or None
        Called with a description after every (fold, model), and as
        ``progress("total N")`` once the number of steps is known.
    command : str or None
        The command line, written into the report.

    Returns
    -------
    CreditBenchmarkResult

    Raises
    ------
    ConfigError
        For an unknown dataset or model name, or when no model can run.
    """
    settings = settings or Settings()
    config = config or (CreditBenchmarkConfig.quick() if quick else CreditBenchmarkConfig())
    names = list(datasets) if datasets else list(CREDIT_DATASETS)
    unknown = sorted(set(names) - set(CREDIT_DATASETS))
    if unknown:
        raise ConfigError(f"unknown dataset(s) {unknown}; choose from {list(CREDIT_DATASETS)}.")
    specs, notes = credit_model_specs(list(models) if models else list(CREDIT_MODELS), config)
    if not specs:
        raise ConfigError("no model left to run: " + " ".join(notes))
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    seed = int(settings.random_state)
    start = time.perf_counter()

    loaded: list[tuple[str, pd.DataFrame, pd.Series, Mapping[str, tuple[str, ...]], int]] = []
    total = 0
    for name in names:
        registry_name, options = CREDIT_DATASETS[name]
        ds = load_dataset(registry_name, settings=settings, **options)
        X_full, y_full = ds.X_y()
        X, y = _subsample(X_full, y_full.astype(int), config.max_rows, seed)
        n_splits, n_repeats = config.design(name, len(X))
        total += n_splits * n_repeats * len(specs)
        loaded.append((name, X, y, ds.feature_groups, len(X_full)))
    if progress is not None:
        progress(f"total {total}")

    runs: list[DatasetRun] = []
    records: list[dict[str, Any]] = []
    files: list[Path] = []
    # config.threads is applied per fold by cross_validate_models (in each worker)
    for name, X, y, groups, n_source in loaded:
        runs.append(_run_dataset(name, X, y, groups, n_source, specs, config, seed, progress))
        records.extend({k: r.to_dict()[k] for k in RECORD_KEYS} for r in runs[-1].result.records)
        if out is not None:  # written after every dataset, so a long run keeps what it has
            _write_json(out / "credit_models.json", records)
    summary = summarize(pd.DataFrame(records))
    bar = credit_bar(summary, calibration_by_dataset(runs))
    seconds = time.perf_counter() - start

    if out is not None:
        files.append(out / "credit_models.json")
        if config.plots:
            for run in runs:
                path = out / f"credit_models_{run.name}.png"
                title = f"{run.name}: out-of-fold predictions (repeat 0, {run.n_splits} folds)"
                files.append(
                    plot_roc_calibration(run.result.y, run.result.oof, title=title, path=path)
                )
            usage = _usage_tables(runs)
            if usage:
                files.append(plot_expert_usage(usage, path=out / "credit_models_expert_usage.png"))
            elif any(s.name == "moe" for s in specs):
                notes.append("moe: the fitted MoE exposed no expert_usage_; no heatmap drawn.")
        meta = _meta(runs, config, settings, notes, seconds, command, [s.name for s in specs])
        meta["bar"] = bar
        _write_json(out / "credit_models.meta.json", meta)
        files.append(out / "credit_models.meta.json")
        md = out / "credit_models.md"
        md.write_text(
            _markdown(summary, runs, config, notes, seconds, command, specs, out, seed, bar)
        )
        files.append(md)
    return CreditBenchmarkResult(
        records=tuple(records),
        summary=summary,
        runs=tuple(runs),
        notes=tuple(notes),
        seconds=seconds,
        files=tuple(files),
        bar=bar,
    )


def _run_dataset(
    name: str,
    X: pd.DataFrame,
    y: pd.Series,
    groups: Mapping[str, tuple[str, ...]],
    n_source: int,
    specs: Sequence[ModelSpec],
    config: CreditBenchmarkConfig,
    seed: int,
    progress: ProgressCallback | None,
) -> DatasetRun:
    n_splits, n_repeats = config.design(name, len(X))
    t0 = time.perf_counter()
    result = cross_validate_models(
        X,
        y,
        specs,
        dataset=name,
        n_splits=n_splits,
        n_repeats=n_repeats,
        random_state=seed,
        max_train_rows=config.max_train_rows,
        n_trials=config.n_trials,
        tune_max_rows=config.tune_max_rows,
        throughput_rows=config.throughput_rows,
        latency_calls=config.latency_calls,
        latency_folds=config.latency_folds,
        feature_groups=groups,
        on_progress=progress,
        n_jobs=config.n_jobs,
        threads=config.threads,
    )
    return DatasetRun(
        name=name,
        n_rows=len(X),
        n_rows_source=n_source,
        positive_rate=float(y.mean()),
        n_splits=n_splits,
        n_repeats=n_repeats,
        seconds=time.perf_counter() - t0,
        result=result,
    )


def _usage_tables(runs: Sequence[DatasetRun]) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for run in runs:
        entries = run.result.diagnostics.get("moe") or []
        if entries:
            try:
                tables[run.name] = usage_table(
                    [e["usage"] for e in entries], labels=entries[0]["labels"]
                )
            except ValueError:
                continue
    return tables


def _versions() -> dict[str, str]:
    import lightgbm
    import sklearn

    out = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "lightgbm": lightgbm.__version__,
    }
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return out


def _meta(
    runs: Sequence[DatasetRun],
    config: CreditBenchmarkConfig,
    settings: Settings,
    notes: Sequence[str],
    seconds: float,
    command: str | None,
    models: Sequence[str],
) -> dict[str, Any]:
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "seconds": round(seconds, 1),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": _versions(),
        "random_state": settings.random_state,
        "config": config.to_dict(),
        "models": list(models),
        "datasets": [
            {
                "name": r.name,
                "rows": r.n_rows,
                "rows_source": r.n_rows_source,
                "positive_rate": round(r.positive_rate, 5),
                "folds": r.n_splits,
                "repeats": r.n_repeats,
                "seconds": round(r.seconds, 1),
                "seconds_per_model": {
                    m: round(sum(v for (name, _), v in r.result.seconds.items() if name == m), 1)
                    for m in models
                },
            }
            for r in runs
        ],
        "notes": list(notes),
    }


def _cell(summary: pd.DataFrame, key: tuple[str, str], metric: str, stat: str) -> float:
    return float(np.asarray(summary.loc[key, (metric, stat)], dtype=float))


def _fmt(mean: float, std: float, digits: int) -> str:
    if np.isnan(mean):
        return "–"
    if np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _metric_table(
    summary: pd.DataFrame, metric: str, models: Sequence[str], digits: int, *, bold_max: bool
) -> list[str]:
    datasets = list(dict.fromkeys(summary.index.get_level_values(0)))
    lines = ["| dataset | " + " | ".join(models) + " |", "|---|" + "---:|" * len(models)]
    for ds in datasets:
        means = {
            m: _cell(summary, (ds, m), metric, "mean") for m in models if (ds, m) in summary.index
        }
        best = (max if bold_max else min)(means.values()) if means else None
        cells = []
        for m in models:
            if (ds, m) not in summary.index:
                cells.append("–")
                continue
            cell = _fmt(
                _cell(summary, (ds, m), metric, "mean"),
                _cell(summary, (ds, m), metric, "std"),
                digits,
            )
            if best is not None and len(means) > 1 and means[m] == best:
                cell = f"**{cell}**"
            cells.append(cell)
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    return lines


def _targets_table(summary: pd.DataFrame, models: Sequence[str]) -> list[str]:
    lines = [
        "| dataset | TabArena best | TabArena best GBDT | TabArena TabM | TabArena logistic | "
        + " | ".join(f"ours: {m}" for m in models)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(models),
    ]
    for ds, t in TARGETS.items():
        if not any((ds, m) in summary.index for m in models):
            continue
        ours = [
            f"{_cell(summary, (ds, m), 'auc', 'mean'):.4f}" if (ds, m) in summary.index else "–"
            for m in models
        ]
        lines.append(
            f"| {ds} | {t['best'][0]:.4f} ({t['best'][1]}) | {t['gbdt'][0]:.4f} ({t['gbdt'][1]}) "
            f"| {t['tabm'][0]:.4f} | {t['logistic'][0]:.3f} | " + " | ".join(ours) + " |"
        )
    return lines


_METRIC_SECTIONS: tuple[tuple[str, str, int, bool], ...] = (
    ("auc", "AUC (higher is better)", 4, True),
    ("ks", "KS (higher is better)", 4, True),
    ("pr_auc", "PR-AUC, average precision (higher is better)", 4, True),
    ("brier", "Brier score (lower is better)", 4, False),
    ("logloss", "Log loss (lower is better)", 4, False),
    ("ece", "ECE, 10 equal-width bins (lower is better)", 4, False),
    ("fit_seconds", "Fit seconds on the training fold (excludes tuning)", 2, False),
    ("predict_rows_per_s", "Batch predict rows/s (one call on 10,000 rows)", 0, True),
    ("single_row_ms", "Single-row latency, ms (median of one-row calls)", 2, False),
)


def _minutes_table(runs: Sequence[DatasetRun], models: Sequence[str]) -> list[str]:
    lines = ["| dataset | " + " | ".join(models) + " |", "|---|" + "---:|" * len(models)]
    totals = dict.fromkeys(models, 0.0)
    for run in runs:
        cells = []
        for m in models:
            seconds = sum(run.result.seconds.get((m, s.fold), 0.0) for s in run.result.splits)
            totals[m] += seconds
            cells.append(f"{seconds / 60:.1f}")
        lines.append(f"| {run.name} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{totals[m] / 60:.1f}**" for m in models) + " |")
    return lines


def _budget_line(config: CreditBenchmarkConfig) -> str:
    if config.n_trials == 0:
        return (
            "* Tuning budget: **none (0 random draws)** -- every model runs at its documented "
            "defaults; the same budget for LightGBM, random forest, MLP and MoE. (`--n-trials "
            "N` gives each tuned model the defaults plus N random draws per fold, scored on an "
            "inner split of the training fold.)"
        )
    return (
        "* Tuning budget, the same for every tuned model (LightGBM, random forest, MLP, MoE): "
        f"the defaults plus **{config.n_trials} random draws** per fold, scored by AUC on an "
        f"inner stratified 80/20 split of the training fold (at most {config.tune_max_rows:,} "
        "rows); the winner is refitted on the whole training fold."
    )


def _markdown(
    summary: pd.DataFrame,
    runs: Sequence[DatasetRun],
    config: CreditBenchmarkConfig,
    notes: Sequence[str],
    seconds: float,
    command: str | None,
    specs: Sequence[ModelSpec],
    out: Path,
    seed: int = 0,
    bar: Mapping[str, Any] | None = None,
) -> str:
    models = [s.name for s in specs]
    lines = [
        "# Credit models benchmark",
        "",
        "Written by `benchmarks/credit_models.py` (`riskmoe.evaluation.run_credit_benchmark`).",
        "",
        f"* Command: `{command or 'run_credit_benchmark(...)'}`",
        f"* Total wall-clock time: **{seconds / 60:.1f} min** ({seconds:.0f} s) on "
        f"{os.cpu_count()} CPU cores ({platform.machine()}); created "
        f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        f"* Models: {', '.join(models)}.",
        f"* Seed of the folds and the models: {seed} (model seed = seed + fold).",
        "",
        "## Design",
        "",
        f"* Same stratified folds for every model: {config.n_splits}-fold CV, repeated "
        f"{config.n_repeats_small}x on datasets under {config.small_rows:,} rows"
        + (f" and on {', '.join(config.repeated_datasets)}" if config.repeated_datasets else "")
        + "; every preprocessing step is part of the model and fitted on the training fold only.",
        _budget_line(config),
        "* Logistic regression (one-hot + standardised, C = 1, no class weights) is an "
        "untuned reference. "
        + (
            f"Models run with {config.threads} BLAS/OpenMP thread(s) each (threadpoolctl)."
            if config.threads is not None
            else "Thread pools were left at their defaults."
        )
        + (
            f" {config.n_jobs} folds run side by side in separate processes, so every "
            "time below was measured with the other worker busy."
            if config.n_jobs > 1
            else ""
        ),
        "* ECE uses 10 equal-width probability bins. `predict rows/s` is one `predict_proba` "
        f"call on {config.throughput_rows:,} rows (resampled from the test fold when it is "
        f"smaller); single-row latency is the median of {config.latency_calls} one-row calls"
        + (
            f", measured on the first {config.latency_folds} fold(s) of each dataset only."
            if config.latency_folds is not None
            else " on every fold."
        ),
        "* The MLP has the MoE's active parameter count on each fold when the MoE ran on it, "
        f"otherwise {config.mlp_parameters:,} weights and biases (`n_parameters` in the JSON).",
    ]
    if config.max_rows is not None:
        lines.append(
            f"* **Cap:** every dataset was subsampled (stratified) to at most "
            f"{config.max_rows:,} rows."
        )
    if config.max_train_rows is not None:
        lines.append(
            f"* **Cap:** training folds larger than {config.max_train_rows:,} rows were cut to "
            "a stratified subsample of that size (the same rows for every model); test folds "
            "are scored whole. Affects the datasets whose `train rows` below is smaller than "
            "4/5 of their rows."
        )
    lines += [
        "",
        "| dataset | rows | source rows | positives | folds x repeats | train rows | minutes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        n_train = max(len(s.train) for s in r.result.splits)
        lines.append(
            f"| {r.name} | {r.n_rows:,} | {r.n_rows_source:,} | {r.positive_rate:.2%} | "
            f"{r.n_splits} x {r.n_repeats} | {n_train:,} | {r.seconds / 60:.1f} |"
        )
    lines += ["", "## Results (mean ± std over folds; best mean in bold)", ""]
    for metric, title, digits, bold_max in _METRIC_SECTIONS:
        lines += [
            f"### {title}",
            "",
            *_metric_table(summary, metric, models, digits, bold_max=bold_max),
            "",
        ]
    lines += [
        "### Minutes per model (tuning + fitting + scoring, all folds)",
        "",
        *_minutes_table(runs, models),
        "",
        *(["## The bar (issue 3)", "", *bar_markdown(bar), ""] if bar else []),
        "## Public targets beside ours (AUC)",
        "",
        "TabArena figures are single-split AUCs (first split of a 3-fold outer CV, 8-fold "
        "bagging, tuned); ours are means over our folds, so they are comparable in level, "
        "not to the third decimal.",
        "",
        *_targets_table(summary, models),
        "",
        "## Plots",
        "",
        "ROC and calibration curves from the out-of-fold predictions of repeat 0 (every row "
        "scored once, by the model fitted without it). The reliability diagrams use 10 "
        "equal-count bins (equal-width bins would put nearly every row of a rare-default "
        "dataset in the first bin); the ECE in the tables uses 10 equal-width bins.",
        "",
    ]
    for r in runs:
        png = out / f"credit_models_{r.name}.png"
        if png.exists():
            lines.append(f"![{r.name}]({png.name})")
            lines.append("")
    usage_png = out / "credit_models_expert_usage.png"
    lines += ["### Expert utilisation", ""]
    if usage_png.exists() and "moe" in models:
        lines.append(
            "Share of rows routed to each feature group's expert(s), from the fitted MoE's "
            "`expert_usage_` averaged over folds (each row picks `top_k` experts, so a row "
            "sums to `top_k`)."
        )
        lines += ["", f"![expert utilisation]({usage_png.name})"]
    elif "moe" in models:
        lines.append("No heatmap: the fitted MoE exposed no `expert_usage_` (see notes).")
    else:
        lines.append(
            "No heatmap: the MoE was not in this run's model list, so there is no expert "
            "usage to show."
        )
    lines += ["", "## Notes", ""]
    lines += [f"* {n}" for n in notes]
    lines.append(
        "* Timings are wall-clock on a shared 2-core machine; other jobs running at the "
        "same time inflate them. Compare them within a table, not across runs."
    )
    return "\n".join(lines) + "\n"
