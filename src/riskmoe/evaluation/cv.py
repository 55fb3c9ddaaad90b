"""The cross-validation benchmark runner: same folds for every model, everything fitted in-fold.

:func:`cross_validate_models` splits the rows once with
:class:`~sklearn.model_selection.RepeatedStratifiedKFold` and hands every model the same
(train, test) index pairs. For each fold and model it

1. optionally tunes the model on the training fold only (:func:`riskmoe.evaluation.tune`,
   the same ``n_trials`` budget for every model that has a search space),
2. builds a fresh, unfitted estimator and fits it on the training fold -- models are
   pipelines or estimators that learn their own preprocessing, so no statistic of the
   test fold reaches them,
3. scores the test fold (:func:`riskmoe.evaluation.probability_metrics`) and times it
   (:func:`predict_rows_per_second`, :func:`single_row_latency_ms`).

Models are run in the order given, so a later model can read an earlier one fitted on
the same fold through :class:`FoldContext` (the benchmark's MLP takes the MoE's active
parameter count this way).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from riskmoe.evaluation.metrics import probability_metrics
from riskmoe.evaluation.timing import predict_rows_per_second, single_row_latency_ms
from riskmoe.evaluation.tuning import TuningResult, tune
from riskmoe.exceptions import DataError

__all__ = [
    "CVResult",
    "FoldContext",
    "FoldRecord",
    "FoldSplit",
    "ModelSpec",
    "ProgressCallback",
    "cross_validate_models",
    "cv_splits",
    "summarize",
]

ProgressCallback = Callable[[str], None]
"""Called with a short description after each (fold, model) step."""

METRIC_COLUMNS = (
    "auc",
    "ks",
    "pr_auc",
    "brier",
    "logloss",
    "ece",
    "fit_seconds",
    "predict_rows_per_s",
    "single_row_ms",
)


@dataclass(frozen=True)
class FoldSplit:
    """One outer split: global fold number, repeat, fold within the repeat, row positions."""

    fold: int
    repeat: int
    fold_in_repeat: int
    train: np.ndarray
    test: np.ndarray


def cv_splits(
    y: Any,
    *,
    n_splits: int = 5,
    n_repeats: int = 1,
    random_state: int | None = 0,
    max_train_rows: int | None = None,
) -> tuple[FoldSplit, ...]:
    """Stratified folds, repeated ``n_repeats`` times with different shuffles.

    Fold ``k`` of repeat ``r`` is global fold ``r * n_splits + k``. Each repeat's test
    folds partition the rows. With ``max_train_rows``, a larger training fold is cut to a
    stratified subsample of that many rows (seeded per fold, so every model trains on the
    same rows); the test fold is kept whole.

    Raises
    ------
    ValueError
        If ``n_splits < 2``, ``n_repeats < 1`` or ``max_train_rows < 10``.
    DataError
        If a class has fewer rows than ``n_splits``.
    """
    if max_train_rows is not None and max_train_rows < 10:
        raise ValueError(f"max_train_rows must be >= 10 or None; got {max_train_rows!r}.")
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2; got {n_splits!r}.")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int | np.integer) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an integer >= 1; got {n_repeats!r}.")
    target = np.asarray(y)
    counts = pd.Series(target).value_counts()
    if len(counts) != 2:
        raise DataError(f"the target must have exactly two classes; got {counts.to_dict()}.")
    if counts.min() < n_splits:
        raise DataError(
            f"the rarer class has {int(counts.min())} rows, fewer than n_splits={n_splits}; "
            "use fewer folds."
        )
    rskf = RepeatedStratifiedKFold(
        n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
    )
    out = []
    for i, (train, test) in enumerate(rskf.split(np.zeros(len(target)), target)):
        if max_train_rows is not None and len(train) > max_train_rows:
            seed = None if random_state is None else int(random_state) + i
            train, _ = train_test_split(
                train, train_size=max_train_rows, stratify=target[train], random_state=seed
            )
            train = np.sort(train)
        out.append(FoldSplit(i, i // n_splits, i % n_splits, train, test))
    return tuple(out)


@dataclass(frozen=True)
class FoldContext:
    """What a model factory may know about the fold it is built for (never the test rows).

    Attributes
    ----------
    dataset : str
        Name of the data.
    fold, repeat : int
        Global fold number and repeat.
    random_state : int
        Seed for the model on this fold (``base seed + fold``).
    feature_groups : mapping
        Analyst feature groups of the data (expert views), possibly empty.
    n_train : int
        Rows in the training fold.
    fitted : mapping
        Models already fitted on this fold's training rows, by name.
    """

    dataset: str
    fold: int
    repeat: int
    random_state: int
    feature_groups: Mapping[str, tuple[str, ...]]
    n_train: int
    fitted: Mapping[str, Any]


@dataclass(frozen=True)
class ModelSpec:
    """A named model for the runner.

    Parameters
    ----------
    name : str
        Record name (``"lightgbm"``).
    factory : callable
        ``factory(**params)`` returns an unfitted sklearn-style classifier; with
        ``uses_context=True`` it is called as ``factory(context, **params)`` with a
        :class:`FoldContext`. Without a context, an estimator with a top-level
        ``random_state`` parameter gets the fold's seed (a pipeline keeps the seed its
        factory gave it).
    param_space : mapping
        Search space for :func:`~riskmoe.evaluation.tune`; empty means "not tuned".
    uses_context : bool
        Pass the :class:`FoldContext` as the first argument.
    """

    name: str
    factory: Callable[..., Any]
    param_space: Mapping[str, Any] = field(default_factory=dict)
    uses_context: bool = False

    def build(self, context: FoldContext, **params: Any) -> Any:
        """A fresh, unfitted estimator for ``context`` with ``params``."""
        if self.uses_context:
            return self.factory(context, **params)
        model = self.factory(**params)
        if "random_state" not in params and hasattr(model, "get_params"):
            if "random_state" in model.get_params(deep=False):
                model.set_params(random_state=context.random_state)
        return model


@dataclass(frozen=True)
class FoldRecord:
    """Test-fold metrics of one model on one fold.

    ``ece`` uses 10 equal-width bins; ``predict_rows_per_s`` is one ``predict_proba``
    call on 10,000 rows (resampled from the test fold when it is smaller) unless the
    runner was told otherwise; ``single_row_ms`` is the median of one-row calls (``None``
    on folds where it was not measured).
    ``fit_seconds`` excludes tuning, which ``tune_seconds`` reports.
    """

    dataset: str
    model: str
    fold: int
    repeat: int
    n_train: int
    n_test: int
    positives_test: int
    auc: float
    ks: float
    pr_auc: float
    brier: float
    logloss: float
    ece: float
    fit_seconds: float
    predict_rows_per_s: float
    single_row_ms: float | None
    tune_seconds: float
    n_trials: int
    best_params: Mapping[str, Any]
    n_parameters: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = dict(self.__dict__)
        out["best_params"] = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.best_params.items()
        }
        return out


@dataclass(frozen=True)
class CVResult:
    """Everything :func:`cross_validate_models` measured.

    Attributes
    ----------
    records : tuple of FoldRecord
        One per (fold, model).
    splits : tuple of FoldSplit
        The folds every model was given.
    y : ndarray
        The labels, aligned with ``oof``.
    oof : mapping of str to ndarray
        Out-of-fold probabilities of repeat 0 per model (each row predicted once).
    diagnostics : mapping of str to list
        Per model that has ``expert_usage_``, one ``{"usage", "labels"}`` dict per fold
        (labels from ``expert_names_`` when present).
    tuning : mapping of str to list of TuningResult
        Per model, one search per fold (empty when untuned).
    seconds : mapping of (model, fold) to float
        Wall-clock seconds of everything the runner did for that model on that fold:
        tuning, fitting, scoring and timing.
    """

    records: tuple[FoldRecord, ...]
    splits: tuple[FoldSplit, ...]
    y: np.ndarray
    oof: Mapping[str, np.ndarray]
    diagnostics: Mapping[str, list[Any]]
    tuning: Mapping[str, list[TuningResult]]
    seconds: Mapping[tuple[str, int], float] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame."""
        return pd.DataFrame([r.to_dict() for r in self.records])


