"""The DuckDB store: versions, idempotence, atomicity, schema checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.data.store import Store, content_sha256
from riskmoe.exceptions import SchemaError, StoreError


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "store.duckdb") as s:
        yield s


def _frame(n: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "loan_id": np.arange(n),
            "pd": rng.uniform(0, 1, n),
            "grade": pd.Categorical(rng.choice(["A", "B"], n)),
            "name": [f"c{i}" for i in range(n)],
        }
    )


def test_ingest_creates_versions_and_round_trips(store):
    v1 = store.ingest("loans", _frame(seed=0))
    v2 = store.ingest("loans", _frame(seed=1))
    assert (v1.version, v2.version) == (1, 2)
    assert [v.version for v in store.versions("loans")] == [1, 2]
    back = store.table("loans", version=1)
    expected = _frame(seed=0)
    pd.testing.assert_frame_equal(
        back[["loan_id", "pd"]], expected[["loan_id", "pd"]], check_dtype=False
    )
    assert list(back["grade"].astype(str)) == list(expected["grade"].astype(str))
    latest = store.query("SELECT count(*) AS n FROM loans")
    assert int(latest["n"].iloc[0]) == 5
    assert store.latest("loans").sha256 == content_sha256(_frame(seed=1))


def test_same_content_is_idempotent(store):
    first = store.ingest("loans", _frame())
    again = store.ingest("loans", _frame().copy())
    assert again.version == first.version
    assert again.created is False
    assert len(store.versions("loans")) == 1


def test_content_hash_ignores_index_but_sees_values_and_dtypes():
    f = _frame()
    assert content_sha256(f) == content_sha256(f.set_axis(range(10, 15)))
    g = f.copy()
    g.loc[2, "pd"] = 0.123456
    assert content_sha256(f) != content_sha256(g)
    assert content_sha256(f) != content_sha256(f.astype({"loan_id": "float64"}))


def test_failure_mid_ingest_leaves_store_unchanged(store, monkeypatch):
    store.ingest("loans", _frame(seed=0))
    before_versions = store.versions()
    before_tables = set(
        store.query("SELECT table_name FROM information_schema.tables")["table_name"]
    )

    def fail(record):
        raise RuntimeError("disk full while recording the version")

    # the data table is created inside the transaction; the failure strikes after it
    monkeypatch.setattr(store, "_record_version", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        store.ingest("loans", _frame(seed=1))
    after_tables = set(
        store.query("SELECT table_name FROM information_schema.tables")["table_name"]
    )
    assert store.versions() == before_versions
    assert after_tables == before_tables
    pd.testing.assert_frame_equal(store.table("loans"), store.table("loans", version=1))
    assert store.latest("loans").sha256 == content_sha256(_frame(seed=0))


def test_failure_survives_reopen(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.ingest("loans", _frame(seed=0))
        monkeypatch.setattr(s, "_record_version", lambda r: (_ for _ in ()).throw(OSError("x")))
        with pytest.raises(OSError, match="x"):
            s.ingest("loans", _frame(seed=1))
    with Store(path, read_only=True) as s:
        assert [v.version for v in s.versions("loans")] == [1]
        assert len(s.table("loans")) == 5


@pytest.mark.parametrize(
    ("name", "frame", "match"),
    [
        ("Bad-Name", _frame(), "table name 'Bad-Name' is not allowed"),
        ("riskmoe_versions", _frame(), "reserved"),
        ("t", pd.DataFrame(index=range(3)), "has no columns"),
        ("t", pd.DataFrame([[1, 2]], columns=["a", "a"]), r"duplicated column names \['a'\]"),
        ("t", pd.DataFrame([[1, 2]], columns=["a", "A"]), "differ only by case"),
        ("t", pd.DataFrame({"a": pd.Series([1, "x"], dtype=object)}), "mixes value types"),
    ],
)
def test_bad_frames_are_refused(store, name, frame, match):
    with pytest.raises(SchemaError, match=match):
        store.ingest(name, frame)
    assert store.versions() == []


def test_missing_table_and_version_messages(store):
    store.ingest("loans", _frame())
    with pytest.raises(StoreError, match="no table 'nope' in the store; stored tables: loans"):
        store.table("nope")
    with pytest.raises(StoreError, match=r"has no version 7; versions: \[1\]"):
        store.table("loans", version=7)
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELECT * FROM no_such_table")


def test_ingest_many_is_all_or_nothing(store, monkeypatch):
    store.ingest("history", _frame(seed=0))
    calls = []
    original = store._record_version

    def fail_on_second(record):
        calls.append(record.name)
        if len(calls) == 2:
            raise RuntimeError("crash between the two tables")
        original(record)

    monkeypatch.setattr(store, "_record_version", fail_on_second)
    with pytest.raises(RuntimeError, match="crash between"):
        store.ingest_many({"history": _frame(seed=1), "changes": _frame(seed=2)})
    assert calls == ["history", "changes"]  # the first table was written, then undone
    assert [v.version for v in store.versions("history")] == [1]
    assert store.versions("changes") == []
    monkeypatch.undo()
    out = store.ingest_many({"history": _frame(seed=1), "changes": _frame(seed=2)})
    assert (out["history"].version, out["changes"].version) == (2, 1)


def test_ingest_many_validates_every_frame_before_writing(store):
    with pytest.raises(SchemaError, match="has no columns"):
        store.ingest_many({"good": _frame(), "bad": pd.DataFrame(index=range(2))})
    assert store.versions() == []


# -- log tables ------------------------------------------------------------------------
def _events(ids: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "event_id": ids,
            "pd": rng.uniform(0, 1, len(ids)),
            "n": np.arange(len(ids), dtype="int64"),
            "at": pd.date_range("2024-01-01", periods=len(ids), freq="h"),
            "ok": [True] * len(ids),
        }
    )


def test_append_skips_replayed_keys_and_keeps_types(store):
    assert store.append("scores", _events(["a", "b"]), key="event_id") == 2
    assert store.append("scores", _events(["b", "c"], seed=1), key="event_id") == 1
    got = store.table("scores").sort_values("event_id")
    assert got["event_id"].tolist() == ["a", "b", "c"]
    # "b" keeps its first value: a replay never overwrites
    assert got["pd"].iloc[1] == pytest.approx(_events(["a", "b"])["pd"].iloc[1])
    assert pd.api.types.is_datetime64_any_dtype(got["at"])
    assert got["ok"].dtype == bool
    assert store.log_names() == ["scores"] and store.names() == []


def test_append_many_is_all_or_nothing(store, monkeypatch):
    store.append("scores", _events(["a"]), key="event_id")
    calls = []
    original = store._insert_log_rows

    def fail_on_second(name, frame, keys):
        calls.append(name)
        if len(calls) == 2:
            raise RuntimeError("crash between the two tables")
        return original(name, frame, keys)

    monkeypatch.setattr(store, "_insert_log_rows", fail_on_second)
    with pytest.raises(RuntimeError, match="crash between"):
        store.append_many(
            {"scores": (_events(["b"]), "event_id"), "alerts": (_events(["x"]), "event_id")}
        )
    assert store.table("scores")["event_id"].tolist() == ["a"]
    assert store.log_names() == ["scores"]  # the new table was rolled back with its rows
    monkeypatch.undo()
    added = store.append_many(
        {"scores": (_events(["b"]), "event_id"), "alerts": (_events(["x"]), "event_id")}
    )
    assert added == {"scores": 1, "alerts": 1}


@pytest.mark.parametrize(
    ("frame", "key", "match"),
    [
        (_events(["a", "a"]), "event_id", "repeats a key"),
        (_events(["a"]), "id", "key columns"),
        (_events(["a"]).assign(event_id=[None]), "event_id", "missing values"),
    ],
)
def test_append_refuses_bad_batches(store, frame, key, match):
    with pytest.raises(SchemaError, match=match):
        store.append("scores", frame, key=key)
    assert store.log_names() == []


def test_log_and_versioned_tables_do_not_mix(store):
    store.append("scores", _events(["a"]), key="event_id")
    with pytest.raises(SchemaError, match="columns"):
        store.append("scores", _events(["b"]).drop(columns="ok"), key="event_id")
    with pytest.raises(SchemaError, match="keyed by"):
        store.append("scores", _events(["b"]), key=("event_id", "n"))
    with pytest.raises(SchemaError, match="log table"):
        store.ingest("scores", _frame())
    store.ingest("history", _frame())
    with pytest.raises(SchemaError, match="versioned table"):
        store.append("history", _events(["a"]), key="event_id")
