"""Choose the Minkowski order ``p`` for the distance detectors by injecting outliers into real data.

The criterion, stated once and applied by :func:`select_minkowski_p`:

1. For each dataset, take its numeric columns, optionally a seeded subsample of rows,
   fill missing cells with the column median, clip each column to Tukey's far-out
   fences (``winsorize`` IQRs beyond the quartiles, as the default cleaning pipeline
   does) and drop constant columns.
2. For each repeat, inject outliers: a seeded random ``rate`` share of rows is shifted,
   in a random subset of 1 to ``max_columns`` columns, by ``shift`` robust standard
   deviations (IQR / 1.349, the standard deviation where the IQR is 0) with a random
   sign (:func:`inject_outliers`).
3. Fit :class:`~riskmoe.cleaning.KNNOutliers` and :class:`~riskmoe.cleaning.LOFOutliers`
   for every ``p`` on the perturbed rows and take their leave-self-out training scores.
4. Score each (dataset, method, p, repeat) by **recall at the injection rate** -- the
   share of injected rows among the ``n_injected`` highest scores (equal to precision
   there) -- and by ROC AUC of the scores against the injection labels.
5. Choose the ``p`` with the highest mean recall over datasets, methods and repeats;
   ties (within 1e-9) go to the higher mean AUC, then to the smaller ``p``.

Real rows that are outlying before injection compete with the injected ones, so recall
below 1 is expected even for a good ``p``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from riskmoe.cleaning.outliers import (
    MINKOWSKI_P_GRID,
    DistanceMethod,
    IQROutliers,
    KNNOutliers,
    LOFOutliers,
    check_minkowski_p,
)
from riskmoe.cleaning.report import to_builtin
from riskmoe.cleaning.scaling import ScalingMethod, location_scale
from riskmoe.cleaning.step import check_share
from riskmoe.exceptions import DataError

__all__ = [
    "CRITERION",
    "InjectedOutliers",
    "MinkowskiRun",
    "MinkowskiSelection",
    "MinkowskiSummary",
    "inject_outliers",
    "select_minkowski_p",
]

CRITERION = (
    "highest mean recall of injected outliers at the injection rate (top n_injected scores), "
    "averaged over datasets, methods (kNN, LOF) and repeats; ties within 1e-9 broken by "
    "higher mean ROC AUC, then by smaller p"
)


class InjectedOutliers(NamedTuple):
    """Data with synthetic outliers.

    Attributes
    ----------
    values : ndarray, shape (n_rows, n_columns)
        The perturbed copy.
    is_outlier : ndarray of bool, shape (n_rows,)
        Which rows were perturbed.
    """

    values: np.ndarray
    is_outlier: np.ndarray


def inject_outliers(
    values: np.ndarray,
    *,
    rate: float = 0.02,
    shift: float = 3.0,
    max_columns: int = 3,
    random_state: int | np.random.Generator | None = 0,
) -> InjectedOutliers:
    """Shift a random share of rows by ``shift`` robust standard deviations.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_columns)
        Complete numeric data (no NaN).
    rate : float, default 0.02
        Share of rows to perturb, in (0, 0.5]; ``round(rate * n_rows)`` rows, at least 1.
    shift : float, default 3.0
        Size of the shift in robust standard deviations (positive).
    max_columns : int, default 3
        Each perturbed row is shifted in ``m`` columns, ``m`` uniform on
        ``1..min(max_columns, n_columns)``, with an independent random sign per cell.
    random_state : int, Generator or None, default 0

    Returns
    -------
    InjectedOutliers

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.random.default_rng(0).normal(size=(100, 4))
    >>> injected = inject_outliers(clean, rate=0.05, random_state=1)
    >>> moved = (injected.values != clean).any(axis=1)
    >>> int(injected.is_outlier.sum()), bool((moved == injected.is_outlier).all())
    (5, True)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 1:
        raise ValueError(f"values must be 2-D with >= 2 rows and >= 1 column; got {values.shape}.")
    if np.isnan(values).any():
        raise DataError("inject_outliers needs complete data; values contain NaN.")
    if not (isinstance(rate, int | float) and 0 < rate <= 0.5):
        raise ValueError(f"rate must be a number in (0, 0.5]; got {rate!r}.")
    if not (isinstance(shift, int | float) and shift > 0):
        raise ValueError(f"shift must be a positive number; got {shift!r}.")
    if not (isinstance(max_columns, int) and max_columns >= 1):
        raise ValueError(f"max_columns must be an integer >= 1; got {max_columns!r}.")
    rng = np.random.default_rng(random_state)
    n_rows, n_columns = values.shape
    n_injected = max(1, round(rate * n_rows))
    _, scale = location_scale(values, "robust")
    out = values.copy()
    rows = rng.choice(n_rows, size=n_injected, replace=False)
    widest = min(max_columns, n_columns)
    for row in rows:
        m = int(rng.integers(1, widest + 1))
        cols = rng.choice(n_columns, size=m, replace=False)
        signs = rng.choice(np.array([-1.0, 1.0]), size=m)
        out[row, cols] += signs * shift * scale[cols]
    is_outlier = np.zeros(n_rows, dtype=bool)
    is_outlier[rows] = True
    return InjectedOutliers(out, is_outlier)


