"""RecordEncoder: records encoded without a DataFrame, bit for bit as the frame path."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.exceptions import NotFittedError, SchemaError
from riskmoe.features import MISSING_INDEX, UNSEEN_INDEX, EncodedFrame, TabularEncoder
from riskmoe.features.records import RecordEncoder


def assert_identical(fast: EncodedFrame, frame_path: EncodedFrame) -> None:
    for name, a, b in zip(EncodedFrame._fields, fast, frame_path, strict=True):
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        # bit for bit (NaN never survives encoding; +-inf compare equal to themselves)
        assert a.tobytes() == b.tobytes(), name


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, list[dict]]:
    """The UCI German credit rows, and the same rows as the API receives them (JSON)."""
    home = tmp_path_factory.mktemp("records") / "home"
    X, _ = load_dataset("german_credit", settings=Settings(home=home, offline=True)).X_y()
    records = json.loads(json.dumps(X.astype(object).to_dict(orient="records")))
    return X, records


def test_german_credit_rows_encode_as_the_frame_does(german):
    X, records = german
    encoder = TabularEncoder().fit(X.iloc[:700])
    fast = RecordEncoder(encoder)
    assert fast.encode_plain(records) is not None  # JSON values take the numpy path
    assert_identical(fast.encode(records), encoder.transform(fast.frame(records)))
    assert_identical(fast.encode(records), encoder.transform(X))
    for rec in records[:100]:
        assert_identical(fast.encode([rec]), encoder.transform(fast.frame([rec])))


def test_extra_fields_are_ignored_and_order_does_not_matter(german):
    X, records = german
    encoder = TabularEncoder().fit(X)
    rec = dict(reversed(list(records[3].items())), note="ignored")
    assert_identical(RecordEncoder(encoder).encode([rec]), encoder.transform(X.iloc[[3]]))


@pytest.fixture(scope="module")
def small() -> TabularEncoder:
    return TabularEncoder(n_bins=4).fit(
        pd.DataFrame(
            {
                "amount": [100.0, np.nan, 300.0, 200.0, 250.0],
                "count": [0, 1, 2, 1, 0],
                "city": ["x", "y", "x", None, "z"],
            }
        )
    )


NUMERIC_VALUES = [
    None,
    math.nan,
    math.inf,
    -math.inf,
    3,
    2.5,
    -0.0,
    2**52 + 1,
    2**60,  # beyond float64's exact integers: the frame path decides
    10**30,
    True,
    False,
    "6",
    "1e3",
    " 7 ",
    np.float32(0.1),
    np.int64(4),
]
CATEGORY_VALUES = ["x", "z", "unseen", "", None, math.nan, 1, 1.5, True, "None"]


@pytest.mark.parametrize("amount", NUMERIC_VALUES, ids=repr)
def test_numeric_edge_cases_match_the_frame_path(small, amount):
    fast = RecordEncoder(small)
    records = [{"amount": amount, "count": 1, "city": "x"}]
    assert_identical(fast.encode(records), small.transform(fast.frame(records)))
    # the same value among others in a batch (the column's inferred dtype changes)
    batch = [*records, {"amount": 5, "count": None, "city": None}]
    assert_identical(fast.encode(batch), small.transform(fast.frame(batch)))


@pytest.mark.parametrize("city", CATEGORY_VALUES, ids=repr)
def test_category_edge_cases_match_the_frame_path(small, city):
    fast = RecordEncoder(small)
    records = [{"amount": 1.0, "count": 1, "city": city}]
    assert_identical(fast.encode(records), small.transform(fast.frame(records)))
    batch = [
        *records,
        {"amount": 2.0, "count": 2, "city": "y"},
        {"amount": 3, "count": 0, "city": 2},
    ]
    assert_identical(fast.encode(batch), small.transform(fast.frame(batch)))


def test_every_combination_in_one_batch_matches_the_frame_path(small):
    fast = RecordEncoder(small)
    plain_numbers = [v for v in NUMERIC_VALUES if v is None or type(v) in (int, float)]
    plain_numbers = [v for v in plain_numbers if not (type(v) is int and abs(v) >= 2**53)]
    plain_text = ["x", "z", "unseen", "", None, math.nan, "None"]
    batch = [
        {"amount": a, "count": c, "city": t}
        for a in plain_numbers
        for c in (0, 7, None)
        for t in plain_text
    ]
    assert fast.encode_plain(batch) is not None
    assert_identical(fast.encode(batch), small.transform(fast.frame(batch)))


def test_missing_unseen_and_fill_values(small):
    out = RecordEncoder(small).encode(
        [
            {"amount": None, "count": math.nan, "city": "nowhere"},
            {"amount": 1, "count": 2, "city": None},
        ]
    )
    assert out.numeric[0].tolist() == [
        225.0,
        1.0,
    ]  # medians of 100, 200, 250, 300 and 0, 1, 2, 1, 0
    assert out.missing.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert out.categorical[:, 0].tolist() == [UNSEEN_INDEX, MISSING_INDEX]


def test_text_in_a_numeric_field_gets_the_frame_paths_error(small):
    fast = RecordEncoder(small)
    records = [
        {"amount": "lots", "count": 1, "city": "x"},
        {"amount": "x", "count": 1, "city": "x"},
    ]
    with pytest.raises(SchemaError) as frame_error:
        small.transform(fast.frame(records))
    with pytest.raises(SchemaError, match="column 'amount' was numeric at fit time") as fast_error:
        fast.encode(records)
    assert str(fast_error.value) == str(frame_error.value)
    assert "'lots'" in str(fast_error.value)


def test_a_missing_field_is_named(small):
    with pytest.raises(SchemaError, match=r"lack 2 field\(s\).*\['amount', 'city'\]"):
        RecordEncoder(small).encode([{"count": 1}, {"count": 2, "amount": 1.0}])


def test_an_unfitted_encoder_is_refused():
    with pytest.raises(NotFittedError, match="not fitted"):
        RecordEncoder(TabularEncoder())
