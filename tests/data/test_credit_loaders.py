"""The credit loaders against the real files in ``shared/data``.

Expected numbers are the "Verified" sections of each folder's README.md; where this
suite found the README to be wrong (the Australian ``NA`` cells) the test says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.data._dataset import Dataset
from riskmoe.data._registry import get_spec, load_dataset
from riskmoe.exceptions import DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# name, options, README verified rows, README positives, README positive rate (4 d.p.)
EXPECTED = [
    # README: class 1 = approved (307 rows); the target is rejection, 383 rows.
    ("australian_credit", {}, 690, 383, 0.5551),
    ("taiwan_credit_card", {}, 30_000, 6_636, 0.2212),
    ("give_me_some_credit", {}, 150_000, 10_026, 0.0668),
    ("polish_bankruptcy", {}, 7_027, 271, 0.0386),
    ("polish_bankruptcy", {"year": 5}, 5_910, 410, 0.0694),
    ("lending_club", {}, 42_535, 6_431, 0.1512),
]
IDS = [f"{name}{opts or ''}" for name, opts, *_ in EXPECTED]

# Columns that are neither target nor feature, per dataset.
NON_FEATURES = {
    "taiwan_credit_card": {"ID"},
    "lending_club": {"issue_d", "meets_credit_policy", "emp_title", "title", "desc"},
}

# README "Data-quality notes — important", Leakage; entries ending in "*" are prefixes.
LC_LEAKAGE = (
    "total_pymnt",
    "total_pymnt_inv",
    "total_rec_prncp",
    "total_rec_int",
    "total_rec_late_fee",
    "recoveries",
    "collection_recovery_fee",
    "last_pymnt_d",
    "last_pymnt_amnt",
    "last_credit_pull_d",
    "out_prncp*",
    "debt_settlement_flag*",
    "settlement_*",
)

GMSC_PAST_DUE = (
    "NumberOfTime30-59DaysPastDueNotWorse",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfTimes90DaysLate",
)

Loader = Callable[..., Dataset]


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Loader:
    """Load a dataset from ``shared/data`` once per module (offline, cached by options)."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent; the real-data tests need it.")
    settings = Settings(
        offline=True, data_dir=SHARED, home=tmp_path_factory.mktemp("riskmoe_home")
    )
    cache: dict[tuple[str, tuple[tuple[str, Any], ...]], Dataset] = {}

    def _load(name: str, **options: Any) -> Dataset:
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = load_dataset(name, settings=settings, **options)
        return cache[key]

    return _load


@pytest.mark.parametrize(("name", "options", "rows", "positives", "rate"), EXPECTED, ids=IDS)
def test_rows_and_positive_rate_match_readme(
    load: Loader, name: str, options: dict[str, Any], rows: int, positives: int, rate: float
) -> None:
    ds = load(name, **options)
    y = ds.frame[ds.target]
    assert len(ds.frame) == rows
    assert int(y.sum()) == positives
    assert round(ds.meta.positive_rate, 4) == rate
    assert ds.meta.origin == "data_dir"


@pytest.mark.parametrize(("name", "options"), [e[:2] for e in EXPECTED], ids=IDS)
def test_target_is_int8_zero_one(load: Loader, name: str, options: dict[str, Any]) -> None:
    ds = load(name, **options)
    y = ds.frame[ds.target]
    assert y.dtype == "int8"
    assert set(y.unique()) <= {0, 1}


@pytest.mark.parametrize(("name", "options"), [e[:2] for e in EXPECTED], ids=IDS)
def test_every_feature_in_exactly_one_group(
    load: Loader, name: str, options: dict[str, Any]
) -> None:
    ds = load(name, **options)
    counts = Counter(c for cols in ds.feature_groups.values() for c in cols)
    assert all(cols for cols in ds.feature_groups.values())
    assert max(counts.values()) == 1
    expected_features = set(ds.frame.columns) - {ds.target} - NON_FEATURES.get(name, set())
    assert set(counts) == expected_features
    assert ds.target not in counts