def _recall_at_rate(scores: np.ndarray, is_outlier: np.ndarray) -> float:
    n = int(is_outlier.sum())
    top = np.argsort(-scores, kind="stable")[:n]
    return float(is_outlier[top].mean())


@dataclass(frozen=True)
class MinkowskiRun:
    """One (dataset, method, p, repeat) evaluation."""

    dataset: str
    method: DistanceMethod
    p: float
    repeat: int
    recall: float
    auc: float


@dataclass(frozen=True)
class MinkowskiSummary:
    """Mean and standard deviation over repeats for one (dataset, method, p)."""

    dataset: str
    method: DistanceMethod
    p: float
    recall_mean: float
    recall_std: float
    auc_mean: float
    auc_std: float


@dataclass(frozen=True)
class MinkowskiSelection:
    """The outcome of :func:`select_minkowski_p`.

    Attributes
    ----------
    chosen_p : float
        The ``p`` the criterion picks.
    criterion : str
        The criterion in words.
    best_p_by_method : dict
        The ``p`` the same criterion picks for each method alone.
    mean_recall_by_p, mean_auc_by_p : dict
        Pooled means the choice was made on.
    summary : tuple of MinkowskiSummary
    runs : tuple of MinkowskiRun
    datasets : dict
        Per dataset: rows used, columns, number of injected rows.
    settings : dict
        Every argument needed to reproduce the run.
    """

    chosen_p: float
    criterion: str
    best_p_by_method: dict[str, float]
    mean_recall_by_p: dict[float, float]
    mean_auc_by_p: dict[float, float]
    summary: tuple[MinkowskiSummary, ...]
    runs: tuple[MinkowskiRun, ...]
    datasets: dict[str, dict[str, Any]]
    settings: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The summary table: one row per (dataset, method, p)."""
        return pd.DataFrame([vars(s) for s in self.summary])

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return to_builtin(
            {
                "chosen_p": self.chosen_p,
                "criterion": self.criterion,
                "best_p_by_method": self.best_p_by_method,
                "mean_recall_by_p": {str(p): v for p, v in self.mean_recall_by_p.items()},
                "mean_auc_by_p": {str(p): v for p, v in self.mean_auc_by_p.items()},
                "summary": [vars(s) for s in self.summary],
                "runs": [vars(r) for r in self.runs],
                "datasets": self.datasets,
                "settings": self.settings,
            }
        )


def _prepare(
    frame: pd.DataFrame,
    name: str,
    max_rows: int | None,
    winsorize: float | None,
    seed: list[int],
) -> pd.DataFrame:
    numeric = frame.select_dtypes(include="number").select_dtypes(exclude="bool")
    numeric = numeric.loc[:, numeric.notna().any()]
    if max_rows is not None and len(numeric) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(numeric), max_rows, replace=False))
        numeric = numeric.iloc[rows]
    numeric = numeric.astype(float).reset_index(drop=True)
    numeric = numeric.fillna(numeric.median())
    if winsorize is not None:
        numeric = IQROutliers(factor=winsorize, action="clip").fit_transform(numeric)
    numeric = numeric.loc[:, numeric.nunique() > 1]
    if numeric.shape[1] == 0:
        raise DataError(f"dataset {name!r} has no non-constant numeric column.")
    return numeric


def _choose(rows: list[MinkowskiRun], p_values: Sequence[float]) -> tuple[float, dict, dict]:
    recall = {p: float(np.mean([r.recall for r in rows if r.p == p])) for p in p_values}
    auc = {p: float(np.mean([r.auc for r in rows if r.p == p])) for p in p_values}
    best = max(recall.values())
    tied = [p for p in p_values if recall[p] >= best - 1e-9]
    chosen = min(tied, key=lambda p: (-auc[p], p))
    return chosen, recall, auc


def select_minkowski_p(
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    p_values: Sequence[float] = MINKOWSKI_P_GRID,
    methods: Sequence[DistanceMethod] = ("knn", "lof"),
    rate: float = 0.02,
    shift: float = 3.0,
    max_columns: int = 3,
    n_repeats: int = 3,
    knn_neighbors: int = 5,
    lof_neighbors: int = 20,
    scaling: ScalingMethod = "robust",
    max_rows: int | Mapping[str, int] | None = None,
    winsorize: float | None = 3.0,
    n_jobs: int | None = None,
    random_state: int = 0,
) -> MinkowskiSelection:
    """Choose the Minkowski ``p`` that best finds injected outliers (see module docstring).

    Parameters
    ----------
    data : DataFrame or mapping of name to DataFrame
        Real feature frames (targets removed); only numeric columns are used.
    p_values : sequence of float, default (1, 1.5, 2, 3)
    methods : sequence of {"knn", "lof"}, default both
    rate, shift, max_columns
        Injection settings (:func:`inject_outliers`); ``rate`` is also the recall cut-off.
    n_repeats : int, default 3
        Independent injections per dataset.
    knn_neighbors, lof_neighbors : int
        ``n_neighbors`` of the two detectors.
    scaling : {"robust", "standard"}, default "robust"
    max_rows : int or mapping of name to int, optional
        Seeded row subsample per dataset (one cap for all, or a cap per dataset name).
        The neighbour search is brute force in more than about 15 dimensions and slow
        for ``p`` other than 1 and 2 (a power per coordinate pair), so large frames
        should be subsampled.
    winsorize : float or None, default 3.0
        Before injection, clip each column to Tukey's fences with this factor
        (:class:`~riskmoe.cleaning.IQROutliers`, zero-IQR columns untouched), as the
        default cleaning pipeline does; ``None`` keeps the raw values, whose gross natural
        extremes (ratios with near-zero denominators) then fill the top scores.
    n_jobs : int, optional
        Passed to the detectors' neighbour search.
    random_state : int, default 0
        Seeds the subsample (``[random_state, dataset index]``) and each injection
        (``[random_state, dataset index, repeat]``).

    Returns
    -------
    MinkowskiSelection

    Examples
    --------
    >>> from riskmoe.data import load_dataset
    >>> german = load_dataset("german_credit").frame.drop(columns="bad")
    >>> result = select_minkowski_p({"german": german}, p_values=(1, 2), n_repeats=1)
    >>> result.chosen_p in (1.0, 2.0)
    True
    """
    frames = {"data": data} if isinstance(data, pd.DataFrame) else dict(data)
    if not frames:
        raise ValueError("data must hold at least one frame; got none.")
    grid = [check_minkowski_p(p) for p in p_values]
    if not grid or len(set(grid)) != len(grid):
        raise ValueError(f"p_values must be non-empty and distinct; got {list(p_values)}.")
    if not methods or any(m not in ("knn", "lof") for m in methods):
        raise ValueError(f"methods must be a non-empty subset of ('knn', 'lof'); got {methods!r}.")
    if not (isinstance(n_repeats, int) and n_repeats >= 1):
        raise ValueError(f"n_repeats must be an integer >= 1; got {n_repeats!r}.")
    check_share(rate, "rate", low_open=True)

    runs: list[MinkowskiRun] = []
    datasets: dict[str, dict[str, Any]] = {}
    for d_index, (name, frame) in enumerate(frames.items()):
        cap = max_rows.get(name) if isinstance(max_rows, Mapping) else max_rows
        numeric = _prepare(frame, name, cap, winsorize, [random_state, d_index])
        datasets[name] = {
            "n_rows": len(numeric),
            "n_rows_available": len(frame),
            "columns": [str(c) for c in numeric.columns],
        }
        for repeat in range(n_repeats):
            injected = inject_outliers(
                numeric.to_numpy(),
                rate=rate,
                shift=shift,
                max_columns=max_columns,
                random_state=np.random.default_rng([random_state, d_index, repeat]),
            )
            datasets[name]["n_injected"] = int(injected.is_outlier.sum())
            perturbed = pd.DataFrame(injected.values, columns=numeric.columns)
            for method in methods:
                for p in grid:
                    detector: KNNOutliers | LOFOutliers
                    if method == "knn":
                        detector = KNNOutliers(
                            p=p, n_neighbors=knn_neighbors, scaling=scaling, n_jobs=n_jobs
                        )
                    else:
                        detector = LOFOutliers(
                            p=p, n_neighbors=lof_neighbors, scaling=scaling, n_jobs=n_jobs
                        )
                    scores = detector.fit(perturbed).training_scores_
                    runs.append(
                        MinkowskiRun(
                            dataset=name,
                            method=method,
                            p=p,
                            repeat=repeat,
                            recall=_recall_at_rate(scores, injected.is_outlier),
                            auc=float(roc_auc_score(injected.is_outlier, scores)),
                        )
                    )

    summary = []
    for name in frames:
        for method in methods:
            for p in grid:
                cell = [r for r in runs if (r.dataset, r.method, r.p) == (name, method, p)]
                recalls = np.array([r.recall for r in cell])
                aucs = np.array([r.auc for r in cell])
                summary.append(
                    MinkowskiSummary(
                        name,
                        method,
                        p,
                        float(recalls.mean()),
                        float(recalls.std()),
                        float(aucs.mean()),
                        float(aucs.std()),
                    )
                )
    chosen, recall_by_p, auc_by_p = _choose(runs, grid)
    by_method = {str(m): _choose([r for r in runs if r.method == m], grid)[0] for m in methods}
    settings = {
        "p_values": grid,
        "methods": list(methods),
        "rate": rate,
        "shift": shift,
        "max_columns": max_columns,
        "n_repeats": n_repeats,
        "knn_neighbors": knn_neighbors,
        "lof_neighbors": lof_neighbors,
        "scaling": scaling,
        "max_rows": dict(max_rows) if isinstance(max_rows, Mapping) else max_rows,
        "winsorize": winsorize,
        "random_state": random_state,
    }
    return MinkowskiSelection(
        chosen_p=chosen,
        criterion=CRITERION,
        best_p_by_method=by_method,
        mean_recall_by_p=recall_by_p,
        mean_auc_by_p=auc_by_p,
        summary=tuple(summary),
        runs=tuple(runs),
        datasets=datasets,
        settings=settings,
    )
