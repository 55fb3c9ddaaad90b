"""Read jobs behind the API and the dashboard: what is stored, shaped for display.

The service renders these; it computes nothing itself. Every function takes an open
:class:`~riskmoe.data.store.Store` (the service keeps one connection per app) and returns
plain frames or dicts; a table that does not exist yet gives an empty result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.data.store import Store
from riskmoe.evaluation.metrics import calibration_data, probability_metrics
from riskmoe.exceptions import StoreError
from riskmoe.monitoring.alerts import ALERT_TABLE, Alert, alerts_frame
from riskmoe.reporting import Figure, Report, Section, Table, Trace
from riskmoe.risk import MasterScale
from riskmoe.workflow.models import registered_models
from riskmoe.workflow.risk_jobs import GRADE_CHANGES_TABLE, GRADE_HISTORY_TABLE

__all__ = [
    "PORTFOLIO_SUFFIX",
    "alert_rows",
    "append_alerts",
    "entity_history",
    "latest_grades",
    "portfolio_by_grade",
    "portfolio_scores",
    "portfolio_tables",
    "score_quality",
    "stored_report",
    "stored_table",
]

PORTFOLIO_SUFFIX = "_portfolio"
_ALERT_COLUMNS = (
    "alert_id",
    "subject",
    "rule",
    "severity",
    "message",
    "as_of",
    "source",
    "value",
    "threshold",
    "status",
)


def stored_table(store: Store, name: str) -> pd.DataFrame | None:
    """A versioned or log table, or None when the store does not hold it."""
    if store.latest(name) is None and name not in store.log_names():
        return None
    return store.table(name)


def append_alerts(store: Store, alerts: list[Alert]) -> int:
    """Store alerts in the ``alerts`` log table as the monitoring room does (its
    :func:`~riskmoe.monitoring.alerts.alerts_frame`); a replayed alert adds nothing."""
    return store.append(ALERT_TABLE, alerts_frame(alerts), key="alert_id")


def alert_rows(
    store: Store,
    *,
    limit: int = 100,
    severity: str | None = None,
    subject: str | None = None,
) -> list[dict[str, Any]]:
    """The newest alerts first, as plain dicts (empty when no alert was ever stored)."""
    if ALERT_TABLE not in store.log_names():
        return []
    where, params = [], []
    if severity is not None:
        where.append("severity = ?")
        params.append(severity)
    if subject is not None:
        where.append("subject = ?")
        params.append(subject)
    sql = f'SELECT * FROM "{ALERT_TABLE}"'
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY as_of DESC, alert_id LIMIT ?"
    frame = store.query(sql, [*params, int(limit)])
    out = []
    for r in frame.to_dict(orient="records"):
        row = {k: r.get(k) for k in _ALERT_COLUMNS}
        row["as_of"] = pd.Timestamp(str(row["as_of"])).isoformat()
        for k in ("value", "threshold"):
            v = row.get(k)
            row[k] = None if v is None or pd.isna(v) else float(v)
        out.append(row)
    return out


def entity_history(store: Store, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An entity's grade history (oldest first) and its recorded grade changes."""
    history = pd.DataFrame(columns=["entity", "as_of", "pd", "grade", "model_version"])
    changes = pd.DataFrame()
    if store.latest(GRADE_HISTORY_TABLE) is not None:
        history = store.query(
            f'SELECT * FROM "{GRADE_HISTORY_TABLE}" WHERE entity = ? ORDER BY as_of', [code]
        )
    if store.latest(GRADE_CHANGES_TABLE) is not None:
        changes = store.query(f'SELECT * FROM "{GRADE_CHANGES_TABLE}" WHERE entity = ?', [code])
    return history, changes


def latest_grades(store: Store) -> pd.DataFrame:
    """Each entity's newest grade (empty without a grade history)."""
    if store.latest(GRADE_HISTORY_TABLE) is None:
        return pd.DataFrame(columns=["entity", "as_of", "pd", "grade"])
    return store.query(
        f'SELECT * FROM "{GRADE_HISTORY_TABLE}" '
        "QUALIFY row_number() OVER (PARTITION BY entity ORDER BY as_of DESC) = 1"
    )