@pytest.mark.parametrize(("name", "options"), [e[:2] for e in EXPECTED], ids=IDS)
def test_features_are_numeric_or_category(
    load: Loader, name: str, options: dict[str, Any]
) -> None:
    ds = load(name, **options)
    frame = ds.frame
    odd = [
        c
        for c in ds.features
        if not pd.api.types.is_numeric_dtype(frame[c])
        and not isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    assert odd == []


@pytest.mark.parametrize("name", ["australian_credit", "taiwan_credit_card", "lending_club"])
def test_documented_rows_registered(load: Loader, name: str) -> None:
    ds = load(name)
    assert ds.meta.documented_rows == len(ds.frame)


def test_australian_target_is_rejection_and_readme_na_cells_are_missing(load: Loader) -> None:
    ds = load("australian_credit")
    frame = ds.frame
    assert ds.target == "rejected"
    # Raw class 1 = approved: 307 rows (README), so 690 - 307 are rejected.
    assert int((frame["rejected"] == 0).sum()) == 307
    assert isinstance(frame["A5"].dtype, pd.CategoricalDtype)
    # The shared copy has "NA" in 6 cells although its README says there are none.
    assert int(frame.isna().sum().sum()) == 6
    assert any("'NA'" in n for n in ds.meta.notes)


def test_taiwan_undocumented_codes_decoded(load: Loader) -> None:
    frame = load("taiwan_credit_card").frame
    # README: EDUCATION 0/5/6 in 345 rows and MARRIAGE 0 in 54 rows are undocumented.
    assert int((frame["EDUCATION"] == "unknown").sum()) == 345
    assert int((frame["MARRIAGE"] == "unknown").sum()) == 54
    assert set(frame["SEX"].cat.categories) == {"male", "female"}
    assert "PAY_0" not in frame.columns and "default.payment.next.month" not in frame.columns
    # PAY_0 (September) has -2: 2,759, -1: 5,686, 0: 14,737 rows; the rest are late.
    status = frame["PAY_STATUS_1"].value_counts()
    assert status["no balance"] == 2_759
    assert status["paid duly"] == 5_686
    assert status["revolving"] == 14_737
    late = frame["PAY_MONTHS_LATE_1"]
    assert late.min() == 0
    assert ((late > 0) == (frame["PAY_STATUS_1"] == "late")).all()


def test_taiwan_id_is_not_a_feature(load: Loader) -> None:
    ds = load("taiwan_credit_card")
    assert "ID" in ds.frame.columns
    assert "ID" not in ds.features


def test_gmsc_sentinels_gone_and_duplicates_reported(load: Loader) -> None:
    ds = load("give_me_some_credit")
    frame = ds.frame
    for col in GMSC_PAST_DUE:
        assert not frame[col].isin([96, 98]).any()
        assert frame[col].max() < 96
        assert int(frame[col].isna().sum()) == 269  # README: 269 rows carry the codes
    assert not any(c.startswith("Unnamed") or c == "" for c in frame.columns)
    assert int(frame.duplicated().sum()) == 609  # kept, as the README documents them
    assert any("609 rows repeat" in n for n in ds.meta.notes)


def test_polish_ratios_renamed_and_grouped(load: Loader) -> None:
    ds = load("polish_bankruptcy")
    frame = ds.frame
    assert not any(c.startswith("Attr") for c in frame.columns)
    assert set(ds.feature_groups) == {"profitability", "liquidity", "leverage", "activity", "size"}
    assert len(ds.features) == 64
    assert "net_profit_to_total_assets" in ds.feature_groups["profitability"]
    assert "log_total_assets" in ds.feature_groups["size"]
    # README: 5,835 missing cells ("?") in 1year.arff.
    assert int(frame[ds.features].isna().sum().sum()) == 5_835


def test_polish_bad_year_raises(load: Loader) -> None:
    with pytest.raises(DataError, match=r"option year=3 is not allowed"):
        load("polish_bankruptcy", year=3)


def test_unknown_option_raises() -> None:
    with pytest.raises(DataError, match=r"has no option\(s\) \['year'\]"):
        load_dataset("lending_club", settings=Settings(offline=True), year=1)


def test_polish_registered_options() -> None:
    spec = get_spec("polish_bankruptcy")
    assert dict(spec.options) == {"year": (1, 5)}
    assert spec.documented_rows == 7_027


def test_lending_club_leakage_columns_absent(load: Loader) -> None:
    columns = load("lending_club").frame.columns
    for entry in LC_LEAKAGE:
        if entry.endswith("*"):
            assert not [c for c in columns if c.startswith(entry[:-1])], entry
        else:
            assert entry not in columns
    assert "loan_status" not in columns


def test_lending_club_no_empty_or_constant_columns(load: Loader) -> None:
    frame = load("lending_club").frame
    distinct = frame.nunique(dropna=True)
    assert distinct.min() >= 2
    assert not {"id", "member_id", "url", "policy_code", "pymnt_plan"} & set(frame.columns)


def test_lending_club_parsed_fields(load: Loader) -> None:
    frame = load("lending_club").frame
    assert set(frame["term_months"].unique()) == {36, 60}
    assert frame["int_rate"].between(0, 1).all()
    assert frame["revol_util"].dropna().between(0, 1.5).all()
    assert frame["emp_length_years"].dropna().between(0, 10).all()
    assert int(frame["emp_length_years"].isna().sum()) == 1_112  # "n/a"
    assert pd.api.types.is_datetime64_any_dtype(frame["issue_d"])
    history = frame["credit_history_months"]
    assert int(history.isna().sum()) == 29 and history.min() > 0
    assert isinstance(frame["grade"].dtype, pd.CategoricalDtype)


def test_lending_club_policy_conforming_rate(load: Loader) -> None:
    frame = load("lending_club").frame
    conforming = frame[frame["meets_credit_policy"] == 1]
    # README: 14.25 % among the 39,786 policy-conforming loans.
    assert len(conforming) == 39_786
    assert round(float(conforming["charged_off"].mean()), 4) == 0.1425
