"""Model stages of ``run``: fit, evaluate on the held-out split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from riskmoe.evaluation import discrimination
from riskmoe.models import MoERiskClassifier
from riskmoe.models.baselines import make_lightgbm, make_logistic, positive_scores
from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.workflow.context import RunContext

__all__ = ["PRIMARY_MODEL", "stage_evaluate", "stage_explain", "stage_fit"]


PRIMARY_MODEL = "moe"


def stage_fit(ctx: RunContext) -> None:
    """Fit the MoE, LightGBM and the logistic scorecard on the cleaned training split."""
    ctx.require("X_train", "y_train", "dataset")
    assert ctx.X_train is not None and ctx.dataset is not None
    seed = ctx.settings.random_state
    kept = set(ctx.X_train.columns)  # cleaning may have dropped sparse columns
    groups = {g: [c for c in cols if c in kept] for g, cols in ctx.dataset.feature_groups.items()}
    groups = {g: cols for g, cols in groups.items() if cols}
    ctx.models[PRIMARY_MODEL] = MoERiskClassifier(random_state=seed, feature_groups=groups).fit(
        ctx.X_train, ctx.y_train
    )
    ctx.models["lightgbm"] = make_lightgbm(random_state=seed).fit(ctx.X_train, ctx.y_train)
    ctx.models["logistic"] = make_logistic(random_state=seed).fit(ctx.X_train, ctx.y_train)


def stage_explain(ctx: RunContext) -> None:
    """Expert utilisation and reason codes for the riskiest held-out cases."""
    ctx.require("X_test")
    assert ctx.X_test is not None
    model = ctx.models[PRIMARY_MODEL]
    names = [str(n) for n in model.expert_names_]
    usage = [float(u) for u in model.expert_usage_]
    scores = ctx.scores[PRIMARY_MODEL]
    top = np.argsort(-scores)[:10]
    riskiest = ctx.X_test.iloc[top]
    explanation = model.explain(riskiest).to_frame()
    reasons = [c for c in explanation.columns if c.startswith("reason_")]
    rows = [
        [str(idx), float(scores[i]), *[explanation.iloc[k][c] for c in reasons]]
        for k, (idx, i) in enumerate(zip(riskiest.index, top, strict=True))
    ]
    ctx.results["experts"] = dict(zip(names, usage, strict=True))
    ctx.sections.append(
        Section(
            "experts",
            "Mixture of experts: routing and reasons",
            summary=(
                "Share of training rows the router sends to each routed expert (experts are "
                "named by the feature group they see; shared experts see every row), and the "
                "three strongest signed attributions (integrated gradients) for the ten "
                "riskiest held-out cases."
            ),
            tables=(
                Table(
                    "Reason codes, ten riskiest held-out cases",
                    ["row", "PD", *[f"reason {k + 1}" for k in range(len(reasons))]],
                    rows,
                ),
            ),
            figures=(
                Figure(
                    "Expert utilisation",
                    [Trace("share of rows", names, usage)],
                    x_label="expert",
                    y_label="share",
                    kind="bar",
                ),
            ),
        )
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
