"""Readers and contracts: every bad file gets a specific error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmoe.data.contracts import (
    TableContract,
    check_not_empty,
    check_target,
    check_text_in_numeric,
)
from riskmoe.data.readers import read_table
from riskmoe.exceptions import DataFormatError, DatasetNotFoundError, SchemaError


def test_missing_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_wrong_format(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="not a readable Parquet file"):
        read_table(p)
    q = tmp_path / "x.xyz"
    q.write_text("hello")
    with pytest.raises(DataFormatError, match=r"unsupported file type \.xyz; supported: .csv"):
        read_table(q)


def test_truncated_parquet(tmp_path):
    p = tmp_path / "t.parquet"
    pd.DataFrame(
        {"a": np.arange(1000), "b": np.random.default_rng(0).normal(size=1000)}
    ).to_parquet(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="may be truncated"):
        read_table(p)


def test_truncated_csv(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,c\n1,2,3\n4,5")  # cut mid-row, no final newline
    with pytest.raises(DataFormatError, match="looks truncated"):
        read_table(p)


def test_csv_with_extra_fields(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataFormatError, match="not a readable CSV"):
        read_table(p)


def test_empty_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_bytes(b"")
    with pytest.raises(DataFormatError, match="is empty"):
        read_table(p)


def test_all_empty_column():
    f = pd.DataFrame({"a": [1, 2], "b": [np.nan, np.nan]})
    with pytest.raises(SchemaError, match=r"column\(s\) \['b'\] are entirely empty"):
        check_not_empty(f)
    with pytest.raises(SchemaError, match="has no rows"):
        check_not_empty(f.iloc[:0])


def test_text_in_numeric_column():
    values = [str(i) for i in range(100)] + ["abc"]
    f = pd.DataFrame({"income": values, "name": [f"n{i}" for i in range(101)]})
    with pytest.raises(
        SchemaError, match=r"column 'income' is numeric in 99\.0% of rows but has text .*'abc'"
    ):
        check_text_in_numeric(f)
    check_text_in_numeric(f[["name"]])  # genuinely textual: accepted


def test_target_checks():
    f = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 2]})
    with pytest.raises(SchemaError, match="target column 'bad' not found"):
        check_target(f, "bad")
    with pytest.raises(SchemaError, match="must be 0/1"):
        check_target(f, "y")
    with pytest.raises(SchemaError, match="single class"):
        check_target(f.assign(y=0), "y")


def test_table_contract():
    c = TableContract({"income": "numeric", "grade": "categorical"}, target="y")
    ok = pd.DataFrame({"income": [1.0, 2.0], "grade": ["A", "B"], "y": [0, 1]})
    c.validate(ok)
    with pytest.raises(SchemaError, match=r"missing required column\(s\) \['grade'\]"):
        c.validate(ok.drop(columns="grade"))
    with pytest.raises(SchemaError, match="column 'income' must be numeric; it is text"):
        c.validate(ok.assign(income=["a", "b"]))
