"""The dataset contract: what ``load_dataset`` returns and what a registry entry holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd

__all__ = ["Dataset", "DatasetMeta", "DatasetSpec", "Loaded", "SourceFile", "DatasetKind"]

DatasetKind = Literal["credit", "corporate", "market", "macro", "text", "lookup"]
Origin = Literal["explicit", "data_dir", "shared", "download", "bundled"]


@dataclass(frozen=True)
class SourceFile:
    """One file a dataset is read from.

    Parameters
    ----------
    folder : str
        Sub-folder of a ``shared/data``-like directory.
    name : str
        File name inside ``folder``.
    url : str or None
        Official download URL, tried when no local copy is found.
    sha256 : str or None
        Expected checksum (from the folder README); a download that does not match is
        discarded.
    """

    folder: str
    name: str
    url: str | None = None
    sha256: str | None = None


class Loaded(NamedTuple):
    """What a loader function returns; the registry adds the metadata."""

    frame: pd.DataFrame
    target: str | None
    feature_groups: dict[str, tuple[str, ...]]
    notes: tuple[str, ...] = ()


class FileLocator:
    """Protocol-like base for the object loaders receive: ``path(folder, name)``."""

    def path(self, source: SourceFile) -> Path:  # pragma: no cover - interface
        raise NotImplementedError


LoaderFn = Callable[..., Loaded]


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: where a dataset comes from and how it is read.

    ``loader(files, **options)`` receives a locator whose ``path(SourceFile)`` resolves
    one file through the resolution order (explicit path, ``RISKMOE_DATA_DIR``,
    ``../shared/data``, download, bundled), and returns a :class:`Loaded`.
    """

    name: str
    kind: DatasetKind
    description: str
    files: tuple[SourceFile, ...]
    loader: LoaderFn
    source: str
    citation: str
    license: str
    documented_rows: int | None = None
    options: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    bundled_loader: LoaderFn | None = None
    bundled_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetMeta:
    """Provenance and shape of a loaded dataset."""

    source: str
    citation: str
    license: str
    n_rows: int
    n_columns: int
    positive_rate: float | None
    origin: Origin
    files: Mapping[str, str]
    options: Mapping[str, Any]
    documented_rows: int | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "source": self.source,
            "citation": self.citation,
            "license": self.license,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "positive_rate": self.positive_rate,
            "origin": self.origin,
            "files": dict(self.files),
            "options": dict(self.options),
            "documented_rows": self.documented_rows,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    name : str
        Registry name.
    frame : pandas.DataFrame
        The data, decoded (sentinels to NaN, codes to labels) as its README documents.
    target : str or None
        Name of the binary outcome column (1 = the risk event), if any.
    feature_groups : mapping of str to tuple of str
        Analyst-meaningful groups of feature columns; these become expert views.
    meta : DatasetMeta
        Source, citation, license, row count, positive rate and where it was read from.
    """

    name: str
    frame: pd.DataFrame
    target: str | None
    feature_groups: Mapping[str, tuple[str, ...]]
    meta: DatasetMeta

    @property
    def features(self) -> list[str]:
        """Every column in some feature group, in frame order."""
        grouped = {c for cols in self.feature_groups.values() for c in cols}
        return [c for c in self.frame.columns if c in grouped]

    def X_y(self) -> tuple[pd.DataFrame, pd.Series]:
        """Feature frame and target series.

        Raises
        ------
        SchemaError
            If the dataset has no target.
        """
        from riskmoe.exceptions import SchemaError

        if self.target is None:
            raise SchemaError(f"dataset {self.name!r} has no target column.")
        return self.frame[self.features], self.frame[self.target]
