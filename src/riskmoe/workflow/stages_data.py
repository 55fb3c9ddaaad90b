"""Data stages of ``run``: load, ingest, split and clean."""

from __future__ import annotations

from typing import Any

from sklearn.model_selection import train_test_split

from riskmoe.cleaning import CleaningPipeline
from riskmoe.data import load_dataset
from riskmoe.exceptions import SchemaError
from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.workflow.context import RunContext

__all__ = ["stage_clean", "stage_ingest", "stage_load"]


def stage_load(ctx: RunContext) -> None:
    ds = load_dataset(ctx.config.dataset, settings=ctx.settings, **dict(ctx.config.dataset_options))
    if ds.target is None:
        raise SchemaError(
            f"dataset {ds.name!r} has no binary target; `run` needs one (e.g. german_credit)."
        )
    ctx.dataset = ds
    m = ds.meta
    rows: list[list[Any]] = [
        ["dataset", ds.name],
        ["rows", m.n_rows],
        ["columns", m.n_columns],
        ["target", ds.target],
        ["positive rate", m.positive_rate],
        ["read from", m.origin],
        ["source", m.source],
        ["license", m.license],
    ]
    groups = [[g, len(cols), ", ".join(cols)] for g, cols in ds.feature_groups.items()]
    ctx.sections.append(
        Section(
            "data",
            "Data",
            summary=m.citation + (" " + " ".join(m.notes) if m.notes else ""),
            tables=(
                Table("Dataset", ["field", "value"], rows),
                Table("Feature groups (expert views)", ["group", "columns", "names"], groups),
            ),
        )
    )


def stage_ingest(ctx: RunContext) -> None:
    ctx.require("dataset")
    assert ctx.dataset is not None
    ctx.versions["raw"] = ctx.store.ingest(ctx.dataset.name, ctx.dataset.frame)


def stage_clean(ctx: RunContext) -> None:
    ctx.require("dataset")
    assert ctx.dataset is not None
    X, y = ctx.dataset.X_y()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=ctx.config.test_size, stratify=y, random_state=ctx.settings.random_state
    )
    pipe = CleaningPipeline.default()
    X_tr = pipe.fit_transform(X_tr)
    y_tr = y_tr.loc[pipe.kept_index_]
    train_report = pipe.report_
    X_te = pipe.transform(X_te)
    y_te = y_te.loc[pipe.kept_index_]
    ctx.X_train, ctx.X_test, ctx.y_train, ctx.y_test, ctx.cleaning = X_tr, X_te, y_tr, y_te, pipe
    stored = X_tr.assign(**{ctx.dataset.target or "target": y_tr.to_numpy()})
    ctx.versions["clean_train"] = ctx.store.ingest(
        f"{ctx.dataset.name}_clean_train", stored.reset_index(drop=True)
    )
    steps = [
        [s.name, s.step, s.rows_before, s.rows_after, s.cells_changed] for s in train_report.steps
    ]
    changed = [
        [
            s.name,
            c.column,
            c.status,
            c.cells_changed,
            c.missing_before,
            c.missing_after,
            c.min_before,
            c.max_before,
            c.min_after,
            c.max_after,
        ]
        for s in train_report.steps
        for c in s.columns
        if c.touched
    ]
    ctx.sections.append(
        Section(
            "cleaning",
            "Data quality and cleaning",
            summary=(
                "The cleaning pipeline was fitted on the training split only "
                f"({len(X_tr):,} rows kept) and applied unchanged to the test split "
                f"({len(X_te):,} rows)."
            ),
            tables=(
                Table(
                    "Steps (training split)",
                    ["step", "kind", "rows before", "rows after", "cells changed"],
                    steps,
                ),
                Table(
                    "Columns changed",
                    [
                        "step",
                        "column",
                        "status",
                        "cells changed",
                        "missing before",
                        "missing after",
                        "min before",
                        "max before",
                        "min after",
                        "max after",
                    ],
                    changed,
                    note="Columns not listed were unchanged by every step.",
                ),
            ),
            figures=(
                Figure(
                    "Cells changed per step",
                    [Trace("cells", [s[0] for s in steps], [s[4] for s in steps])],
                    x_label="step",
                    y_label="cells",
                    kind="bar",
                ),
            ),
        )
    )
