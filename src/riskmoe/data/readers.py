"""Reading tabular files with specific errors: CSV, Parquet, ARFF, XLSX/XLS, JSON.

Every reader raises :class:`~riskmoe.exceptions.DatasetNotFoundError` for a missing
file and :class:`~riskmoe.exceptions.DataFormatError` for anything it cannot parse
(wrong format, truncation, bad encoding), naming the file and what was expected.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from riskmoe.exceptions import DataFormatError, DatasetNotFoundError

__all__ = [
    "read_table",
    "read_csv",
    "read_parquet",
    "read_arff",
    "read_excel",
    "SUPPORTED_SUFFIXES",
]

SUPPORTED_SUFFIXES = (
    ".csv",
    ".txt",
    ".dat",
    ".data",
    ".parquet",
    ".arff",
    ".xlsx",
    ".xls",
    ".json",
)


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise DatasetNotFoundError(f"file not found: {p}.")
    if p.is_dir():
        raise DataFormatError(f"{p} is a folder; expected a file.")
    if p.stat().st_size == 0:
        raise DataFormatError(f"{p} is empty (0 bytes).")
    return p


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with specific errors.

    A row with more fields than the header, a file cut mid-quote, or undecodable bytes
    become :class:`DataFormatError`. A last line cut short (fewer fields than the
    header, no trailing newline) is the usual sign of a truncated copy and is refused
    too.
    """
    p = _existing(path)
    try:
        frame = pd.read_csv(p, **kwargs)
    except UnicodeDecodeError as exc:
        enc = kwargs.get("encoding", "utf-8")
        raise DataFormatError(
            f"{p}: cannot decode as {enc}: {exc.reason} at byte {exc.start}."
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataFormatError(f"{p}: not a readable CSV: {exc}".rstrip(".") + ".") from exc
    _check_truncated_text(p, frame, kwargs)
    return frame


def _check_truncated_text(p: Path, frame: pd.DataFrame, kwargs: dict[str, Any]) -> None:
    if kwargs.get("header", "infer") is None or len(frame) == 0 or frame.shape[1] < 2:
        return
    with open(p, "rb") as fh:
        fh.seek(max(0, p.stat().st_size - 1))
        ends_with_newline = fh.read(1) in (b"\n", b"\r")
    if not ends_with_newline and frame.iloc[-1].isna().iloc[-1] and frame.iloc[-1].notna().any():
        raise DataFormatError(
            f"{p}: the last line has fewer fields than the header and no line end; "
            "the file looks truncated."
        )


def read_parquet(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_parquet`` with specific errors (a truncated file has no footer)."""
    p = _existing(path)
    try:
        return pd.read_parquet(p, **kwargs)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise DataFormatError(
            f"{p}: not a readable Parquet file ({type(exc).__name__}: {exc}); "
            "it may be truncated or another format."
        ) from exc


def read_arff(path: str | Path) -> pd.DataFrame:
    """Read a Weka ARFF file (``scipy.io.arff``); nominal byte values decoded to str."""
    from scipy.io import arff

    p = _existing(path)
    try:
        data, _meta = arff.loadarff(str(p))
    except Exception as exc:  # scipy raises ParseArffError / ValueError / others
        raise DataFormatError(f"{p}: not a readable ARFF file: {exc}.") from exc
    frame = pd.DataFrame(data)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
    return frame


def read_excel(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_excel`` (openpyxl for .xlsx, xlrd for .xls) with specific errors."""
    p = _existing(path)
    try:
        return pd.read_excel(p, **kwargs)
    except Exception as exc:  # zipfile.BadZipFile, xlrd.XLRDError, ValueError ...
        raise DataFormatError(
            f"{p}: not a readable Excel workbook ({type(exc).__name__}: {exc})."
        ) from exc


def read_table(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read any supported tabular file, chosen by suffix.

    Raises
    ------
    DataFormatError
        For an unsupported suffix (the message lists the supported ones) or a file that
        does not parse.
    """
    p = _existing(path)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".dat", ".data"):
        return read_csv(p, **kwargs)
    if suffix == ".parquet":
        return read_parquet(p, **kwargs)
    if suffix == ".arff":
        return read_arff(p)
    if suffix in (".xlsx", ".xls"):
        return read_excel(p, **kwargs)
    if suffix == ".json":
        try:
            return pd.read_json(io.StringIO(p.read_text(encoding="utf-8")), **kwargs)
        except ValueError as exc:
            raise DataFormatError(f"{p}: not a readable JSON table: {exc}.") from exc
    raise DataFormatError(
        f"{p}: unsupported file type {suffix or '(none)'}; "
        f"supported: {', '.join(SUPPORTED_SUFFIXES)}."
    )
