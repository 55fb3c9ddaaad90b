"""TabularEncoder: typing, imputation, missing flags, quantile edges, vocabularies, JSON state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmoe.exceptions import NotFittedError, SchemaError
from riskmoe.features import MISSING_INDEX, UNSEEN_INDEX, TabularEncoder


def raw_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [100.0, np.nan, 300.0, 200.0, np.inf],
            "count": [0, 1, 2, 1, 0],
            "flag": [True, False, True, True, False],
            "grade": pd.Categorical(["A", "B", None, "A", "C"]),
            "city": pd.Series(["x", "y", "x", None, "x"], dtype="string"),
            "numeric_text": pd.Series(["1.5", "2", None, "4", "5"], dtype=object),
        }
    )


def test_column_kinds_and_state():
    enc = TabularEncoder(n_bins=4).fit(raw_frame())
    assert [c.name for c in enc.numeric_] == ["amount", "count", "flag", "numeric_text"]
    assert [c.name for c in enc.categorical_] == ["grade", "city"]
    assert enc.feature_names == ("amount", "count", "flag", "numeric_text", "grade", "city")
    amount = enc.numeric_[0]
    assert amount.fill_value == 200.0  # median of the finite values; inf ignored
    # quantiles of the finite values at 0, .25, .5, .75, 1
    assert amount.edges == (100.0, 150.0, 200.0, 250.0, 300.0)
    assert enc.numeric_[1].edges == (0.0, 1.0, 2.0)  # tied quantiles collapse
    grade = enc.categorical_[0]
    assert grade.categories == ("A", "B", "C")
    assert grade.mode == "A"
    assert enc.cardinalities == (5, 4)


def test_transform_imputes_flags_and_indexes():
    enc = TabularEncoder(n_bins=4).fit(raw_frame())
    new = pd.DataFrame(
        {
            "amount": [np.nan, 50.0],
            "count": [3, 1],
            "flag": [False, True],
            "grade": pd.Categorical(["Z", None]),
            "city": pd.Series(["y", "nowhere"], dtype="string"),
            "numeric_text": [7.0, None],
        }
    )
    out = enc.transform(new)
    np.testing.assert_array_equal(out.numeric[:, 0], [200.0, 50.0])
    np.testing.assert_array_equal(out.missing[:, 0], [1.0, 0.0])
    np.testing.assert_array_equal(out.missing[:, 3], [0.0, 1.0])
    np.testing.assert_array_equal(out.categorical[:, 0], [UNSEEN_INDEX, MISSING_INDEX])
    assert out.categorical[0, 1] == 2 + 1  # "y" is the second of ("x", "y")
    assert out.categorical[1, 1] == UNSEEN_INDEX
    assert out.numeric.dtype == np.float32 and out.categorical.dtype == np.int64


def test_infinity_is_kept_for_the_embedding_to_clip():
    enc = TabularEncoder(n_bins=4).fit(raw_frame())
    assert np.isposinf(enc.transform(raw_frame()).numeric[4, 0])


def test_baseline_is_medians_and_modes():
    enc = TabularEncoder(n_bins=4).fit(raw_frame())
    base = enc.baseline()
    np.testing.assert_array_equal(base.numeric, [[200.0, 1.0, 1.0, 3.0]])
    np.testing.assert_array_equal(base.missing, [[0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(base.categorical, [[2, 2]])  # "A" and "x"


def test_json_round_trip():
    enc = TabularEncoder(n_bins=4).fit(raw_frame())
    again = TabularEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    a, b = enc.transform(raw_frame()), again.transform(raw_frame())
    for x, z in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, z)


def test_columns_are_checked_by_name():
    enc = TabularEncoder().fit(raw_frame())
    with pytest.raises(SchemaError, match=r"missing columns seen at fit time: 'city'"):
        enc.transform(raw_frame().drop(columns="city"))
    with pytest.raises(SchemaError, match=r"columns not seen at fit time: 'new'"):
        enc.transform(raw_frame().assign(new=1))


def test_text_in_a_numeric_column():
    enc = TabularEncoder().fit(raw_frame())
    bad = raw_frame().astype({"amount": object})
    bad.loc[2, "amount"] = "n/a"
    with pytest.raises(SchemaError, match=r"column 'amount' was numeric at fit time.*'n/a'"):
        enc.transform(bad)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pd.Series(pd.date_range("2020", periods=5)), r"column 'bad' has dtype datetime64"),
        (pd.Series(np.ones(5) + 1j), r"Complex data not supported"),
    ],
)
def test_unsupported_dtypes(column, message):
    with pytest.raises(SchemaError, match=message):
        TabularEncoder().fit(raw_frame().assign(bad=column))


def test_empty_and_unfitted():
    with pytest.raises(ValueError, match=r"empty frame \(shape=\(0, 6\)\)"):
        TabularEncoder().fit(raw_frame().iloc[:0])
    with pytest.raises(ValueError, match=r"n_bins must be >= 1; got n_bins=0"):
        TabularEncoder(n_bins=0).fit(raw_frame())
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TabularEncoder().transform(raw_frame())


def test_constant_and_all_missing_columns():
    frame = pd.DataFrame({"c": [3.0, 3.0, 3.0], "m": [np.nan, np.nan, np.nan]})
    enc = TabularEncoder().fit(frame)
    assert enc.numeric_[0].edges == (2.5, 3.5)
    assert enc.numeric_[1].edges == (-0.5, 0.5) and enc.numeric_[1].fill_value == 0.0
    np.testing.assert_array_equal(enc.transform(frame).missing[:, 1], [1.0, 1.0, 1.0])


def test_min_frequency_keeps_rare_categories_out_of_the_vocabulary():
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 2 + [None]})
    enc = TabularEncoder(min_frequency=3).fit(frame)
    assert enc.categorical_[0].categories == ("a",)
    out = enc.transform(pd.DataFrame({"c": ["a", "b", "zzz", None]}))
    # a rare training category encodes like an unseen one; missing stays missing
    assert out.categorical[:, 0].tolist() == [2, UNSEEN_INDEX, UNSEEN_INDEX, MISSING_INDEX]
    again = TabularEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert again.min_frequency == 3 and again.categorical_ == enc.categorical_
    # a state written before min_frequency existed loads with every category kept
    legacy = {k: v for k, v in enc.to_dict().items() if k != "min_frequency"}
    assert TabularEncoder.from_dict(legacy).min_frequency == 1
    with pytest.raises(ValueError, match=r"min_frequency must be >= 1; got min_frequency=0\."):
        TabularEncoder(min_frequency=0).fit(frame)
