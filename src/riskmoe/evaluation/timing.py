"""Serving cost of a fitted classifier: batch throughput and single-row latency.

Both measure ``predict_proba`` wall-clock time with :func:`time.perf_counter` on rows
drawn from a frame the model has not been trained on, after one warm-up call (first
calls pay for lazy initialisation: thread pools, JIT, memory). Timings depend on the
machine and on what else runs on it; they are reported, never asserted.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError

__all__ = ["predict_rows_per_second", "single_row_latency_ms"]


def _rows(X: Any, n: int, random_state: int | None) -> np.ndarray:
    """``n`` row positions of ``X``, drawn with replacement only when ``X`` is shorter."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X must be a pandas DataFrame; got {type(X).__name__}.")
    if len(X) == 0:
        raise DataError("X has no rows to time predictions on.")
    rng = np.random.default_rng(random_state)
    return rng.choice(len(X), size=n, replace=len(X) < n)


def predict_rows_per_second(
    model: Any, X: pd.DataFrame, *, n_rows: int = 10_000, random_state: int | None = 0
) -> float:
    """Rows scored per second by one ``predict_proba`` call on a batch of ``n_rows`` rows.

    When ``X`` has fewer than ``n_rows`` rows the batch is resampled from it with
    replacement, so every model is timed on the same batch size.

    Raises
    ------
    ValueError
        If ``n_rows < 1``.
    DataError
        If ``X`` is not a DataFrame or is empty.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 1:
        raise ValueError(f"n_rows must be an integer >= 1; got {n_rows!r}.")
    rows = _rows(X, int(n_rows), random_state)
    batch = X.iloc[rows]
    model.predict_proba(batch.iloc[:10])  # warm-up
    start = time.perf_counter()
    model.predict_proba(batch)
    elapsed = time.perf_counter() - start
    return float(n_rows / max(elapsed, 1e-9))


def single_row_latency_ms(
    model: Any, X: pd.DataFrame, *, n_calls: int = 200, random_state: int | None = 0
) -> float:
    """Median milliseconds of ``n_calls`` one-row ``predict_proba`` calls.

    Each call scores a one-row DataFrame, as a serving endpoint does; the rows are cut
    before timing starts so only the model is timed. The median ignores the odd call a
    busy machine delays.

    Raises
    ------
    ValueError
        If ``n_calls < 1``.
    DataError
        If ``X`` is not a DataFrame or is empty.
    """
    if isinstance(n_calls, bool) or not isinstance(n_calls, int | np.integer) or n_calls < 1:
        raise ValueError(f"n_calls must be an integer >= 1; got {n_calls!r}.")
    singles = [X.iloc[[i]] for i in _rows(X, int(n_calls), random_state)]
    model.predict_proba(singles[0])  # warm-up
    times = np.empty(len(singles))
    for k, row in enumerate(singles):
        start = time.perf_counter()
        model.predict_proba(row)
        times[k] = time.perf_counter() - start
    return float(np.median(times) * 1000.0)
