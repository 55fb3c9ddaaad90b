"""Model stages of ``run``: fit, evaluate on the held-out split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from riskmoe.evaluation import discrimination
from riskmoe.models.baselines import make_logistic, positive_scores
from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.workflow.context import RunContext

__all__ = ["stage_evaluate", "stage_fit"]


def stage_fit(ctx: RunContext) -> None:
    ctx.require("X_train", "y_train")
    ctx.models["logistic"] = make_logistic(random_state=ctx.settings.random_state).fit(
        ctx.X_train, ctx.y_train
    )


def stage_evaluate(ctx: RunContext) -> None:
    ctx.require("X_test", "y_test", "dataset")
    assert ctx.X_test is not None and ctx.y_test is not None and ctx.dataset is not None
    y = ctx.y_test.to_numpy()
    roc_traces = [Trace("chance", [0, 1], [0, 1], dash="dot")]
    rows = []
    for name, model in ctx.models.items():
        s = positive_scores(model, ctx.X_test)
        ctx.scores[name] = s
        rep = discrimination(y, s)
        ctx.metrics[name] = rep
        fpr, tpr, _ = roc_curve(y, s)
        roc_traces.append(
            Trace(f"{name} (AUC {rep.auc:.3f})", fpr.round(5).tolist(), tpr.round(5).tolist())
        )
        rows.append([name, rep.auc, rep.gini, rep.ks, rep.n, rep.positives])
    scores = pd.DataFrame({"row": ctx.X_test.index.to_numpy(), "y": y})
    for name, s in ctx.scores.items():
        scores[f"score_{name}"] = s
    ctx.versions["scores"] = ctx.store.ingest(f"{ctx.dataset.name}_scores", scores)
    ks_figs = [_ks_figure(name, y, s) for name, s in ctx.scores.items()]
    ctx.sections.append(
        Section(
            "evaluation",
            "Model evaluation (held-out test split)",
            summary=(
                "AUC, Gini (2·AUC − 1) and KS (max gap between the score distributions "
                "of bads and goods)."
            ),
            tables=(Table("Discrimination", ["model", "AUC", "Gini", "KS", "rows", "bads"], rows),),
            figures=(
                Figure(
                    "ROC curve",
                    roc_traces,
                    "false positive rate",
                    "true positive rate",
                    square=True,
                ),
                *ks_figs,
            ),
        )
    )


def _ks_figure(name: str, y: np.ndarray, s: np.ndarray) -> Figure:
    grid = np.quantile(s, np.linspace(0, 1, 101))
    bad = np.searchsorted(np.sort(s[y == 1]), grid, side="right") / max((y == 1).sum(), 1)
    good = np.searchsorted(np.sort(s[y == 0]), grid, side="right") / max((y == 0).sum(), 1)
    return Figure(
        f"KS plot — {name}",
        [
            Trace("bads", grid.round(5).tolist(), bad.round(5).tolist()),
            Trace("goods", grid.round(5).tolist(), good.round(5).tolist()),
        ],
        x_label="score",
        y_label="cumulative share",
    )
