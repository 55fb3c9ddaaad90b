"""The DuckDB store: versioned tables, ingested in one transaction.

Every ingested table is kept as an immutable version (``<name>__v<version>``), the view
``<name>`` points at the latest, and each version is recorded in the ``riskmoe_versions``
table with its row count, columns and a content hash. Ingesting the same content again
creates no new version. An ingest either completes (data table, view and version row
together) or leaves the store exactly as it was.

Records that arrive one at a time (stream scores, alerts, audit entries) go to *log
tables* instead: :meth:`Store.append` adds rows to ``<name>`` keyed by a primary key, so
a replayed record is skipped rather than doubled; :meth:`Store.append_many` commits rows
to several log tables in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from riskmoe.exceptions import SchemaError, StoreError

__all__ = ["Store", "TableVersion", "content_sha256", "check_frame"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_VERSIONS = "riskmoe_versions"
_LOGS = "riskmoe_logs"
_DUCKDB_TYPES = {"b": "BOOLEAN", "i": "BIGINT", "u": "BIGINT", "f": "DOUBLE", "M": "TIMESTAMP"}


@dataclass(frozen=True)
class TableVersion:
    """One version of a stored table."""

    name: str
    version: int
    rows: int
    columns: tuple[str, ...]
    sha256: str
    created_at: datetime
    created: bool  # False when an identical version already existed

    @property
    def table_name(self) -> str:
        """The physical DuckDB table holding this version."""
        return f"{self.name}__v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "rows": self.rows,
            "columns": list(self.columns),
            "sha256": self.sha256,
            "created_at": self.created_at.isoformat(),
            "created": self.created,
        }


def content_sha256(frame: pd.DataFrame) -> str:
    """A hash of a frame's content: column names, dtypes and every value, in order.

    The index is ignored; two frames with the same columns, dtypes and rows hash alike.
    """
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    if len(frame):
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        h.update(np.ascontiguousarray(row_hashes).tobytes())
    return h.hexdigest()


def check_frame(name: str, frame: pd.DataFrame) -> None:
    """Check that a frame can be stored.

    Raises
    ------
    SchemaError
        For a bad table name, no columns, duplicated, empty or non-string column
        names, or an object column holding mixed Python types.
    """
    if not _NAME.match(name):
        raise SchemaError(
            f"table name {name!r} is not allowed; use lower-case letters, digits and "
            "underscores, starting with a letter (at most 63 characters)."
        )
    if name in (_VERSIONS, _LOGS) or "__v" in name:
        raise SchemaError(f"table name {name!r} is reserved by the store.")
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame for {name!r}; got {type(frame).__name__}.")
    if frame.shape[1] == 0:
        raise SchemaError(f"table {name!r} has no columns.")
    cols = [str(c) for c in frame.columns]
    if any(not isinstance(c, str) or not c.strip() for c in frame.columns):
        raise SchemaError(
            f"table {name!r}: every column name must be a non-empty string; got {cols}."
        )
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise SchemaError(f"table {name!r}: duplicated column names {dup}.")
    lowered = [c.lower() for c in cols]
    dup_ci = sorted({c for c in cols if lowered.count(c.lower()) > 1})
    if dup_ci:
        raise SchemaError(
            f"table {name!r}: column names {dup_ci} differ only by case, "
            "which DuckDB treats as equal."
        )
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_object_dtype(s.dtype):
            kinds = {type(v).__name__ for v in s.dropna().head(10_000)}
            if len(kinds) > 1:
                raise SchemaError(
                    f"table {name!r}: column {col!r} mixes value types {sorted(kinds)}; "
                    "convert it to one type first."
                )


class Store:
    """A DuckDB file holding versioned tables.

    Parameters
    ----------
    path : str or Path
        The DuckDB file (created with its folder if missing); ``":memory:"`` for a
        throw-away store.
    read_only : bool
        Open without write access (several readers may share the file).

    Examples
    --------
    >>> import pandas as pd
    >>> with Store(":memory:") as store:
    ...     v1 = store.ingest("loans", pd.DataFrame({"pd": [0.01, 0.2]}))
    ...     v2 = store.ingest("loans", pd.DataFrame({"pd": [0.01, 0.2]}))
    ...     (v1.version, v2.version, v2.created)
    (1, 1, False)
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        if not read_only:
            self._con.execute(
                f"""CREATE TABLE IF NOT EXISTS {_VERSIONS} (
                    name VARCHAR NOT NULL,
                    version INTEGER NOT NULL,
                    rows BIGINT NOT NULL,
                    columns VARCHAR NOT NULL,
                    sha256 VARCHAR NOT NULL,
                    created_at TIMESTAMP NOT NULL,
                    PRIMARY KEY (name, version)
                )"""
            )
            self._con.execute(
                f"""CREATE TABLE IF NOT EXISTS {_LOGS} (
                    name VARCHAR PRIMARY KEY,
                    key_columns VARCHAR NOT NULL,
                    created_at TIMESTAMP NOT NULL
                )"""
            )

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------
    def ingest(self, name: str, frame: pd.DataFrame) -> TableVersion:
        """Store ``frame`` as a new version of table ``name`` in one transaction.

        Returns the existing latest version unchanged (``created=False``) if its content
        hash equals this frame's.

        Raises
        ------
        SchemaError
            If the frame cannot be stored (see :func:`check_frame`).
        StoreError
            If DuckDB refuses the write; nothing is written.
        """
        return self.ingest_many({name: frame})[name]

    def ingest_many(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, TableVersion]:
        """Store several tables in ONE transaction: all new versions, or none.

        Each table follows :meth:`ingest`'s rules (unchanged content makes no version).

        Raises
        ------
        SchemaError
            If any frame cannot be stored; nothing is written.
        StoreError
            If DuckDB refuses a write; nothing is written.
        """
        if not frames:
            raise SchemaError("ingest_many needs at least one table.")
        plans: dict[str, TableVersion] = {}
        for name, frame in frames.items():
            check_frame(name, frame)
            if self._log_keys(name) is not None:
                raise SchemaError(f"{name!r} is a log table (see Store.append); not versioned.")
        created_at = datetime.now(UTC).replace(tzinfo=None)
        for name, frame in frames.items():
            sha = content_sha256(frame)
            latest = self.latest(name)
            if latest is not None and latest.sha256 == sha:
                plans[name] = TableVersion(**{**latest.__dict__, "created": False})
                continue
            version = 1 if latest is None else latest.version + 1
            plans[name] = TableVersion(
                name, version, len(frame), tuple(map(str, frame.columns)), sha, created_at, True
            )
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, record in plans.items():
                if record.created:
                    self._write(record, frames[name])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                names = ", ".join(frames)
                raise StoreError(f"ingest of {names} failed and was rolled back: {exc}") from exc
            raise
        return plans

    def append(self, name: str, frame: pd.DataFrame, key: str | tuple[str, ...]) -> int:
        """Add rows to the log table ``name``, skipping rows whose key is already there.

        The first append creates the table from the frame's columns, with ``key`` as its
        primary key; later appends must bring exactly those columns.

        Returns
        -------
        int
            The number of rows actually added (replayed keys add nothing).

        Raises
        ------
        SchemaError
            If the frame cannot be stored, lacks a key column, repeats a key within
            itself, or does not match the table's columns; nothing is written.
        StoreError
            If DuckDB refuses the write; nothing is written.

        Examples
        --------
        >>> import pandas as pd
        >>> with Store(":memory:") as store:
        ...     rows = pd.DataFrame({"event_id": ["a", "b"], "pd": [0.01, 0.2]})
        ...     first = store.append("scores", rows, key="event_id")
        ...     again = store.append("scores", rows, key="event_id")
        ...     (first, again, len(store.table("scores")))
        (2, 0, 2)
        """
        return self.append_many({name: (frame, key)})[name]

    def append_many(
        self, batches: Mapping[str, tuple[pd.DataFrame, str | tuple[str, ...]]]
    ) -> dict[str, int]:
        """:meth:`append` to several log tables in ONE transaction: all rows, or none.

        ``batches`` maps a table name to ``(frame, key)``. Returns the rows added per table.
        """
        if not batches:
            raise SchemaError("append_many needs at least one table.")
        plans: dict[str, tuple[pd.DataFrame, tuple[str, ...]]] = {}
        for name, (frame, key) in batches.items():
            plans[name] = (frame, self._check_log_frame(name, frame, key))
        con = self._con
        added: dict[str, int] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            for name, (frame, keys) in plans.items():
                added[name] = self._insert_log_rows(name, frame, keys)
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StoreError(
                    f"append to {', '.join(batches)} failed and was rolled back: {exc}"
                ) from exc
            raise
        return added

    def _check_log_frame(
        self, name: str, frame: pd.DataFrame, key: str | tuple[str, ...]
    ) -> tuple[str, ...]:
        check_frame(name, frame)
        keys = (key,) if isinstance(key, str) else tuple(key)
        missing = [k for k in keys if k not in frame.columns]
        if not keys or missing:
            raise SchemaError(f"log table {name!r}: key columns {missing or keys} not in frame.")
        if frame.duplicated(subset=list(keys)).any():
            raise SchemaError(f"log table {name!r}: the batch repeats a key {list(keys)}.")
        if frame[list(keys)].isna().any().any():
            raise SchemaError(f"log table {name!r}: key columns {list(keys)} hold missing values.")
        if self.latest(name) is not None:
            raise SchemaError(f"{name!r} is a versioned table; log tables need their own name.")
        known = self._log_keys(name)
        if known is not None:
            if known != keys:
                raise SchemaError(
                    f"log table {name!r} is keyed by {list(known)}, not {list(keys)}."
                )
            have = list(self._con.execute(f'SELECT * FROM "{name}" LIMIT 0').df().columns)
            if have != [str(c) for c in frame.columns]:
                raise SchemaError(
                    f"log table {name!r} has columns {have}; got {list(map(str, frame.columns))}."
                )
        return keys

    def _log_keys(self, name: str) -> tuple[str, ...] | None:
        try:
            sql = f"SELECT key_columns FROM {_LOGS} WHERE name = ?"
            rows = self._con.execute(sql, [name]).fetchall()
        except duckdb.CatalogException:  # a read-only store written before log tables
            return None
        return tuple(json.loads(rows[0][0])) if rows else None

    def _insert_log_rows(self, name: str, frame: pd.DataFrame, keys: tuple[str, ...]) -> int:
        con = self._con
        if self._log_keys(name) is None:
            columns = ", ".join(
                f'"{c}" {_DUCKDB_TYPES.get(frame[c].dtype.kind, "VARCHAR")}' for c in frame.columns
            )
            key_sql = ", ".join(f'"{k}"' for k in keys)
            con.execute(f'CREATE TABLE "{name}" ({columns}, PRIMARY KEY ({key_sql}))')
            con.execute(
                f"INSERT INTO {_LOGS} VALUES (?, ?, ?)",
                [name, json.dumps(list(keys)), datetime.now(UTC).replace(tzinfo=None)],
            )
        if frame.empty:
            return 0
        [(before,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
        con.register("_riskmoe_incoming", frame.reset_index(drop=True))
        try:
            con.execute(
                f'INSERT INTO "{name}" SELECT * FROM _riskmoe_incoming ON CONFLICT DO NOTHING'
            )
        finally:
            con.unregister("_riskmoe_incoming")
        [(after,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
        return int(after) - int(before)

    def log_names(self) -> list[str]:
        """Names of the log tables (see :meth:`append`)."""
        try:
            rows = self._con.execute(f"SELECT name FROM {_LOGS} ORDER BY name").fetchall()
        except duckdb.CatalogException:  # a read-only store written before log tables
            return []
        return [r[0] for r in rows]

    def _write(self, record: TableVersion, frame: pd.DataFrame) -> None:
        con = self._con
        con.register("_riskmoe_incoming", frame.reset_index(drop=True))
        try:
            con.execute(f'CREATE TABLE "{record.table_name}" AS SELECT * FROM _riskmoe_incoming')
            con.execute(
                f'CREATE OR REPLACE VIEW "{record.name}" AS SELECT * FROM "{record.table_name}"'
            )
            self._record_version(record)
        finally:
            con.unregister("_riskmoe_incoming")

    def _record_version(self, record: TableVersion) -> None:
        self._con.execute(
            f"INSERT INTO {_VERSIONS} VALUES (?, ?, ?, ?, ?, ?)",
            [
                record.name,
                record.version,
                record.rows,
                json.dumps(list(record.columns)),
                record.sha256,
                record.created_at,
            ],
        )

    # -- reading -----------------------------------------------------------------------
    def versions(self, name: str | None = None) -> list[TableVersion]:
        """Every version of ``name`` (or of every table), oldest first."""
        sql = f"SELECT * FROM {_VERSIONS}"
        params: list[Any] = []
        if name is not None:
            sql += " WHERE name = ?"
            params.append(name)
        rows = self._con.execute(sql + " ORDER BY name, version", params).fetchall()
        return [
            TableVersion(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], True) for r in rows
        ]

    def latest(self, name: str) -> TableVersion | None:
        """The newest version of ``name``, or None."""
        found = self.versions(name)
        return found[-1] if found else None

    def names(self) -> list[str]:
        """Names of the stored tables."""
        rows = self._con.execute(f"SELECT DISTINCT name FROM {_VERSIONS} ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def table(self, name: str, version: int | None = None) -> pd.DataFrame:
        """A stored table (the latest version unless ``version`` is given), or a log table.

        Raises
        ------
        StoreError
            If the table or version does not exist (the message lists what does).
        """
        found = self.versions(name)
        if not found and version is None and self._log_keys(name) is not None:
            return self._con.execute(f'SELECT * FROM "{name}"').df()
        if not found:
            known = ", ".join(self.names() + self.log_names()) or "none"
            raise StoreError(f"no table {name!r} in the store; stored tables: {known}.")
        if version is None:
            chosen = found[-1]
        else:
            matches = [v for v in found if v.version == version]
            if not matches:
                have = [v.version for v in found]
                raise StoreError(f"table {name!r} has no version {version}; versions: {have}.")
            chosen = matches[0]
        return self._con.execute(f'SELECT * FROM "{chosen.table_name}"').df()

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL and return the result as a frame.

        Each table's latest version is the view ``<name>``; an older one is the table
        ``<name>__v<version>``.

        Raises
        ------
        StoreError
            If DuckDB rejects the statement.
        """
        try:
            return self._con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}") from exc