def _n_parameters(model: Any) -> int | None:
    for attr in ("n_active_parameters_", "n_parameters_"):
        value = getattr(model, attr, None)
        if value is not None:
            return int(value)
    return None


def _check_inputs(X: Any, y: Any, models: Sequence[ModelSpec]) -> np.ndarray:
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X must be a pandas DataFrame; got {type(X).__name__}.")
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != len(X):
        raise DataError(f"X has {len(X)} rows but y has shape {target.shape}.")
    if pd.isna(target).any():
        raise DataError("y contains missing labels.")
    labels = set(np.unique(target).tolist())
    if not labels <= {0, 1}:
        raise DataError(f"y must be 0/1 with 1 = the risk event; got labels {sorted(labels)}.")
    if not models:
        raise ValueError("models is empty; give at least one ModelSpec.")
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"model names must be unique; repeated: {dupes}.")
    return target.astype(int)


def cross_validate_models(
    X: pd.DataFrame,
    y: Any,
    models: Sequence[ModelSpec],
    *,
    dataset: str = "data",
    n_splits: int = 5,
    n_repeats: int = 1,
    random_state: int = 0,
    max_train_rows: int | None = None,
    n_trials: int = 0,
    tune_max_rows: int | None = 5_000,
    throughput_rows: int = 10_000,
    latency_calls: int = 200,
    latency_folds: int | None = None,
    feature_groups: Mapping[str, tuple[str, ...]] | None = None,
    on_progress: ProgressCallback | None = None,
    n_jobs: int = 1,
    threads: int | None = None,
) -> CVResult:
    """Cross-validate several models on the same stratified folds.

    Parameters
    ----------
    X : DataFrame
        Raw features; each model learns its own preprocessing on the training fold.
    y : array-like of 0/1
        Labels, 1 = the risk event.
    models : sequence of ModelSpec
        Run in this order on every fold.
    dataset : str
        Name written into the records.
    n_splits, n_repeats : int
        Folds per repeat and repeats (:func:`cv_splits`).
    random_state : int
        Seed of the folds; model seeds are ``random_state + fold``.
    max_train_rows : int or None
        Train on a stratified subsample of at most this many rows of each training fold
        (the same rows for every model); test folds stay whole.
    n_trials : int
        Tuning budget per (fold, model) for models with a search space: the defaults
        plus ``n_trials`` random draws on an inner 80/20 split of the training fold.
    tune_max_rows : int or None
        Tune on at most this many training rows (stratified subsample).
    throughput_rows : int
        Batch size for ``predict_rows_per_s``.
    latency_calls : int
        One-row calls for ``single_row_ms``.
    latency_folds : int or None
        Measure ``single_row_ms`` on the first this-many folds only (``None``: every
        fold); other records get ``None``. Single-row timing is the slowest measurement
        for fast models and varies little between folds.
    feature_groups : mapping or None
        Passed to context-aware factories.
    on_progress : callable or None
        Called with a description after every (fold, model); with ``n_jobs > 1``, after
        every fold for each of its models.
    n_jobs : int, default=1
        Folds run at once, in separate processes (joblib). Every fold is seeded on its
        own, so the metrics equal the serial run's; the timings then include whatever
        the other workers take from the machine.
    threads : int or None
        BLAS / OpenMP threads (``threadpoolctl``) while fitting and scoring a fold, in
        the worker that runs it; ``None`` leaves them be.

    Returns
    -------
    CVResult

    Raises
    ------
    DataError
        If ``X`` is not a DataFrame, ``y`` is not 0/1 and aligned, or a class is rarer
        than ``n_splits``.
    ValueError
        If ``models`` is empty or names repeat, or ``n_jobs < 1``.
    """
    target = _check_inputs(X, y, models)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an integer >= 1; got {n_jobs!r}.")
    splits = cv_splits(
        target,
        n_splits=n_splits,
        n_repeats=n_repeats,
        random_state=random_state,
        max_train_rows=max_train_rows,
    )
    plan = _FoldPlan(
        models=tuple(models),
        dataset=dataset,
        random_state=int(random_state),
        feature_groups=dict(feature_groups or {}),
        n_trials=n_trials,
        tune_max_rows=tune_max_rows,
        throughput_rows=throughput_rows,
        latency_calls=latency_calls,
        latency_folds=latency_folds,
        threads=threads,
        n_folds=len(splits),
    )
    outcomes: list[_FoldOutcome] = []
    if n_jobs == 1:
        for split in splits:
            outcomes.append(_run_fold(plan, split, X, target, on_progress))
    else:
        # each fold is seeded and independent: workers give the serial run's results
        parallel = Parallel(n_jobs=min(n_jobs, len(splits)), return_as="generator_unordered")
        for outcome in parallel(delayed(_run_fold)(plan, s, X, target, None) for s in splits):
            if on_progress is not None:
                for message in outcome.messages:
                    on_progress(message)
            outcomes.append(outcome)
        outcomes.sort(key=lambda o: o.fold)
    oof = {m.name: np.full(len(target), np.nan) for m in models}
    diagnostics: dict[str, list[Any]] = {m.name: [] for m in models}
    tuning: dict[str, list[TuningResult]] = {m.name: [] for m in models}
    records: list[FoldRecord] = []
    seconds: dict[tuple[str, int], float] = {}
    for outcome in outcomes:
        split = splits[outcome.fold]
        records.extend(outcome.records)
        for name, proba in outcome.proba.items():
            if split.repeat == 0:
                oof[name][split.test] = proba
        for name, entry in outcome.diagnostics.items():
            diagnostics[name].append(entry)
        for name, result in outcome.tuning.items():
            tuning[name].append(result)
        seconds.update({(name, outcome.fold): v for name, v in outcome.seconds.items()})
    return CVResult(
        records=tuple(records),
        splits=splits,
        y=target,
        oof=oof,
        diagnostics=diagnostics,
        tuning=tuning,
        seconds=seconds,
    )