def portfolio_tables(store: Store) -> list[str]:
    """Graded portfolios stored by ``riskmoe run`` (``<dataset>_portfolio``)."""
    return [n for n in store.names() if n.endswith(PORTFOLIO_SUFFIX)]


def portfolio_by_grade(store: Store, table: str) -> pd.DataFrame:
    """Exposures, EL, RWA and capital summed by grade, with counts and tiers, in grade
    order (the per-exposure figures were computed by the credit stage of ``run``)."""
    frame = store.table(table)
    sums = [c for c in ("ead", "el", "ul", "rwa", "capital") if c in frame.columns]
    by = frame.groupby("grade")[sums].sum()
    by.insert(0, "n", frame.groupby("grade").size())
    order = sorted(
        by.index, key=lambda g: (not str(g).isdigit(), int(g) if str(g).isdigit() else 0)
    )
    by = by.loc[order].reset_index()
    scale = MasterScale()
    by["tier"] = [
        str(scale.tier(float(frame.loc[frame["grade"] == g, "pd"].median()))) for g in by["grade"]
    ]
    return by


def portfolio_scores(store: Store, table: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y, pd)`` of a graded portfolio that carries outcomes, else None."""
    frame = store.table(table)
    if "y" not in frame.columns or "pd" not in frame.columns:
        return None
    return frame["y"].to_numpy(dtype=float), frame["pd"].to_numpy(dtype=float)


def quality_figures(
    quality: Mapping[str, Any], calibration_title: str = "Calibration"
) -> tuple[Figure, Figure]:
    """The ROC and calibration figures of :func:`score_quality`'s result."""
    roc, cal = quality["roc"], quality["calibration"]
    return (
        Figure(
            "ROC",
            [Trace("model", roc["fpr"], roc["tpr"]), Trace("chance", [0, 1], [0, 1], "dash")],
            "false positive rate",
            "true positive rate",
            square=True,
        ),
        Figure(
            calibration_title,
            [
                Trace("model", cal["prob_pred"], cal["prob_true"]),
                Trace("perfect", [0, 1], [0, 1], "dash"),
            ],
            "predicted PD",
            "observed default rate",
            square=True,
        ),
    )


