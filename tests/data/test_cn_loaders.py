"""Chinese corporate loaders on the real shared data: counts against the folder READMEs,
code formats, sentinels, the distress label timeline (no leakage) and hand-computed ratios.

Reference numbers are quoted from ``shared/data/cn_listed_companies/README.md``,
``cn_financial_statements_finglm/README.md`` and ``cn_st_status/README.md``.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.data import get_spec, load_dataset
from riskmoe.data.loaders.cn_distress import FEATURE_GROUPS, LABEL_WINDOWS
from riskmoe.exceptions import DataError, DataFormatError

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
FINGLM = DATA / "cn_financial_statements_finglm"
ST_DIR = DATA / "cn_st_status"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA}")

CODE = r"^\d{6}\.(SH|SZ|BJ)$"


def _settings(data_dir: Path = DATA) -> Settings:
    return Settings(offline=True, data_dir=data_dir, use_shared_data=False)


@pytest.fixture(scope="module")
def listed():
    return load_dataset("cn_listed_companies", settings=_settings())


@pytest.fixture(scope="module")
def st_status():
    return load_dataset("cn_st_status", settings=_settings())


@pytest.fixture(scope="module")
def financials():
    return load_dataset("cn_financials", settings=_settings())


@pytest.fixture(scope="module")
def distress():
    return load_dataset("cn_distress", settings=_settings())


@pytest.fixture(scope="module")
def distress_keep():
    return load_dataset("cn_distress", settings=_settings(), late_reports="keep")


def _raw_rows(path: Path, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    """Rows of a FinGLM workbook read with openpyxl alone (independent of the loader)."""
    found: dict[tuple[str, int], dict] = {}
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb.active.iter_rows(values_only=True)
        header = next(rows)
        code_i, year_i = header.index("股票代码"), header.index("报告年份")
        for row in rows:
            key = (str(row[code_i]), int(row[year_i]))
            if key in wanted:
                found[key] = dict(zip(header, row, strict=True))
                if len(found) == len(wanted):
                    break
    finally:
        wb.close()
    assert set(found) == wanted
    return found


def _item(row: dict, name: str) -> float:
    value = float(row[name])
    return math.nan if value == -1.0 else value  # README: -1 = missing


# ---------------------------------------------------------------------------------------
# cn_listed_companies
# ---------------------------------------------------------------------------------------


def test_listed_companies_rows_and_codes(listed):
    frame = listed.frame
    assert len(frame) == get_spec("cn_listed_companies").documented_rows == 5724
    assert frame["code"].str.match(CODE).all()
    assert frame["code"].is_unique
    assert (frame["code"].str[-2:] == frame["exchange"]).all()
    assert listed.meta.origin == "data_dir"


def test_listed_companies_cover_every_source(listed):
    frame = listed.frame
    tushare = frame[frame["sources"].str.contains("tushare")]
    # README: 5,524 tushare rows = SH 2,315, SZ 2,892, BJ 317
    assert tushare.groupby("exchange").size().to_dict() == {"BJ": 317, "SH": 2315, "SZ": 2892}
    # README: 4,366 FinGLM companies, 56 of them filed under a B-share code; 37 of those
    # fold into their A-share rows, 19 B-only companies keep a 200xxx / 900xxx code
    assert frame["sources"].str.contains("finglm").sum() == 4366
    assert frame["code"].str[:2].isin(["20", "90"]).sum() == 56 - 37
    # README: 42 tushare rows are listed banks
    assert (tushare["industry"] == "银行").sum() == 42


def test_listed_companies_full_name_coverage_matches_readme(listed):
    tushare = listed.frame[listed.frame["sources"].str.contains("tushare")]
    named = tushare["full_name"].notna().groupby(tushare["exchange"]).sum().to_dict()
    # README: SZ 2,875 / 2,892, SH 1,874 / 2,315, BJ 0 (4,749 in all). Folding the 17 SH
    # companies that filed under a 900xxx B code adds their report names to the A rows.
    assert named == {"BJ": 0, "SH": 1874 + 17, "SZ": 2875}


def test_listed_companies_known_names(listed):
    frame = listed.frame.set_index("code")
    moutai = frame.loc["600519.SH"]
    assert moutai["short_name"] == "贵州茅台"
    assert moutai["full_name"] == "贵州茅台酒股份有限公司"
    assert moutai["english_name"] == "Kweichow Moutai Co.,Ltd."
    assert moutai["list_date"] == pd.Timestamp("2001-08-27")
    vanke = frame.loc["000002.SZ"]
    assert vanke["short_name"] == "万科A"  # SZSE "万  科Ａ", tushare "万科Ａ": NFKC, no padding
    assert vanke["b_share_code"] == "200002.SZ"  # FinGLM filed 万科 under its old B code
    assert not frame["short_name"].str.contains(r"\s").any()


# ---------------------------------------------------------------------------------------
# cn_financials
# ---------------------------------------------------------------------------------------


def test_financials_rows_keys_and_codes(financials):
    frame = financials.frame
    assert len(frame) == get_spec("cn_financials").documented_rows == 11587
    assert frame.groupby("fiscal_year").size().to_dict() == {2019: 3450, 2020: 3869, 2021: 4268}
    assert frame["code"].nunique() == 4366
    assert frame["code"].str.match(CODE).all()
    assert not frame.duplicated(["code", "fiscal_year"]).any()
    assert frame["report_date"].notna().all()


def test_financials_sentinels_gone(financials):
    values = financials.frame[financials.features]
    assert len(values.columns) == 43 + 25 + 4 + 3
    assert not (values == -1.0).any().any()
    # README coverage of key items after the -1 code is read as missing
    assert round(values["operating_revenue"].notna().mean() * 100, 1) == 95.3
    assert round(values["net_profit"].notna().mean() * 100, 1) == 96.2
    assert round(values["total_non_current_liabilities"].notna().mean() * 100, 1) == 94.1


def test_financials_match_readme_checks(financials):
    frame = financials.frame
    moutai = frame[(frame["code"] == "600519.SH") & (frame["fiscal_year"] == 2019)].iloc[0]
    # README spot check: 营业收入 85.43 bn, 净利润 43.97 bn, 流动资产合计 159.0 bn
    assert moutai["operating_revenue"] / 1e9 == pytest.approx(85.43, abs=0.005)
    assert moutai["net_profit"] / 1e9 == pytest.approx(43.97, abs=0.005)
    assert moutai["total_current_assets"] / 1e9 == pytest.approx(159.0, abs=0.05)
    assert moutai["report_date"] == pd.Timestamp("2020-04-22")
    assert (frame["total_equity"] < 0).sum() == 101  # README: negative book equity
    complete = ["operating_revenue", "net_profit", *financials.feature_groups["balance_sheet"][:4],
                "net_operating_cash_flow"]
    assert frame[complete].notna().all(axis=1).sum() == 10800  # README
    loss = (frame["net_profit"] < 0).groupby(frame["fiscal_year"]).mean().round(3).to_dict()
    assert loss == {2019: 0.126, 2020: 0.139, 2021: 0.152}


def test_financials_map_every_raw_item(financials):
    wb = openpyxl.load_workbook(FINGLM / "balance_static.xlsx", read_only=True)
    try:
        header = next(wb.active.iter_rows(values_only=True))
    finally:
        wb.close()
    assert set(header) - {"报告年份", "信息来源", "股票代码", "股票简称", "年份", "证券代码",
                          "证券简称"} == {"流动资产合计", "非流动资产合计", "流动负债合计",
                                        "非流动负债合计"}
    assert set(financials.feature_groups) == {"income_statement", "cash_flow", "balance_sheet"}


# ---------------------------------------------------------------------------------------
# cn_st_status
# ---------------------------------------------------------------------------------------


def test_st_status_rows_and_snapshots(st_status):
    frame = st_status.frame
    assert len(frame) == get_spec("cn_st_status").documented_rows == 17944
    per_day = frame.groupby(frame["as_of_date"].dt.strftime("%Y-%m-%d")).size().to_dict()
    assert per_day == {"2020-09-18": 4136, "2021-03-09": 4339, "2021-06-21": 4347,
                       "2023-03-06": 5122}
    listed_st = frame[frame["listed"] & frame["is_st"]]
    # README: listed ST stocks per snapshot 216 / 217 / 188 / 133
    assert listed_st.groupby("as_of_date").size().tolist() == [216, 217, 188, 133]
    assert frame["code"].str.match(CODE).all()
    assert not frame.duplicated(["as_of_date", "code"]).any()
    assert (frame["is_star_st"] <= frame["is_st"]).all()


def test_st_status_refuses_a_long_table_that_disagrees_with_the_snapshots(tmp_path):
    folder = tmp_path / "cn_st_status"
    shutil.copytree(ST_DIR, folder)
    folder.chmod(0o755)  # the shared copies are read-only
    long_path = folder / "st_status_snapshots_long.csv"
    long_path.chmod(0o644)
    text = long_path.read_text(encoding="utf-8")
    long_path.write_text(text.replace(",000002,SZ,万科A,0,", ",000002,SZ,*ST万科A,1,", 1),
                         encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"as of 2020-09-18, code 000002 differs"):
        load_dataset("cn_st_status", settings=_settings(tmp_path))


# ---------------------------------------------------------------------------------------
# cn_distress
# ---------------------------------------------------------------------------------------


def _counts(frame: pd.DataFrame) -> dict[int, tuple[int, int]]:
    g = frame.groupby("fiscal_year")["distress"]
    return {int(y): (int(n), int(p)) for (y, n), p in zip(g.size().items(), g.sum(), strict=True)}


ABSORBED = {"600068.SH": "葛洲坝", "600723.SH": "首商股份"}  # delisted by merger in 2021


def test_distress_keep_reproduces_the_readme_counts(distress_keep):
    readme = {w.fiscal_year: (w.readme_eligible, w.readme_positives) for w in LABEL_WINDOWS}
    assert readme == {2019: (3188, 51), 2020: (3646, 52)}
    # The README also counts the two absorbed FY2020 firms as positives; they are censored.
    assert _counts(distress_keep.frame) == {2019: (3188, 51), 2020: (3646 - 2, 52 - 2)}
    assert any("600068.SH FY2020, 600723.SH FY2020" in n for n in distress_keep.meta.notes)


def test_distress_absorbed_firms_are_censored_not_distressed(distress, st_status):
    st, frame = st_status.frame, distress.frame
    end = _status_at(st, pd.Timestamp(LABEL_WINDOWS[1].observed_on))
    fy2020 = frame[frame["fiscal_year"] == 2020]
    for code, name in ABSORBED.items():
        assert end.loc[code, "name"] == name and not end.loc[code, "listed"]
        assert code not in set(fy2020["code"])
        # FY2019: still listed on 2021-06-21, so an ordinary non-distressed row
        assert frame.set_index(["code", "fiscal_year"]).loc[(code, 2019), "distress"] == 0
    # every delisted positive carries a distress marker in its name
    names = end.reindex(fy2020.loc[fy2020["distress"] == 1, "code"])
    delisted = names[~names["listed"].astype(bool)]
    assert len(delisted) >= 2
    assert delisted["name"].str.contains("ST|退").all()


def test_distress_default_counts(distress, distress_keep):
    # Documented in the cn_distress docstring: reports published on/after the window start
    # are dropped (FY2019: 50 rows, 2 positive; FY2020: 109 rows, 8 positive).
    assert _counts(distress.frame) == {2019: (3138, 49), 2020: (3535, 42)}
    assert len(distress.frame) == get_spec("cn_distress").documented_rows
    keep = distress_keep.frame
    late = keep[keep["report_date"] >= keep["eligible_on"]]
    assert _counts(late) == {2019: (50, 2), 2020: (109, 8)}


def test_distress_schema(distress):
    frame = distress.frame
    assert distress.target == "distress"
    assert frame["distress"].dtype == np.int8
    assert set(frame["distress"].unique()) == {0, 1}
    assert list(frame.columns[:2]) == ["code", "fiscal_year"]
    assert frame["code"].str.match(CODE).all()
    assert not frame.duplicated(["code", "fiscal_year"]).any()
    assert dict(distress.feature_groups) == FEATURE_GROUPS
    assert set(FEATURE_GROUPS) == {"profitability", "liquidity", "leverage",
                                   "activity_turnover", "cash_flow", "growth", "size"}


def test_distress_no_leakage_timeline(distress, financials):
    frame = distress.frame
    # features published before the window opens; the label is observed after it
    assert (frame["report_date"] < frame["eligible_on"]).all()
    assert (frame["eligible_on"] < frame["observed_on"]).all()
    # and the label is observed after the FY t+1 reporting season (Jan-Apr of t+2)
    season_end = pd.to_datetime((frame["fiscal_year"] + 2).astype(str) + "-04-30")
    assert (frame["observed_on"] > season_end).all()
    for w in LABEL_WINDOWS:
        rows = frame[frame["fiscal_year"] == w.fiscal_year]
        assert (rows["eligible_on"] == pd.Timestamp(w.eligible_on)).all()
        assert (rows["observed_on"] == pd.Timestamp(w.observed_on)).all()
    # t-1 values feed growth only if the t-1 report was also out before the window opened
    prior = financials.frame[["code", "fiscal_year", "report_date"]].assign(
        fiscal_year=lambda f: f["fiscal_year"] + 1
    )
    grown = frame[frame[list(FEATURE_GROUPS["growth"])].notna().any(axis=1)]
    grown = grown.merge(prior, on=["code", "fiscal_year"], suffixes=("", "_prior"))
    assert len(grown) > 2500
    assert (grown["report_date_prior"] < grown["eligible_on"]).all()
    growth_2019 = frame.loc[frame["fiscal_year"] == 2019, list(FEATURE_GROUPS["growth"])]
    assert growth_2019.isna().all().all()  # FY2018 is not in the FinGLM data


def test_distress_features_come_from_fiscal_year_t(distress, financials):
    frame = distress.frame
    fin = financials.frame
    merged = frame.merge(fin, on=["code", "fiscal_year"], suffixes=("", "_fin"), validate="1:1")
    assert len(merged) == len(frame)
    for col in ("net_profit", "total_assets", "total_liabilities", "net_operating_cash_flow"):
        pd.testing.assert_series_equal(merged[col], merged[f"{col}_fin"], check_names=False)
    assert (merged["report_date"] == merged["report_date_fin"]).all()


def _status_at(st: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    return st[st["as_of_date"] == day].set_index("code")


def test_distress_label_is_the_status_on_the_observation_date(distress, st_status):
    frame, st = distress.frame, st_status.frame
    for day, rows in frame.groupby("observed_on"):
        end = _status_at(st, day).reindex(rows["code"])
        expected = end["is_st"].eq(True) | end["listed"].ne(True)
        assert (rows["distress"].to_numpy() == expected.to_numpy().astype(int)).all()


def test_distress_excludes_firms_already_st_at_window_start(distress, financials, st_status):
    frame, st, fin = distress.frame, st_status.frame, financials.frame
    for day, rows in frame.groupby("eligible_on"):
        start = _status_at(st, day).reindex(rows["code"])
        assert start["listed"].eq(True).all()
        assert start["is_st"].eq(False).all()
    # README: 193 FY2019 rows already ST on 2021-03-09, 161 FY2020 rows on 2021-06-21
    for w, n_st in zip(LABEL_WINDOWS, (193, 161), strict=True):
        start = _status_at(st, pd.Timestamp(w.eligible_on))
        codes = fin.loc[fin["fiscal_year"] == w.fiscal_year, "code"]
        already = set(codes[codes.isin(start.index[start["is_st"]])])
        assert len(already) == n_st
        assert not frame.loc[frame["fiscal_year"] == w.fiscal_year, "code"].isin(already).any()


def test_distress_agrees_with_the_shenzhen_daily_isst_flag(distress):
    """Independent check (README: name flag = baostock daily isST on the same day)."""
    spells = pd.read_csv(ST_DIR / "sz_isst_spells.csv", dtype=str)
    spells["code"] = spells["code"].str[3:] + ".SZ"
    start = pd.to_datetime(spells["start_date"])
    stop = pd.to_datetime(spells["first_non_st_date"])  # NaT: still ST on 2022-02-11
    universe = pd.read_csv(ST_DIR / "sz_isst_by_year.csv", dtype=str, usecols=["code"])
    universe_codes = set(universe["code"].str[3:] + ".SZ")

    def st_on(day: str) -> set[str]:
        d = pd.Timestamp(day)
        return set(spells.loc[(start <= d) & (stop.isna() | (stop > d)), "code"])

    w = LABEL_WINDOWS[0]  # the FY2020-season window ends before the daily data (2022-02-11)
    rows = distress.frame[(distress.frame["fiscal_year"] == w.fiscal_year)
                          & distress.frame["code"].isin(universe_codes)]
    assert len(rows) > 1700
    assert not rows["code"].isin(st_on(w.eligible_on)).any()
    daily = rows["code"].isin(st_on(w.observed_on)).astype(int)
    assert (daily.to_numpy() == rows["distress"].to_numpy()).all()
    assert daily.sum() > 20


def test_distress_ratios_are_finite_or_nan(distress):
    values = distress.frame[distress.features].to_numpy(dtype="float64")
    assert not np.isinf(values).any()
    assert values.dtype == np.float64


def test_distress_ratios_equal_hand_computation(distress):
    wanted = {("600519", 2019), ("300565", 2019), ("300565", 2020)}
    bal = _raw_rows(FINGLM / "balance_static.xlsx", wanted)
    pro = _raw_rows(FINGLM / "profit_statement.xlsx", wanted)
    cfs = _raw_rows(FINGLM / "cash_flow_statement.xlsx", wanted)
    frame = distress.frame.set_index(["code", "fiscal_year"])

    b, p, c = bal[("600519", 2019)], pro[("600519", 2019)], cfs[("600519", 2019)]
    ca, nca = _item(b, "流动资产合计"), _item(b, "非流动资产合计")
    cl, ncl = _item(b, "流动负债合计"), _item(b, "非流动负债合计")
    ni, rev = _item(p, "净利润"), _item(p, "营业收入")
    ocf = _item(c, "经营活动产生的现金流量净额")
    row = frame.loc[("600519.SH", 2019)]
    assert row["current_ratio"] == pytest.approx(ca / cl, rel=1e-12)
    assert row["liabilities_to_assets"] == pytest.approx((cl + ncl) / (ca + nca), rel=1e-12)
    assert row["roe"] == pytest.approx(ni / (ca + nca - cl - ncl), rel=1e-12)
    assert row["gross_margin"] == pytest.approx((rev - _item(p, "营业成本")) / rev, rel=1e-12)
    assert row["ocf_to_current_liabilities"] == pytest.approx(ocf / cl, rel=1e-12)
    assert row["log_total_assets"] == pytest.approx(math.log(ca + nca), rel=1e-12)

    p19, p20 = pro[("300565", 2019)], pro[("300565", 2020)]
    rev19, rev20 = _item(p19, "营业收入"), _item(p20, "营业收入")
    ni19, ni20 = _item(p19, "净利润"), _item(p20, "净利润")
    row = frame.loc[("300565.SZ", 2020)]
    assert row["revenue_growth"] == pytest.approx(rev20 / rev19 - 1, rel=1e-12)
    assert row["net_profit_growth"] == pytest.approx((ni20 - ni19) / abs(ni19), rel=1e-12)
    assert row["net_loss_prior_year"] == 1.0  # 科信技术 lost 82 m CNY in 2019


def test_distress_rejects_an_unknown_late_reports_option():
    with pytest.raises(DataError, match=r"late_reports='maybe' is not allowed"):
        load_dataset("cn_distress", settings=_settings(), late_reports="maybe")
