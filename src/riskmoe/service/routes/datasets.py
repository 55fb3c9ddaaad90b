"""``/v1/datasets``: what can be loaded, what is stored, and ingesting more."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from riskmoe.data import list_datasets
from riskmoe.exceptions import DatasetNotFoundError
from riskmoe.service.deps import Admin, State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES, ApiError
from riskmoe.service.schemas import DatasetOut, IngestRequest, IngestResponse
from riskmoe.workflow.ingest import ingest as ingest_job

router = APIRouter(prefix="/v1", tags=["datasets"], responses=ERROR_RESPONSES)

_SUFFIXES = (".csv", ".parquet", ".xlsx", ".arff", ".json")


@router.get("/datasets", response_model=list[DatasetOut], summary="Datasets")
def datasets(state: State, key: Viewer) -> list[DatasetOut]:
    """Registered datasets and how many versions of each the store holds."""
    infos = list_datasets()
    counts = state.with_store(lambda s: {i.name: len(s.versions(i.name)) for i in infos})
    return [
        DatasetOut(
            name=i.name,
            kind=str(i.kind),
            description=i.description,
            license=i.license,
            stored_versions=counts[i.name],
        )
        for i in infos
    ]


def upload_path(home: Path, relative: str) -> Path:
    """The file ``relative`` inside ``home/uploads``, refusing anything outside it.

    Raises
    ------
    ApiError
        422 for absolute paths, ``..``, other suffixes or a path resolving outside.
    """
    root = (home / "uploads").resolve()
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or "\x00" in relative or relative.startswith("~"):
        raise ApiError(
            422,
            "invalid_input",
            f"path {relative!r} must be relative to the upload folder, without '..'.",
            details=[
                {
                    "field": "body.path",
                    "problem": "outside the upload folder",
                    "allowed": "a relative path inside RISKMOE_HOME/uploads",
                }
            ],
        )
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise ApiError(422, "invalid_input", f"path {relative!r} leaves the upload folder.")
    if target.suffix.lower() not in _SUFFIXES:
        raise ApiError(
            422,
            "invalid_input",
            f"path {relative!r}: suffix {target.suffix!r} not accepted; "
            f"use {', '.join(_SUFFIXES)}.",
        )
    if not target.is_file():
        raise ApiError(404, "not_found", f"no file {relative!r} in the upload folder.")
    return target


@router.post("/datasets/ingest", response_model=IngestResponse, summary="Ingest a dataset")
def ingest(body: IngestRequest, state: State, key: Admin) -> IngestResponse:
    """Ingest a registered dataset by name, or a file from the upload folder, as a new
    version (identical content creates none)."""
    if (body.dataset is None) == (body.path is None):
        raise ApiError(
            422,
            "invalid_input",
            "give exactly one of 'dataset' (a registered name) or 'path' (an uploaded file).",
            details=[
                {
                    "field": "body",
                    "problem": "dataset and path both or neither given",
                    "allowed": "exactly one",
                }
            ],
        )
    if body.dataset is not None:
        names = [i.name for i in list_datasets()]
        if body.dataset not in names:
            raise DatasetNotFoundError(
                f"unknown dataset {body.dataset!r}; registered: {', '.join(names)}."
            )
        source = body.dataset
    else:
        assert body.path is not None
        source = str(upload_path(state.settings.home, body.path))
    with state.store():
        version = ingest_job(source, state.settings, name=body.name, target=body.target)
    d = version.to_dict()
    return IngestResponse(**{k: d[k] for k in IngestResponse.model_fields})
