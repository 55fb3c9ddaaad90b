"""PNG figures of benchmark results (matplotlib, headless ``Agg`` backend).

Figures are drawn from computed results only -- out-of-fold scores, usage tables -- and
written to files; nothing here computes a metric that is reported elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from riskmoe.evaluation.metrics import calibration_data

__all__ = ["plot_expert_usage", "plot_roc_calibration", "usage_by_group", "usage_table"]


def _pyplot() -> Any:
    # Imported lazily: matplotlib is only needed when figures are drawn, and the
    # backend must be chosen before pyplot is first imported.
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_roc_calibration(
    y: np.ndarray, scores: Mapping[str, np.ndarray], *, title: str, path: Path
) -> Path:
    """ROC curves and a reliability diagram (10 equal-count bins) of several models.

    Parameters
    ----------
    y : ndarray of 0/1
        Labels.
    scores : mapping of str to ndarray
        Out-of-fold probabilities per model, aligned with ``y``; rows with NaN are
        dropped per model.
    title : str
        Figure title.
    path : Path
        Output PNG.
    """
    plt = _pyplot()
    fig, (ax_roc, ax_cal) = plt.subplots(1, 2, figsize=(11, 4.8))
    ax_roc.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    ax_cal.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    top = 0.0
    for name, s in scores.items():
        keep = ~np.isnan(s)
        if keep.sum() == 0 or len(np.unique(y[keep])) < 2:
            continue
        fpr, tpr, _ = roc_curve(y[keep], s[keep])
        auc = roc_auc_score(y[keep], s[keep])
        ax_roc.plot(fpr, tpr, linewidth=1.4, label=f"{name} (AUC {auc:.3f})")
        # quantile bins: with rare defaults, equal-width bins put nearly every row in one
        cal = calibration_data(y[keep], s[keep], n_bins=10, strategy="quantile")
        ax_cal.plot(cal.prob_pred, cal.prob_true, marker="o", markersize=3, label=name)
        top = max(top, *cal.prob_pred, *cal.prob_true)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax_roc.legend(loc="lower right", fontsize=8)
    ax_cal.set(
        xlabel="mean predicted probability",
        ylabel="observed default rate",
        title="Calibration (10 equal-count bins)",
    )
    # zoom to where the predictions are: rare-event data lives near 0
    limit = min(1.0, max(0.05, 1.05 * top))
    ax_cal.set_xlim(0, limit)
    ax_cal.set_ylim(0, limit)
    ax_cal.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def usage_table(usages: Sequence[Any], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Average per-fold expert-usage values into one table (rows: views, columns: experts).

    Accepts what an MoE may expose as ``expert_usage_``: a mapping or Series (expert
    name to share), a 1-d array (share per expert), or a 2-d array / DataFrame (e.g.
    feature group x expert). A 1-d usage becomes a one-row table.

    Raises
    ------
    ValueError
        If there is nothing to average or the folds disagree in shape.
    """
    if not usages:
        raise ValueError("no expert usage to tabulate.")
    frames = []
    for u in usages:
        if isinstance(u, pd.DataFrame):
            frame = u.astype(float)
        elif isinstance(u, pd.Series | Mapping):
            s = pd.Series(u, dtype=float)
            frame = s.to_frame().T.set_axis(["share of routing"], axis=0)
        else:
            arr = np.asarray(u, dtype=float)
            if arr.ndim == 1:
                arr = arr[None, :]
            if arr.ndim != 2:
                raise ValueError(f"expert usage must be 1-d or 2-d; got shape {arr.shape}.")
            cols = list(labels) if labels is not None and len(labels) == arr.shape[1] else None
            frame = pd.DataFrame(arr, columns=cols or [f"expert {i}" for i in range(arr.shape[1])])
            if arr.shape[0] == 1:
                frame.index = pd.Index(["share of routing"])
        frames.append(frame)
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"expert usage differs in shape across folds: {sorted(shapes)}.")
    stacked = np.stack([f.to_numpy() for f in frames])
    return pd.DataFrame(stacked.mean(axis=0), index=frames[0].index, columns=frames[0].columns)


def _group_of(label: str) -> str:
    """``"routed_2[liquidity]"`` -> ``"liquidity"``; labels without a group stay as they are."""
    match = re.search(r"\[(.+)\]$", label)
    return match.group(1) if match else label


def usage_by_group(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Routing share per (dataset, feature group): the usage of a group's experts, summed.

    Takes one-row usage tables (:func:`usage_table`) whose columns name experts as
    ``name[group]``; rows of the result are datasets, columns the union of groups
    (alphabetical), NaN where a dataset has no such group.

    Raises
    ------
    ValueError
        If a table has more than one row.
    """
    rows: dict[str, pd.Series] = {}
    for name, table in tables.items():
        if len(table.index) != 1:
            raise ValueError(f"{name}: expected one row of expert usage; got {len(table.index)}.")
        row = table.iloc[0]
        groups = [_group_of(str(c)) for c in table.columns]
        rows[name] = row.groupby(groups, sort=False).sum()
    return pd.DataFrame(rows).T


def plot_expert_usage(tables: Mapping[str, pd.DataFrame], *, path: Path) -> Path:
    """Heatmap of expert utilisation per feature group (rows: datasets), averaged over folds.

    One-row usage tables are summed per feature group (:func:`usage_by_group`) into one
    datasets x groups heatmap; two-dimensional usage gets one heatmap per dataset.
    """
    if not tables:
        raise ValueError("no expert-usage tables to plot.")
    plt = _pyplot()
    if all(len(t.index) == 1 for t in tables.values()):
        panels = {"routing share per feature group (sums to top_k per row)": usage_by_group(tables)}
    else:
        panels = dict(tables)
    heights = [0.45 * len(t.index) + 2.2 for t in panels.values()]
    width = max(8.0, 0.6 * max(len(t.columns) for t in panels.values()) + 3.0)
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(width, sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
        layout="constrained",
    )
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    for ax, (title, table) in zip(axes[:, 0], panels.items(), strict=True):
        values = table.to_numpy(dtype=float)
        im = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, vmin=0.0)
        ax.set_xticks(
            range(values.shape[1]),
            [str(c) for c in table.columns],
            rotation=40,
            ha="right",
            fontsize=8,
        )
        ax.set_yticks(range(values.shape[0]), [str(i) for i in table.index], fontsize=8)
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.03)
    fig.suptitle("MoE expert utilisation (mean over folds)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
