"""The dataset registry: ``register``, ``list_datasets``, ``load_dataset``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskmoe.config import Settings
from riskmoe.data._dataset import (
    Dataset,
    DatasetKind,
    DatasetMeta,
    DatasetSpec,
    Loaded,
    LoaderFn,
    SourceFile,
)
from riskmoe.data._sources import SourceLocator, bundled_path
from riskmoe.exceptions import DataError, DatasetNotFoundError, SchemaError

__all__ = ["register", "list_datasets", "load_dataset", "get_spec", "DatasetInfo"]

_REGISTRY: dict[str, DatasetSpec] = {}


def register(
    *,
    name: str,
    kind: DatasetKind,
    description: str,
    files: tuple[SourceFile, ...],
    source: str,
    citation: str,
    license: str,
    documented_rows: int | None = None,
    options: Mapping[str, tuple[Any, ...]] | None = None,
    bundled_files: tuple[str, ...] = (),
) -> Callable[[LoaderFn], LoaderFn]:
    """Register a loader function as dataset ``name``.

    ``options`` maps each keyword option the loader accepts to its allowed values, the
    first being the default. ``bundled_files`` names files under ``riskmoe/data/bundled``;
    when given, a loader registered with :func:`register_bundled` reads them when no
    other source is available.
    """

    def deco(fn: LoaderFn) -> LoaderFn:
        previous = _REGISTRY.get(name)
        # The same function imported a second time (doctest collection imports modules
        # by path) replaces its own entry; a different function under a taken name is
        # a mistake.
        if previous is not None and (
            previous.loader.__module__,
            previous.loader.__qualname__,
        ) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"dataset {name!r} is registered twice.")
        _REGISTRY[name] = DatasetSpec(
            name=name,
            kind=kind,
            description=description,
            files=files,
            loader=fn,
            source=source,
            citation=citation,
            license=license,
            documented_rows=documented_rows,
            options=dict(options or {}),
            bundled_files=bundled_files,
        )
        return fn

    return deco


def register_bundled(name: str) -> Callable[[Callable[..., Loaded]], Callable[..., Loaded]]:
    """Register the loader that reads dataset ``name``'s bundled default files.

    The decorated function takes ``paths: dict[str, Path]`` (bundled file name to path)
    and the dataset options.
    """

    def deco(fn: Callable[..., Loaded]) -> Callable[..., Loaded]:
        spec = _REGISTRY[name]
        _REGISTRY[name] = DatasetSpec(**{**spec.__dict__, "bundled_loader": fn})
        return fn

    return deco


def _ensure_loaded() -> None:
    # Importing the loader modules fills the registry.
    from riskmoe.data import loaders  # noqa: F401


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``.

    Raises
    ------
    DatasetNotFoundError
        If no dataset has that name (the message lists the known ones).
    """
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise DatasetNotFoundError(f"unknown dataset {name!r}; known datasets: {known}.") from None


@dataclass(frozen=True)
class DatasetInfo:
    """One line of :func:`list_datasets`."""

    name: str
    kind: DatasetKind
    description: str
    folder: str
    documented_rows: int | None
    license: str
    source: str
    options: Mapping[str, tuple[Any, ...]]
    has_bundled_default: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "folder": self.folder,
            "documented_rows": self.documented_rows,
            "license": self.license,
            "source": self.source,
            "options": {k: list(v) for k, v in self.options.items()},
            "has_bundled_default": self.has_bundled_default,
        }


def list_datasets() -> list[DatasetInfo]:
    """Every registered dataset, by name."""
    _ensure_loaded()
    return [
        DatasetInfo(
            name=s.name,
            kind=s.kind,
            description=s.description,
            folder=s.files[0].folder if s.files else "",
            documented_rows=s.documented_rows,
            license=s.license,
            source=s.source,
            options=s.options,
            has_bundled_default=s.bundled_loader is not None,
        )
        for s in sorted(_REGISTRY.values(), key=lambda s: s.name)
    ]


def _check_options(spec: DatasetSpec, options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(spec.options)
    if unknown:
        allowed = ", ".join(sorted(spec.options)) or "none"
        raise DataError(
            f"dataset {spec.name!r} has no option(s) {sorted(unknown)}; allowed: {allowed}."
        )
    resolved = {k: v[0] for k, v in spec.options.items()}
    for key, value in options.items():
        if value not in spec.options[key]:
            raise DataError(
                f"dataset {spec.name!r}: option {key}={value!r} is not allowed; "
                f"choose one of {list(spec.options[key])}."
            )
        resolved[key] = value
    return resolved


def _positive_rate(frame: pd.DataFrame, target: str | None) -> float | None:
    if target is None:
        return None
    y = frame[target].dropna()
    return float(y.mean()) if len(y) else None


def _validate(spec: DatasetSpec, loaded: Loaded) -> None:
    frame = loaded.frame
    missing: list[str] = []
    if loaded.target is not None and loaded.target not in frame.columns:
        missing.append(loaded.target)
    for cols in loaded.feature_groups.values():
        missing.extend(c for c in cols if c not in frame.columns)
    if missing:
        raise SchemaError(f"dataset {spec.name!r}: loader refers to missing columns {missing}.")
    if loaded.target is not None:
        values = set(pd.unique(frame[loaded.target].dropna()))
        if not values <= {0, 1}:
            raise SchemaError(
                f"dataset {spec.name!r}: target {loaded.target!r} must be 0/1; "
                f"got {sorted(values)[:5]}."
            )


def load_dataset(
    name: str,
    *,
    settings: Settings | None = None,
    path: str | Path | None = None,
    **options: Any,
) -> Dataset:
    """Load a registered dataset.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    settings : Settings, optional
        Where to search; defaults to ``Settings()`` (environment variables).
    path : str or Path, optional
        An explicit file, the dataset's folder, or a ``shared/data``-like root; searched
        before everything else.
    **options
        Dataset options (for example ``year=5`` for ``polish_bankruptcy``).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetNotFoundError
        Unknown name, or no source for its files.
    DataError
        Unknown or disallowed option.
    DataFormatError
        A file that cannot be parsed.
    """
    spec = get_spec(name)
    opts = _check_options(spec, options)
    settings = settings if settings is not None else Settings()
    locator = SourceLocator(dataset=name, settings=settings, explicit=Path(path) if path else None)
    try:
        loaded = spec.loader(locator, **opts)
        origin = locator.origin
        files = {k: str(v) for k, v in locator.paths.items()}
    except DatasetNotFoundError:
        if spec.bundled_loader is None or path is not None:
            raise
        paths = {f: bundled_path(f) for f in spec.bundled_files}
        loaded = spec.bundled_loader(paths, **opts)
        origin = "bundled"
        files = {k: str(v) for k, v in paths.items()}
    _validate(spec, loaded)
    frame = loaded.frame.reset_index(drop=True)
    meta = DatasetMeta(
        source=spec.source,
        citation=spec.citation,
        license=spec.license,
        n_rows=len(frame),
        n_columns=frame.shape[1],
        positive_rate=_positive_rate(frame, loaded.target),
        origin=origin,
        files=files,
        options=opts,
        documented_rows=spec.documented_rows,
        notes=loaded.notes,
    )
    return Dataset(
        name=name,
        frame=frame,
        target=loaded.target,
        feature_groups={k: tuple(v) for k, v in loaded.feature_groups.items()},
        meta=meta,
    )
