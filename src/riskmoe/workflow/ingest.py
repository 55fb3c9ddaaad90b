"""Jobs that bring data in: ingest a dataset or file into the store, clean a dataset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskmoe.cleaning import CleaningPipeline, CleaningReport
from riskmoe.config import Settings
from riskmoe.data import get_spec, load_dataset
from riskmoe.data.contracts import check_not_empty, check_target, check_text_in_numeric
from riskmoe.data.readers import read_table
from riskmoe.data.store import Store, TableVersion

__all__ = ["CleanResult", "clean_dataset", "ingest"]


# ---------------------------------------------------------------------------------------
# ingest
# ---------------------------------------------------------------------------------------


def _table_name_for(path: Path) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_")
    return name if name and name[0].isalpha() else f"t_{name}"


def ingest(
    source: str,
    settings: Settings,
    *,
    name: str | None = None,
    target: str | None = None,
    **options: Any,
) -> TableVersion:
    """Ingest a registered dataset (by name) or a file (by path) into the store.

    A file is checked before anything is written: no empty table, no entirely empty
    column, no numeric column with stray text, and the target (if named) present and
    0/1. The write is one transaction.

    Raises
    ------
    DatasetNotFoundError
        Neither a registered dataset nor an existing file.
    DataFormatError, SchemaError
        The file cannot be read or breaks a contract.
    """
    path = Path(source)
    frame: pd.DataFrame
    if path.suffix or path.exists() or "/" in source:
        frame = read_table(path)
        where = str(path)
        check_not_empty(frame, where=where)
        check_text_in_numeric(frame, where=where)
        table = name or _table_name_for(path)
    else:
        get_spec(source)  # a specific error for an unknown name, before any loading
        ds = load_dataset(source, settings=settings, **options)
        frame, where, table = ds.frame, source, name or source
        check_not_empty(frame, where=where)
    if target is not None:
        check_target(frame, target, where=where)
    with Store(settings.resolved_store_path) as store:
        return store.ingest(table, frame)


# ---------------------------------------------------------------------------------------
# clean
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanResult:
    """What ``clean_dataset`` did: the report and the stored cleaned table."""

    dataset: str
    report: CleaningReport
    version: TableVersion

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "dataset": self.dataset,
            "report": self.report.to_dict(),
            "version": self.version.to_dict(),
        }


def clean_dataset(name: str, settings: Settings, **options: Any) -> CleanResult:
    """Clean a registered dataset's features with the default pipeline and store the result.

    The pipeline is fitted on the whole dataset here (a data-quality pass); inside
    ``run`` and the benchmarks it is fitted on the training part only.
    """
    ds = load_dataset(name, settings=settings, **options)
    X = ds.frame[ds.features]
    pipe = CleaningPipeline.default()
    cleaned = pipe.fit_transform(X)
    if ds.target is not None:
        cleaned[ds.target] = ds.frame.loc[pipe.kept_index_, ds.target].to_numpy()
    with Store(settings.resolved_store_path) as store:
        version = store.ingest(f"{name}_clean", cleaned.reset_index(drop=True))
    return CleanResult(name, pipe.report_, version)
