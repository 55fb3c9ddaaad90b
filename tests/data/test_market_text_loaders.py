"""Market, macro, lookup and text loaders against the real files in ``../shared/data``.

Every expected number below is a verified count from the folder's README
(``shared/data/<folder>/README.md``), not from a previous run of the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.data import Dataset, get_spec, load_dataset
from riskmoe.data._sources import sha256_of
from riskmoe.data.loaders.market import (
    FRED_MD_GROUPS,
    baostock_to_exchange_code,
    fred_md_transformations,
)
from riskmoe.exceptions import DataError, SchemaError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")

DATASETS = [
    "sp500_stocks",
    "sp500_constituents",
    "fred_md",
    "shibor",
    "csi300",
    "sse50",
    "cn_csi300_stocks",
    "financial_phrasebank",
    "cn_fin_news",
    "cn_risk_events",
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("riskmoe_home")
    return Settings(offline=True, data_dir=SHARED, home=home)


@pytest.fixture(scope="module")
def load(settings: Settings) -> Callable[..., Dataset]:
    """``load(name, **options)``, each combination read once per module."""

    @cache
    def _load(name: str, items: tuple[tuple[str, Any], ...]) -> Dataset:
        return load_dataset(name, settings=settings, **dict(items))

    return lambda name, **options: _load(name, tuple(sorted(options.items())))


def _is_sorted_unique(frame: pd.DataFrame, keys: list[str]) -> bool:
    return not frame.duplicated(keys).any() and frame[keys].equals(
        frame.sort_values(keys)[keys].reset_index(drop=True)
    )


# ---------------------------------------------------------------------------------------
# Registry entries
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_registered_checksums_match_the_files(name: str) -> None:
    for source in get_spec(name).files:
        if source.sha256 is not None:
            assert sha256_of(SHARED / source.folder / source.name) == source.sha256, source.name


@pytest.mark.parametrize("name", DATASETS)
def test_default_load_has_the_documented_rows(load: Callable[..., Dataset], name: str) -> None:
    ds = load(name)
    assert ds.meta.n_rows == get_spec(name).documented_rows
    assert ds.meta.origin == "data_dir"


@pytest.mark.parametrize(
    ("name", "options", "rows"),
    [
        # financial_phrasebank/README.md, "Verified" table
        ("financial_phrasebank", {"agreement": "66"}, 4_217),
        ("financial_phrasebank", {"agreement": "75"}, 3_453),
        ("financial_phrasebank", {"agreement": "all"}, 2_264),
        # cn_financial_text_cfleb/README.md: 4,000 + 500 rows, one embedded header row
        ("cn_fin_news", {"task": "finnsp"}, 3_999 + 500),
    ],
)
def test_option_row_counts(
    load: Callable[..., Dataset], name: str, options: dict[str, str], rows: int
) -> None:
    assert len(load(name, **options).frame) == rows


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("financial_phrasebank", {"agreement": "90"}, r"agreement='90' is not allowed"),
        ("cn_fin_news", {"task": "finsa"}, r"task='finsa' is not allowed"),
        ("sp500_stocks", {"adjusted": True}, r"has no option\(s\) \['adjusted'\]"),
    ],
)
def test_bad_option_raises(
    settings: Settings, name: str, options: dict[str, Any], match: str
) -> None:
    with pytest.raises(DataError, match=match):
        load_dataset(name, settings=settings, **options)


# ---------------------------------------------------------------------------------------
# Market, macro and lookup
# ---------------------------------------------------------------------------------------


def test_sp500_stocks(load: Callable[..., Dataset]) -> None:
    f = load("sp500_stocks").frame
    assert list(f.columns) == ["date", "ticker", "open", "high", "low", "close", "volume"]
    assert pd.api.types.is_datetime64_any_dtype(f["date"])
    assert pd.api.types.is_string_dtype(f["ticker"])
    assert f["ticker"].nunique() == 505
    assert _is_sorted_unique(f, ["ticker", "date"])
    assert (f["date"].min(), f["date"].max()) == (
        pd.Timestamp("2013-02-08"),
        pd.Timestamp("2018-02-07"),
    )
    # README: missing open 11, high 8, low 8 -- kept as NaN, not filled
    assert f[["open", "high", "low", "close"]].isna().sum().tolist() == [11, 8, 8, 0]


def test_sp500_constituents_cover_every_price_ticker(load: Callable[..., Dataset]) -> None:
    c = load("sp500_constituents").frame
    tickers = set(load("sp500_stocks").frame["ticker"])
    assert set(c["ticker"]) == tickers
    assert c["ticker"].is_unique and c["ticker"].is_monotonic_increasing
    assert c["sector"].notna().all() and c["name"].notna().all()
    assert isinstance(c["sector"].dtype, pd.CategoricalDtype)
    assert c["sector"].nunique() == 11  # README: 11 GICS sectors of 2018
    assert "Telecommunications Services" not in set(c["sector"])
    # README: 498 from the 2018 list, the 7 renamed / deleted ones from 2017
    assert c["sector_source"].value_counts().to_dict() == {"2018-04-02": 498, "2017-03-08": 7}
    fallback = set(c.loc[c["sector_source"] == "2017-03-08", "ticker"])
    assert fallback == {"CBG", "HCN", "PCLN", "CHK", "PDCO", "SIG", "SNI"}
    # README: the 2026 list matches 355 tickers; CIK padded to SEC's 10 digits
    assert c["name_2026"].notna().sum() == 355
    assert c["cik"].dropna().str.fullmatch(r"\d{10}").all()
    assert pd.api.types.is_datetime64_any_dtype(c["date_added_2026"])


def test_fred_md(load: Callable[..., Dataset], settings: Settings) -> None:
    ds = load("fred_md")
    f = ds.frame
    assert f.shape == (787, 127)  # README: 787 months x (date + 126 series)
    assert pd.api.types.is_datetime64_any_dtype(f["date"])
    assert (f["date"].min(), f["date"].max()) == (
        pd.Timestamp("1959-01-01"),
        pd.Timestamp("2024-07-01"),
    )
    assert _is_sorted_unique(f, ["date"])
    series = [c for c in f.columns if c != "date"]
    assert all(pd.api.types.is_float_dtype(f[c]) for c in series)
    assert f["ACOGNO"].isna().sum() == 398  # README missing-value example

    codes = fred_md_transformations(settings)
    assert list(codes) == series
    assert set(codes.values()) <= set(range(1, 8))
    # README: 5 -> 52 series, 6 -> 33, 2 -> 19, 1 -> 11, 4 -> 10, 7 -> 1
    assert pd.Series(codes).value_counts().to_dict() == {5: 52, 6: 33, 2: 19, 1: 11, 4: 10, 7: 1}
    assert [n for n in ds.meta.notes if n.startswith("tcode ")] == [
        f"tcode {k}={v}" for k, v in codes.items()
    ]

    grouped = [c for cols in ds.feature_groups.values() for c in cols]
    assert sorted(grouped) == sorted(series)  # every series in exactly one group
    assert list(ds.feature_groups) == list(FRED_MD_GROUPS)  # the 8 groups, no "other"


@pytest.mark.parametrize(
    ("name", "first", "last", "columns"),
    [  # cn_market/README.md table; SSE 50's open, close, low, high reordered to OHLC
        ("shibor", "2006-10-08", "2018-07-13", ["1D", "1W", "2W", "1M", "3M", "6M", "9M", "1Y"]),
        ("csi300", "2010-01-05", "2021-12-01", ["code", "open", "high", "low", "close"]),
        ("sse50", "2005-01-04", "2021-08-13", ["open", "high", "low", "close", "volume"]),
    ],
)
def test_cn_market_series(
    load: Callable[..., Dataset], name: str, first: str, last: str, columns: list[str]
) -> None:
    f = load(name).frame
    assert list(f.columns[: len(columns) + 1]) == ["date", *columns]
    assert pd.api.types.is_datetime64_any_dtype(f["date"])
    assert f["date"].is_monotonic_increasing and f["date"].is_unique
    assert (f["date"].iloc[0], f["date"].iloc[-1]) == (pd.Timestamp(first), pd.Timestamp(last))
    numeric = f.drop(columns=["date", "code"], errors="ignore")
    assert all(pd.api.types.is_float_dtype(numeric[c]) for c in numeric.columns)
    assert not numeric.isna().any().any()
    if "high" in f:
        assert (f["high"] >= f["low"]).all()


def test_csi300_code_is_text(load: Callable[..., Dataset]) -> None:
    code = load("csi300").frame["code"]
    assert pd.api.types.is_string_dtype(code) and set(code) == {"000300"}


def test_shibor_tenors_in_percent(load: Callable[..., Dataset]) -> None:
    f = load("shibor").frame
    assert f.shape[1] == 9
    assert f["1Y"].between(1, 10).all()  # README: % p.a., not fractions


def test_cn_csi300_stocks(load: Callable[..., Dataset]) -> None:
    f = load("cn_csi300_stocks").frame
    assert pd.api.types.is_datetime64_any_dtype(f["date"])
    assert pd.api.types.is_string_dtype(f["code"])
    assert f["code"].str.fullmatch(r"\d{6}\.(SH|SZ)").all()
    assert f["code"].nunique() == 300
    # README: 191 SH, 109 SZ
    assert f.drop_duplicates("code")["code"].str[-2:].value_counts().to_dict() == {
        "SH": 191,
        "SZ": 109,
    }
    assert (f["code"].str[:6] == f["baostock_code"].str[3:]).all()
    assert _is_sorted_unique(f, ["code", "date"])
    assert f.loc[f["code"] == "600519.SH", "baostock_code"].iloc[0] == "sh.600519"
    assert pd.api.types.is_integer_dtype(f["isST"]) and set(f["isST"]) == {0, 1}
    assert int(f["isST"].sum()) == 1_036  # README
    assert set(f.loc[f["isST"] == 1, "code"]) == {"600515.SH", "000408.SZ", "000792.SZ"}
    price_cols = ["open", "high", "low", "close", "preclose", "amount", "peTTM", "pbMRQ"]
    assert all(pd.api.types.is_float_dtype(f[c]) for c in price_cols)
    assert pd.api.types.is_integer_dtype(f["volume"])
    assert int(f["volume"].isna().sum()) == 221  # README: suspended rows with null volume


def test_baostock_code_conversion_refuses_other_forms() -> None:
    out = baostock_to_exchange_code(pd.Series(["sh.600519", "sz.000001"]))
    assert out.tolist() == ["600519.SH", "000001.SZ"]
    with pytest.raises(SchemaError, match=r"must look like 'sh\.600519'.*600519\.SH"):
        baostock_to_exchange_code(pd.Series(["sh.600519", "600519.SH"]))


# ---------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------

# financial_phrasebank/README.md "Verified" table: positive, neutral, negative
FPB_COUNTS = {
    "50": (1_363, 2_879, 604),
    "66": (1_168, 2_535, 514),
    "75": (887, 2_146, 420),
    "all": (570, 1_391, 303),
}


@pytest.mark.parametrize("agreement", list(FPB_COUNTS))
def test_financial_phrasebank_labels(load: Callable[..., Dataset], agreement: str) -> None:
    ds = load("financial_phrasebank", agreement=agreement)
    f = ds.frame
    assert ds.target is None
    assert isinstance(f["label"].dtype, pd.CategoricalDtype)
    assert set(f["label"].cat.categories) == {"positive", "neutral", "negative"}
    counts = f["label"].value_counts()
    assert (counts["positive"], counts["neutral"], counts["negative"]) == FPB_COUNTS[agreement]
    assert not f["sentence"].str.contains("@neutral|@positive|@negative").any()


def test_financial_phrasebank_duplicates_flagged_not_dropped(
    load: Callable[..., Dataset],
) -> None:
    f = load("financial_phrasebank").frame
    # README: 50Agree has 8 duplicated sentences, 2 of them with conflicting labels
    assert int(f["is_duplicate"].sum()) == 8
    assert f.loc[f["label_conflict"], "sentence"].nunique() == 2


def test_cn_fin_news_finfe(load: Callable[..., Dataset]) -> None:
    ds = load("cn_fin_news")
    f = ds.frame
    assert ds.target is None
    assert f["split"].value_counts().to_dict() == {"train": 16_157, "eval": 2_020}
    assert set(f["label"].cat.categories) == {"negative", "neutral", "positive"}
    # README: 0 negative, 1 neutral, 2 positive; train 7,324 / 4,690 / 4,143
    train = f[f["split"] == "train"]
    assert train["label"].value_counts().to_dict() == {
        "positive": 7_324,
        "negative": 4_690,
        "neutral": 4_143,
    }
    assert (f["label_code"].map({0: "negative", 1: "neutral", 2: "positive"}) == f["label"]).all()
    # README: 4,511 duplicated train texts, 773 with conflicting labels, 1,097 eval in train
    assert int(train["is_duplicate"].sum()) == 4_511
    assert train.loc[train["label_conflict"], "text"].nunique() == 773
    assert int(f["in_train"].sum()) == 1_097


def test_cn_fin_news_finnsp(load: Callable[..., Dataset]) -> None:
    ds = load("cn_fin_news", task="finnsp")
    f = ds.frame
    assert ds.target == "negative"
    assert set(f["negative"]) == {0, 1}
    assert not f["id"].str.contains("id").any()  # the embedded header row is gone
    # README: train 2,220 of 3,999 negative; eval 259 of 500
    by_split = f.groupby("split", observed=True)["negative"].agg(["sum", "size"])
    assert by_split.loc["train"].tolist() == [2_220, 3_999]
    assert by_split.loc["eval"].tolist() == [259, 500]


def test_cn_risk_events(load: Callable[..., Dataset]) -> None:
    ds = load("cn_risk_events")
    f = ds.frame
    assert ds.target == "is_risk_event"
    assert list(f.columns[:6]) == ["id", "text", "event_type", "entity", "split", "is_risk_event"]
    assert f["split"].value_counts().to_dict() == {"train": 14_252, "eval": 1_781}
    assert pd.api.types.is_string_dtype(f["id"])
    assert (f["is_risk_event"] == (f["event_type"] != "其他").astype(int)).all()
    assert (f["entity"].isna() == (f["event_type"] == "其他")).all()
    assert f.groupby("split", observed=True)["event_type"].nunique().to_dict() == {
        "train": 22,
        "eval": 21,
    }
    # README: risk-event share train 82.5 %, eval 82.2 %
    share = f.groupby("split", observed=True)["is_risk_event"].mean().round(3)
    assert share.to_dict() == {"train": 0.825, "eval": 0.822}
    # README: 167 train / 2 eval exact duplicate rows; 244 eval texts also in train
    dups = f.groupby("split", observed=True)["is_duplicate"].sum().to_dict()
    assert dups == {"train": 167, "eval": 2}
    assert int(f["in_train"].sum()) == 244


# ---------------------------------------------------------------------------------------
# Malformed copies get specific errors
# ---------------------------------------------------------------------------------------


def test_fred_md_without_transform_row_is_refused(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "current.csv"
    bad.write_text("sasdate,RPI,INDPRO\n1/1/1959,2583.56,21.9616\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"'Transform:' row is missing"):
        fred_md_transformations(settings, path=bad)
    with pytest.raises(SchemaError, match=r"must be the 'Transform:' row"):
        load_dataset("fred_md", settings=settings, path=bad)


def test_fred_md_transform_code_out_of_range_is_refused(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "current.csv"
    bad.write_text("sasdate,RPI,INDPRO\nTransform:,5,9\n1/1/1959,2583.56,21.9616\n")
    with pytest.raises(SchemaError, match=r"integers 1\.\.7; got \{'INDPRO': '9\.0'\}"):
        load_dataset("fred_md", settings=settings, path=bad)


def test_phrasebank_line_without_label_is_refused(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Sentences_50Agree.txt").write_bytes(
        b"Profit rose .@positive\r\nSales fell , no label here\r\n"
    )
    with pytest.raises(DataError, match=r"line 2: expected 'sentence@label'"):
        load_dataset("financial_phrasebank", settings=settings, path=tmp_path)


def test_truncated_json_is_refused(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "train_list.json").write_text('[["1", "text", "其他", "NaN"], ["2", "te')
    (tmp_path / "eval_list.json").write_text("[]")
    with pytest.raises(DataError, match=r"train_list\.json: not valid JSON"):
        load_dataset("cn_risk_events", settings=settings, path=tmp_path)