@dataclass(frozen=True)
class _FoldPlan:
    """What every fold of one :func:`cross_validate_models` call shares."""

    models: tuple[ModelSpec, ...]
    dataset: str
    random_state: int
    feature_groups: Mapping[str, tuple[str, ...]]
    n_trials: int
    tune_max_rows: int | None
    throughput_rows: int
    latency_calls: int
    latency_folds: int | None
    threads: int | None
    n_folds: int


@dataclass(frozen=True)
class _FoldOutcome:
    """What one fold produced, per model: records, test-fold probabilities, MoE usage,
    searches, seconds, and the progress messages in the order they happened."""

    fold: int
    records: list[FoldRecord]
    proba: dict[str, np.ndarray]
    diagnostics: dict[str, dict[str, Any]]
    tuning: dict[str, TuningResult]
    seconds: dict[str, float]
    messages: list[str]


def _run_fold(
    plan: _FoldPlan,
    split: FoldSplit,
    X: pd.DataFrame,
    target: np.ndarray,
    on_progress: ProgressCallback | None,
) -> _FoldOutcome:
    """Tune, fit, score and time every model of ``plan`` on one fold (in a worker process
    when the runner has ``n_jobs > 1``; ``threads`` then limits that worker)."""
    with contextlib.ExitStack() as stack:
        if plan.threads is not None:
            stack.enter_context(threadpool_limits(limits=plan.threads))
        return _fit_fold_models(plan, split, X, target, on_progress)


