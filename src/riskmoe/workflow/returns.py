"""Return series for the market-risk jobs, named the way a user types them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.readers import read_table
from riskmoe.exceptions import DataError, SchemaError

__all__ = ["RETURN_SOURCES", "load_returns"]

RETURN_SOURCES = (
    "sp500 (S&P 500 index, arch.data, 1999-2018)",
    "sp500:TICKER (an S&P 500 stock, 2013-2018)",
    "csi300 (CSI 300 index, 2010-2021)",
    "cn:CODE (a CSI 300 constituent, e.g. cn:600519.SH, 2020-2025)",
    "PATH (a CSV/Parquet/XLSX file; --column names the returns column)",
)


def _simple_returns(prices: pd.Series) -> pd.Series:
    return prices.astype(float).pct_change().dropna()


def _from_file(path: Path, column: str | None) -> pd.Series:
    frame = read_table(path)
    date_cols = [c for c in frame.columns if str(c).lower() in ("date", "time", "day")]
    if date_cols:
        frame = frame.set_index(pd.to_datetime(frame[date_cols[0]])).drop(columns=date_cols[0])
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if column is None:
        if len(numeric) != 1:
            raise SchemaError(
                f"{path}: pass --column to choose the returns column; numeric columns: {numeric}."
            )
        column = str(numeric[0])
    if column not in frame.columns:
        raise SchemaError(f"{path}: no column {column!r}; columns: {list(frame.columns)}.")
    if column not in numeric:
        raise SchemaError(f"{path}: column {column!r} is not numeric.")
    return frame[column].rename(column)


def load_returns(source: str, settings: Settings, *, column: str | None = None) -> pd.Series:
    """Daily simple returns for ``source`` (see :data:`RETURN_SOURCES`), indexed by date.

    Raises
    ------
    DataError
        For a source in none of the known forms, or an unknown ticker or code.
    """
    key = source.strip()
    low = key.lower()
    if low == "sp500":
        import arch.data.sp500

        return _simple_returns(arch.data.sp500.load()["Adj Close"]).rename("sp500")
    if low == "csi300":
        frame = load_dataset("csi300", settings=settings).frame
        return _simple_returns(frame.set_index("date")["close"]).rename("csi300")
    if low.startswith("sp500:"):
        ticker = key.split(":", 1)[1].upper()
        frame = load_dataset("sp500_stocks", settings=settings).frame
        rows = frame[frame["ticker"] == ticker]
        if rows.empty:
            raise DataError(f"no S&P 500 ticker {ticker!r} in sp500_stocks (2013-2018 panel).")
        return _simple_returns(rows.set_index("date")["close"]).rename(ticker)
    if low.startswith("cn:"):
        code = key.split(":", 1)[1].upper()
        frame = load_dataset("cn_csi300_stocks", settings=settings).frame
        rows = frame[frame["code"] == code]
        if rows.empty:
            raise DataError(f"no CSI 300 constituent {code!r} in cn_csi300_stocks.")
        # prices there are unadjusted; pctChg is the exchange's adjusted daily change in %
        return (rows.set_index("date")["pctChg"].astype(float) / 100.0).dropna().rename(code)
    path = Path(key)
    if path.suffix or path.exists():
        return _from_file(path, column)
    raise DataError(f"unknown returns source {source!r}; use one of: " + "; ".join(RETURN_SOURCES))