def score_quality(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> dict[str, Any]:
    """Held-out metrics, ROC points and the calibration curve of scores ``p``."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    cal = calibration_data(y, p, n_bins=n_bins)
    return {
        "metrics": probability_metrics(y, p).to_dict(),
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()},
        "calibration": cal.to_dict(),
    }


def _alerts_section(store: Store) -> Section | None:
    rows = alert_rows(store, limit=50)
    if not rows:
        return None
    return Section(
        "alerts",
        "Monitoring alerts",
        f"The newest {len(rows)} alerts raised by monitoring.",
        tables=(
            Table(
                "Alerts (newest first)",
                ["as of", "severity", "subject", "rule", "message"],
                [[r["as_of"], r["severity"], r["subject"], r["rule"], r["message"]] for r in rows],
            ),
        ),
    )


def _portfolio_section(store: Store, table: str) -> Section:
    by = portfolio_by_grade(store, table)
    grades = [str(g) for g in by["grade"]]
    cols = [c for c in ("n", "ead", "el", "ul", "rwa", "capital") if c in by.columns]
    figures = [
        Figure(
            "EL and capital by grade",
            [Trace(c, grades, by[c].tolist()) for c in ("el", "capital") if c in by.columns],
            "grade",
            "amount",
            kind="bar",
        )
    ]
    scores = portfolio_scores(store, table)
    summary = f"{int(by['n'].sum()):,} held-out exposures graded on the master scale."
    if scores is not None and len(set(scores[0].tolist())) == 2:
        q = score_quality(*scores)
        m = q["metrics"]
        summary += f" AUC {m['auc']:.3f}, KS {m['ks']:.3f}, Brier {m['brier']:.4f}."
        figures += list(quality_figures(q))
    return Section(
        table,
        f"Portfolio {table}: grades, EL and capital",
        summary,
        tables=(
            Table(
                "By grade",
                ["grade", "tier", *cols],
                [
                    [g, t, *(float(r[c]) if c != "n" else int(r[c]) for c in cols)]
                    for g, t, (_, r) in zip(grades, by["tier"], by.iterrows(), strict=True)
                ],
            ),
        ),
        figures=tuple(figures),
    )


def stored_report(store: Store, *, title: str = "riskmoe report") -> Report:
    """The report of what the store holds: portfolios graded by ``riskmoe run`` (EL,
    capital, ROC, calibration), registered models with their held-out metrics and
    manifest hashes, entity grades, monitoring alerts, the cleaning summary (raw versus
    cleaned rows) and the lineage of every stored table version.

    Raises
    ------
    StoreError
        When the store holds neither a graded portfolio nor a registered model.
    """
    sections: list[Section] = []
    portfolios = portfolio_tables(store)
    reg = registered_models(store)
    if not portfolios and reg.empty:
        raise StoreError(
            "the store holds no run results (no graded portfolio, no registered model); "
            "run `riskmoe run` first, or `riskmoe report --run`."
        )
    sections += [_portfolio_section(store, t) for t in portfolios]
    if not reg.empty:
        cols = [
            c
            for c in ("model_id", "dataset", "n_train", "n_test", "auc", "ks", "brier")
            if c in reg.columns
        ]
        sections.append(
            Section(
                "models",
                "Registered models",
                "Held-out metrics recorded when each model was trained.",
                tables=(
                    Table(
                        "Model registry",
                        cols,
                        [
                            [
                                r[c]
                                if isinstance(r[c], str)
                                else float(r[c])
                                if c in ("auc", "ks", "brier")
                                else int(r[c])
                                for c in cols
                            ]
                            for r in reg.to_dict(orient="records")
                        ],
                    ),
                ),
            )
        )
    grades = latest_grades(store)
    if len(grades):
        counts = grades["grade"].astype(str).value_counts().sort_index()
        sections.append(
            Section(
                "entities",
                "Entity grades",
                f"{len(grades):,} entities; the newest grade of each.",
                figures=(
                    Figure(
                        "Grade distribution",
                        [Trace("entities", counts.index.tolist(), counts.tolist())],
                        "grade",
                        "entities",
                        kind="bar",
                    ),
                ),
            )
        )
    alerts = _alerts_section(store)
    if alerts is not None:
        sections.append(alerts)
    versions = {v.name: v for v in store.versions()}  # the latest version of each
    cleaned = [
        [
            n,
            versions[n[: -len("_clean_train")]].rows
            if n[: -len("_clean_train")] in versions
            else None,
            v.rows,
        ]
        for n, v in versions.items()
        if n.endswith("_clean_train")
    ]
    if cleaned:
        sections.append(
            Section(
                "cleaning",
                "Cleaning summary",
                "Rows of each raw dataset and of its cleaned training split "
                "(the pipeline is fitted on the training split only).",
                tables=(Table("Cleaning", ["cleaned table", "raw rows", "cleaned rows"], cleaned),),
            )
        )
    lineage: dict[str, Any] = {
        f"table {v.table_name}": (
            f"{v.rows:,} rows, sha256 {v.sha256}, created {v.created_at:%Y-%m-%d %H:%M}"
        )
        for v in versions.values()
    }
    for r in reg.to_dict(orient="records"):
        lineage[f"model {r['model_id']}"] = f"{r['path']}, manifest sha256 {r['manifest_sha256']}"
    lineage["store"] = str(store.path)
    return Report(
        title=title,
        generated_at=datetime.now(UTC),
        lineage=lineage,
        sections=tuple(sections),
    )