def _fit_fold_models(
    plan: _FoldPlan,
    split: FoldSplit,
    X: pd.DataFrame,
    target: np.ndarray,
    on_progress: ProgressCallback | None,
) -> _FoldOutcome:
    X_train, y_train = X.iloc[split.train], target[split.train]
    X_test, y_test = X.iloc[split.test], target[split.test]
    outcome = _FoldOutcome(split.fold, [], {}, {}, {}, {}, [])
    fitted: dict[str, Any] = {}
    for spec in plan.models:
        context = FoldContext(
            dataset=plan.dataset,
            fold=split.fold,
            repeat=split.repeat,
            random_state=plan.random_state + split.fold,
            feature_groups=plan.feature_groups,
            n_train=len(split.train),
            fitted=dict(fitted),
        )
        step_start = time.perf_counter()
        budget = plan.n_trials if spec.param_space else 0
        result = tune(
            lambda _spec=spec, _ctx=context, **p: _spec.build(_ctx, **p),
            spec.param_space,
            X_train,
            y_train,
            n_trials=budget,
            max_rows=plan.tune_max_rows,
            random_state=context.random_state,
        )
        outcome.tuning[spec.name] = result
        model = spec.build(context, **result.best_params)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        proba = np.asarray(model.predict_proba(X_test))[:, 1]
        outcome.proba[spec.name] = proba
        m = probability_metrics(y_test, proba)
        timed_latency = plan.latency_folds is None or split.fold < plan.latency_folds
        outcome.records.append(
            FoldRecord(
                dataset=plan.dataset,
                model=spec.name,
                fold=split.fold,
                repeat=split.repeat,
                n_train=len(split.train),
                n_test=len(split.test),
                positives_test=m.positives,
                auc=m.auc,
                ks=m.ks,
                pr_auc=m.pr_auc,
                brier=m.brier,
                logloss=m.logloss,
                ece=m.ece,
                fit_seconds=fit_seconds,
                predict_rows_per_s=predict_rows_per_second(
                    model, X_test, n_rows=plan.throughput_rows, random_state=context.random_state
                ),
                single_row_ms=(
                    single_row_latency_ms(
                        model,
                        X_test,
                        n_calls=plan.latency_calls,
                        random_state=context.random_state,
                    )
                    if timed_latency
                    else None
                ),
                tune_seconds=result.seconds,
                n_trials=result.n_trials,
                best_params=dict(result.best_params),
                n_parameters=_n_parameters(model),
            )
        )
        usage = getattr(model, "expert_usage_", None)
        if usage is not None:
            labels = getattr(model, "expert_names_", None)
            outcome.diagnostics[spec.name] = {
                "usage": usage,
                "labels": None if labels is None else list(labels),
            }
        fitted[spec.name] = model
        outcome.seconds[spec.name] = time.perf_counter() - step_start
        message = f"{plan.dataset} fold {split.fold + 1}/{plan.n_folds} {spec.name} AUC {m.auc:.3f}"
        outcome.messages.append(message)
        if on_progress is not None:
            on_progress(message)
    return outcome


def summarize(records: Sequence[FoldRecord] | pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof=1) of every metric per (dataset, model).

    Returns a frame indexed by (dataset, model) with columns ``(metric, "mean")`` and
    ``(metric, "std")`` plus ``("folds", "n")``.
    """
    frame = (
        records
        if isinstance(records, pd.DataFrame)
        else pd.DataFrame([r.to_dict() for r in records])
    )
    if frame.empty:
        raise ValueError("no records to summarise.")
    cols = [c for c in METRIC_COLUMNS if c in frame.columns]
    grouped = frame.groupby(["dataset", "model"], sort=False)
    out = grouped[cols].agg(["mean", "std"])  # NaN / None (unmeasured) are skipped
    out[("folds", "n")] = grouped.size()
    return out
