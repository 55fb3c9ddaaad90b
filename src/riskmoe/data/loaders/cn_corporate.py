"""Chinese A-share corporate data: listed companies, FY 2019-2021 financial statements and
ST (special-treatment) status snapshots.

Each dataset's quirks are decoded here, in one place, citing its README in
``shared/data/<folder>/README.md``:

* ``cn_listed_companies/README.md`` -- four complementary lists. The SZSE workbook's column
  names carry padding spaces (``地      区``) and its short names padding and full-width
  letters (``万  科Ａ``), so short names are NFKC-normalised with whitespace removed; the SSE
  list is an old BIFF ``.xls`` read with ``xlrd`` and ``-`` means "no B share"; FinGLM file
  names are ``publish-date__公司全称__代码__简称__year__年度报告.pdf`` and give full names as of
  each 2019-2021 report (they drop brackets: ``天娱数字科技大连集团…`` for
  ``天娱数字科技（大连）集团…``); 56 FinGLM companies filed under a B-share code.
* ``cn_financial_statements_finglm/README.md`` -- key (``股票代码``, ``报告年份``); ``-1.0``
  is the missing-value code (item not found in the report), not a number; ``年份``,
  ``证券代码``, ``证券简称`` duplicate the key columns; ``信息来源`` is always ``年度报告``; the
  balance sheet holds four totals only (total assets, liabilities and equity are sums and
  differences of them); ``股票简称`` has ST prefixes stripped, so ST status must not be read
  from it; publication dates come from the FinGLM file names.
* ``cn_st_status/README.md`` -- the derived long table stacks four dated name snapshots
  (stocks only); the 2020/2021 baostock files and the 2021 tushare file are GBK, the 2023
  baostock file UTF-8; the tushare file has an unnamed row index and lists listed stocks only;
  ``is_st`` is a substring test on the name (``ST``, ``*ST``, ``SST``, ``S*ST``). The loader
  rebuilds the long table from the four original snapshots and refuses a derived file that
  disagrees with them.

Stock codes are always read as text (leading zeros) and normalised to ``600519.SH`` /
``000001.SZ`` / ``430047.BJ``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskmoe.data._dataset import FileLocator, Loaded, SourceFile
from riskmoe.data._registry import register
from riskmoe.data.readers import read_csv, read_excel
from riskmoe.exceptions import DataFormatError, SchemaError

__all__ = [
    "BALANCE_SHEET_COLUMNS",
    "CASH_FLOW_COLUMNS",
    "FINANCIAL_FILES",
    "INCOME_STATEMENT_COLUMNS",
    "REPORT_INDEX_FILE",
    "ST_STATUS_FILES",
    "normalise_code",
    "read_financial_statements",
    "read_report_index",
    "read_st_status",
]

_UNKNOWN_LICENSE = "unknown (no license stated by the source; public disclosures / exchange facts)"

# ---------------------------------------------------------------------------------------
# Stock codes
# ---------------------------------------------------------------------------------------

# Exchange by the first two digits of a 6-digit code: SSE A (60, 68) and B (90); SZSE A
# (00, 30) and B (20); BSE (43, 83, 87, 88 and the 920 codes used since 2024).
_EXCHANGE_BY_PREFIX = {
    "60": "SH", "68": "SH", "90": "SH",
    "00": "SZ", "30": "SZ", "20": "SZ",
    "43": "BJ", "83": "BJ", "87": "BJ", "88": "BJ", "92": "BJ",
}
_CODE6 = re.compile(r"^\d{6}$")


def normalise_code(code6: str) -> str:
    """Exchange-suffixed code of a 6-digit A/B-share code.

    Parameters
    ----------
    code6 : str
        Six digits, as text (``"000001"``, never the integer 1).

    Returns
    -------
    str
        ``"<code6>.SH"``, ``".SZ"`` or ``".BJ"``.

    Raises
    ------
    DataFormatError
        If ``code6`` is not six digits or its prefix belongs to no exchange.

    Examples
    --------
    >>> normalise_code("600519"), normalise_code("000001"), normalise_code("430047")
    ('600519.SH', '000001.SZ', '430047.BJ')
    """
    if not isinstance(code6, str) or not _CODE6.match(code6):
        raise DataFormatError(f"stock code {code6!r} is not 6 digits of text.")
    exchange = _EXCHANGE_BY_PREFIX.get(code6[:2])
    if exchange is None:
        allowed = ", ".join(sorted(_EXCHANGE_BY_PREFIX))
        raise DataFormatError(
            f"stock code {code6!r} has prefix {code6[:2]!r}, which belongs to no A/B-share "
            f"exchange; known prefixes: {allowed}."
        )
    return f"{code6}.{exchange}"


def _normalise_codes(codes: pd.Series, path: Path) -> pd.Series:
    try:
        return codes.map(normalise_code)
    except DataFormatError as exc:
        raise DataFormatError(f"{path}: {exc}") from exc


# ---------------------------------------------------------------------------------------
# Shared reading helpers
# ---------------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{path}: expected columns {missing} are missing; found {list(frame.columns)}."
        )


def _parse_dates(values: pd.Series, path: Path, fmt: str) -> pd.Series:
    """Parse dates strictly: an unparseable value is an error; an empty cell stays NaT."""
    try:
        return pd.to_datetime(values, format=fmt)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{path}: cannot parse dates as {fmt} ({exc}).") from exc


def _refuse_duplicates(frame: pd.DataFrame, keys: list[str], path: Path) -> None:
    dup = frame.duplicated(keys)
    if dup.any():
        first = frame.loc[dup, keys].iloc[0].to_dict()
        raise SchemaError(f"{path}: {int(dup.sum())} duplicated {keys} rows, e.g. {first}.")


@functools.lru_cache(maxsize=8)
def _read_workbook_cached(
    path: str, mtime_ns: int, size: int, text_columns: tuple[str, ...]
) -> pd.DataFrame:
    # Keyed by mtime and size as well as the path, so an edited file is read again.
    del mtime_ns, size
    return read_excel(path, dtype=dict.fromkeys(text_columns, str))


def _read_workbook(path: Path, text_columns: tuple[str, ...]) -> pd.DataFrame:
    """Read an .xlsx once per process (the FinGLM workbooks take seconds each); a copy."""
    stat = path.stat()
    return _read_workbook_cached(str(path), stat.st_mtime_ns, stat.st_size, text_columns).copy()


# ---------------------------------------------------------------------------------------
# FinGLM annual-report index (cn_listed_companies/finglm_annual_report_filenames.txt)
# ---------------------------------------------------------------------------------------

_LISTED_FOLDER = "cn_listed_companies"

REPORT_INDEX_FILE = SourceFile(
    _LISTED_FOLDER,
    "finglm_annual_report_filenames.txt",
    sha256="d3ba78cf71a9d23b543a9080d9f3266d008ba46758c1c95c5512a7fe78acb68d",
)

_REPORT_NAME = re.compile(
    r"^(?P<report_date>\d{4}-\d{2}-\d{2})__(?P<full_name>[^_]+)__(?P<code6>\d{6})__"
    r"(?P<short_name>[^_]+)__(?P<fiscal_year>\d{4})年__年度报告\.pdf$"
)


def read_report_index(path: Path) -> pd.DataFrame:
    """Parse the FinGLM annual-report file names: one row per (code, fiscal year).

    Parameters
    ----------
    path : Path
        ``finglm_annual_report_filenames.txt``.

    Returns
    -------
    pandas.DataFrame
        ``code`` (``600519.SH``), ``code6``, ``fiscal_year`` (int), ``report_date``
        (publication date, datetime64), ``full_name``, ``short_name`` (as of the report).

    Raises
    ------
    DataFormatError
        A line that is not ``date__全称__code__简称__YYYY年__年度报告.pdf``.
    SchemaError
        Two reports for one (code, fiscal year).
    """
    text = path.read_text(encoding="utf-8-sig")
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = _REPORT_NAME.match(line.strip())
        if match is None:
            raise DataFormatError(
                f"{path}, line {lineno}: {line[:80]!r} is not "
                "'publish-date__全称__code__简称__YYYY年__年度报告.pdf'."
            )
        rows.append(match.groupdict())
    frame = pd.DataFrame(rows, columns=list(_REPORT_NAME.groupindex))
    frame["fiscal_year"] = frame["fiscal_year"].astype("int64")
    frame["report_date"] = _parse_dates(frame["report_date"], path, "%Y-%m-%d")
    frame["code"] = _normalise_codes(frame["code6"], path)
    _refuse_duplicates(frame, ["code", "fiscal_year"], path)
    return frame[["code", "code6", "fiscal_year", "report_date", "full_name", "short_name"]]


# ---------------------------------------------------------------------------------------
# cn_listed_companies
# ---------------------------------------------------------------------------------------

_TUSHARE_FILE = SourceFile(
    _LISTED_FOLDER,
    "tushare_stock_basic.csv",
    sha256="3fc425a07f1775d70ceb0c8d0cca794be7f277eb0f4ce9748f45a247941d00ca",
)
_SZSE_FILE = SourceFile(
    _LISTED_FOLDER,
    "szse_a_share_list.xlsx",
    sha256="4492cacb20bbaa921e432b497137102213e46487c1108c4b94240a16586fef98",
)
_SSE_FILE = SourceFile(
    _LISTED_FOLDER,
    "sse_main_board_GPLIST.xls",
    sha256="709a06a3a5e11a5ecb127c9d6950604a3f2b1356190e1656b4da8238ee3d7d86",
)

_LISTED_COLUMNS = [
    "code", "exchange", "short_name", "full_name", "full_name_in_reports", "english_name",
    "extended_short_name", "industry", "csrc_industry", "area", "province", "city", "board",
    "list_date", "pinyin_initials", "actual_controller", "controller_type", "b_share_code",
    "sources",
]


def _clean_short_name(values: pd.Series) -> pd.Series:
    """NFKC (full-width ``Ａ`` -> ``A``) and no inner padding (``万  科Ａ`` -> ``万科A``)."""
    return values.map(
        lambda v: re.sub(r"\s+", "", unicodedata.normalize("NFKC", v)) if isinstance(v, str) else v
    )


def _strip(values: pd.Series) -> pd.Series:
    return values.map(lambda v: (v.strip() or np.nan) if isinstance(v, str) else v)


def _read_tushare_list(path: Path) -> pd.DataFrame:
    raw = read_csv(path, dtype=str)
    _require_columns(raw, ["ts_code", "name", "area", "industry", "cnspell", "market",
                           "list_date", "act_name", "act_ent_type"], path)
    if not raw["ts_code"].str.match(r"^\d{6}\.(SH|SZ|BJ)$").all():
        raise DataFormatError(f"{path}: ts_code values must look like 600519.SH.")
    return pd.DataFrame({
        "code": raw["ts_code"],
        "short_name": _clean_short_name(raw["name"]),
        "industry": raw["industry"],
        "area": raw["area"],
        "board": raw["market"],
        "list_date": _parse_dates(raw["list_date"], path, "%Y%m%d"),
        "pinyin_initials": raw["cnspell"],
        "actual_controller": raw["act_name"],
        "controller_type": raw["act_ent_type"],
    })


def _read_szse_list(path: Path) -> pd.DataFrame:
    # README: openpyxl warns that this workbook has no default style; harmless.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Workbook contains no default style", category=UserWarning
        )
        raw = read_excel(path, dtype=str)
    raw.columns = [re.sub(r"\s+", "", str(c)) for c in raw.columns]  # README: padded names
    _require_columns(raw, ["板块", "公司全称", "英文名称", "A股代码", "A股简称", "A股上市日期",
                           "B股代码", "省份", "城市", "所属行业"], path)
    b_code = _strip(raw["B股代码"])
    return pd.DataFrame({
        "code": _normalise_codes(raw["A股代码"].str.strip(), path),
        "short_name": _clean_short_name(raw["A股简称"]),
        "full_name": _strip(raw["公司全称"]),
        "english_name": _strip(raw["英文名称"]),
        "csrc_industry": _strip(raw["所属行业"]),
        "province": _strip(raw["省份"]),
        "city": _strip(raw["城市"]),
        "board": _strip(raw["板块"]),
        "list_date": _parse_dates(raw["A股上市日期"], path, "%Y-%m-%d"),
        "b_share_code": b_code.map(normalise_code, na_action="ignore"),
    })


def _read_sse_list(path: Path) -> pd.DataFrame:
    # README: an old BIFF .xls that only xlrd reads; pandas flags the xlrd engine as
    # deprecated, which is not a problem with this file.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The xlrd engine is deprecated")
        raw = read_excel(path, dtype=str, engine="xlrd")
    _require_columns(raw, ["A股代码", "B股代码", "证券简称", "扩位证券简称", "公司英文全称",
                           "上市日期"], path)
    b_code = _strip(raw["B股代码"]).replace("-", np.nan)  # README: "-" = no B share
    return pd.DataFrame({
        "code": _normalise_codes(raw["A股代码"].str.strip(), path),
        "short_name": _clean_short_name(raw["证券简称"]),
        "extended_short_name": _clean_short_name(raw["扩位证券简称"]),
        "english_name": _strip(raw["公司英文全称"]),
        "board": "主板",  # README: main-board list (600/601/603/605), no STAR Market
        "list_date": _parse_dates(raw["上市日期"], path, "%Y%m%d"),
        "b_share_code": b_code.map(normalise_code, na_action="ignore"),
    })


def _finglm_companies(reports: pd.DataFrame) -> pd.DataFrame:
    """One row per code from the report index: names as of the latest report."""
    latest = reports.sort_values(["code", "fiscal_year"]).drop_duplicates("code", keep="last")
    return pd.DataFrame({
        "code": latest["code"].to_numpy(),
        "short_name": _clean_short_name(latest["short_name"]).to_numpy(),
        "full_name_in_reports": latest["full_name"].to_numpy(),
    })


def _b_share_to_a_share(finglm: pd.DataFrame, exchange_lists: list[pd.DataFrame]) -> dict[str, str]:
    """Map FinGLM filers' B-share codes to the company's A-share code.

    First through the exchanges' ``B股代码`` columns, then, for a B share no longer listed
    beside its A share (``200002`` 万科 since its B shares became H shares), through an
    exact full-name match with the SZSE list.
    """
    pairs = pd.concat([f[["code", "b_share_code"]] for f in exchange_lists]).dropna()
    mapping = dict(zip(pairs["b_share_code"], pairs["code"], strict=True))
    szse = next(f for f in exchange_lists if "full_name" in f.columns)
    by_name = szse.dropna(subset=["full_name"]).drop_duplicates("full_name", keep=False)
    a_by_name = dict(zip(by_name["full_name"], by_name["code"], strict=True))
    is_b = finglm["code"].str[:2].isin(["20", "90"])
    for code, name in zip(finglm.loc[is_b, "code"], finglm.loc[is_b, "full_name_in_reports"],
                          strict=True):
        if code not in mapping and name in a_by_name:
            mapping[code] = a_by_name[name]
    return mapping


def _combine_sources(sources: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Union of codes; each field taken from the first source (in ``sources`` order) with it."""
    codes = pd.Index(sorted(set().union(*(set(f["code"]) for f in sources.values()))), name="code")
    indexed = {name: f.set_index("code") for name, f in sources.items()}
    out = pd.DataFrame(index=codes)
    for column in _LISTED_COLUMNS:
        if column in ("code", "exchange", "sources", "full_name"):
            continue
        for frame in indexed.values():
            if column in frame.columns:
                values = frame[column].reindex(codes)
                out[column] = values if column not in out else out[column].fillna(values)
    # Full name: the official SZSE list (current, exact spelling) first, else the name in
    # the annual reports (README: FinGLM names predate renames and drop brackets).
    out["full_name"] = indexed["szse"]["full_name"].reindex(codes).fillna(
        out["full_name_in_reports"]
    )
    member = {name: codes.isin(f.index) for name, f in indexed.items()}
    out["sources"] = [
        ";".join(name for name in indexed if member[name][i]) for i in range(len(codes))
    ]
    out["exchange"] = codes.str[-2:]
    return out.reset_index()[_LISTED_COLUMNS]


@register(
    name="cn_listed_companies",
    kind="lookup",
    description=(
        "Chinese A-share listed companies (SH/SZ/BJ): code, short/full/English names, "
        "industry, area, listing date, one row per company (tushare, SZSE, SSE, FinGLM)."
    ),
    files=(_TUSHARE_FILE, _SZSE_FILE, _SSE_FILE, REPORT_INDEX_FILE),
    source=(
        "tushare Pro stock_basic; Shenzhen Stock Exchange A股列表; Shanghai Stock Exchange "
        "股票列表; MetaGLM/FinGLM annual-report file names (see cn_listed_companies/README.md)"
    ),
    citation=(
        "tushare Pro stock_basic (https://tushare.pro/document/2?doc_id=25); SZSE 股票列表 "
        "(https://www.szse.cn/market/product/stock/list/index.html); SSE 股票列表 "
        "(https://www.sse.com.cn/assortment/stock/list/share/); MetaGLM/FinGLM, SMP 2023 "
        "ChatGLM 金融大模型挑战赛 (https://github.com/MetaGLM/FinGLM)"
    ),
    license=_UNKNOWN_LICENSE,
    documented_rows=5724,
)
def load_cn_listed_companies(files: FileLocator) -> Loaded:
    """Listed companies, one row per company, keyed by ``code`` (``600519.SH``).

    Fields come from the first source that has them: short name, industry, area, board,
    listing date from tushare (2026 export) > SZSE list > SSE list > FinGLM reports;
    ``full_name`` from the SZSE list > FinGLM file names (``full_name_in_reports`` keeps
    the report-time name); ``english_name`` from the SZSE list > SSE list;
    ``csrc_industry``, ``province``, ``city`` from the SZSE list only (a different
    taxonomy from tushare's ``industry``/``area``, so never mixed into them). ``sources``
    lists the files that had the code (``tushare;szse;sse;finglm``).

    A company that filed its FinGLM reports under a B-share code is folded into its
    A-share row (``b_share_code`` keeps the B code); B-share-only companies keep their
    ``200xxx.SZ`` / ``900xxx.SH`` code. Short names keep status prefixes (``*ST``).
    """
    tushare = _read_tushare_list(files.path(_TUSHARE_FILE))
    szse = _read_szse_list(files.path(_SZSE_FILE))
    sse = _read_sse_list(files.path(_SSE_FILE))
    finglm = _finglm_companies(read_report_index(files.path(REPORT_INDEX_FILE)))
    to_a = _b_share_to_a_share(finglm, [szse, sse])
    folded = finglm["code"].isin(list(to_a))
    b_codes = finglm.loc[folded, "code"]
    finglm.loc[folded, "b_share_code"] = b_codes
    finglm.loc[folded, "code"] = b_codes.map(to_a)
    # Should a company also have filed under its A code, that row wins.
    finglm = finglm.sort_values("b_share_code", na_position="first").drop_duplicates("code")
    frame = _combine_sources({"tushare": tushare, "szse": szse, "sse": sse, "finglm": finglm})
    notes = (
        f"{int(folded.sum())} FinGLM companies filed under a B-share code were folded into "
        "their A-share rows (b_share_code keeps the B code).",
        "full_name: SZSE list first (current, exact), else FinGLM report file names, which "
        "drop brackets and predate renames (cn_listed_companies/README.md).",
    )
    return Loaded(frame, None, {}, notes)


# ---------------------------------------------------------------------------------------
# cn_financials (FinGLM statements)
# ---------------------------------------------------------------------------------------

_FINGLM_FOLDER = "cn_financial_statements_finglm"

_PROFIT_FILE = SourceFile(
    _FINGLM_FOLDER,
    "profit_statement.xlsx",
    sha256="d3df9f4433134bff0881c07ff46bba858d5a1106dcb20f3e33113c71a5fe56a4",
)
_CASH_FLOW_FILE = SourceFile(
    _FINGLM_FOLDER,
    "cash_flow_statement.xlsx",
    sha256="f1e63962c9ce4bd623882f53241d4ab7422ae1a499cad997ed8192f29bec3d5d",
)
_BALANCE_FILE = SourceFile(
    _FINGLM_FOLDER,
    "balance_static.xlsx",
    sha256="bafdf992bbc9f364b8fe6b1ea0d41faab73773678b675f8fd8d92831db928650",
)

#: Income statement (利润表): Chinese item -> column. Amounts in CNY, EPS in CNY per share.
INCOME_STATEMENT_COLUMNS: dict[str, str] = {
    "营业总收入": "total_operating_revenue",  # operating revenue + financial-sector income
    "营业收入": "operating_revenue",
    "营业总成本": "total_operating_costs",
    "营业成本": "cost_of_sales",
    "税金及附加": "taxes_and_surcharges",
    "销售费用": "selling_expenses",
    "管理费用": "administrative_expenses",
    "研发费用": "rd_expenses",
    "财务费用": "financial_expenses",  # net interest and FX cost
    "利息支出": "interest_expense",  # README: missing in 97 % of rows
    "利息收入": "interest_income",
    "其他收益": "other_income",  # mainly government grants
    "投资收益": "investment_income",
    "对联营企业和合营企业的投资收益": "investment_income_from_associates_and_jvs",
    "公允价值变动收益": "fair_value_change_gain",
    "汇兑收益": "exchange_gain",
    "净敞口套期收益": "net_exposure_hedging_gain",
    "信用减值损失": "credit_impairment_loss",
    "资产减值损失": "asset_impairment_loss",
    "资产处置收益": "asset_disposal_gain",
    "营业利润": "operating_profit",
    "营业外收入": "non_operating_income",
    "营业外支出": "non_operating_expenses",
    "利润总额": "profit_before_tax",
    "所得税费用": "income_tax_expense",
    "净利润": "net_profit",
    "持续经营净利润": "net_profit_continuing_operations",
    "终止经营净利润": "net_profit_discontinued_operations",
    "归属母公司所有者净利润": "net_profit_attributable_to_parent",  # README: 83.7 % missing
    "少数股东损益": "minority_interest_profit",
    "综合收益总额": "total_comprehensive_income",
    "归属于母公司所有者的综合收益总额": "comprehensive_income_attributable_to_parent",
    "归属于少数股东的综合收益总额": "comprehensive_income_attributable_to_minority",
    "基本每股收益": "basic_eps",
    "稀释每股收益": "diluted_eps",
    # insurance / broker items, missing for ordinary firms by design (README)
    "已赚保费": "insurance_premiums_earned",
    "手续费及佣金收入": "fee_and_commission_income",
    "手续费及佣金支出": "fee_and_commission_expense",
    "退保金": "surrenders_paid",
    "赔付支出净额": "net_claims_paid",
    "提取保险责任准备金净额": "net_insurance_reserve_provision",
    "保单红利支出": "policyholder_dividends",
    "分保费用": "reinsurance_expenses",
}

#: Cash-flow statement (现金流量表): Chinese item -> column. Amounts in CNY.
CASH_FLOW_COLUMNS: dict[str, str] = {
    "销售商品、提供劳务收到的现金": "cash_received_from_sales",
    "收到的税费返还": "tax_refunds_received",
    "收到其他与经营活动有关的现金": "other_operating_cash_received",
    "购买商品、接受劳务支付的现金": "cash_paid_for_goods_and_services",
    "支付给职工以及为职工支付的现金": "cash_paid_to_employees",
    "支付的各项税费": "taxes_paid",
    "支付其他与经营活动有关的现金": "other_operating_cash_paid",
    "经营活动产生的现金流量净额": "net_operating_cash_flow",
    "收回投资收到的现金": "cash_from_investments_recovered",
    "取得投资收益收到的现金": "investment_income_received",
    "处置固定资产、无形资产和其他长期资产收回的现金净额": "cash_from_long_term_asset_disposals",
    "处置子公司及其他营业单位收到的现金净额": "cash_from_subsidiary_disposals",
    "购建固定资产、无形资产和其他长期资产支付的现金": "capital_expenditure",
    "投资支付的现金": "cash_paid_for_investments",
    "支付其他与投资活动有关的现金": "other_investing_cash_paid",
    "投资活动产生的现金流量净额": "net_investing_cash_flow",
    "吸收投资收到的现金": "cash_from_equity_issued",
    "取得借款收到的现金": "cash_from_borrowings",
    "偿还债务支付的现金": "cash_repaid_on_debt",
    "分配股利、利润或偿付利息支付的现金": "cash_paid_for_dividends_and_interest",
    "筹资活动产生的现金流量净额": "net_financing_cash_flow",
    "汇率变动对现金及现金等价物的影响": "fx_effect_on_cash",
    "期初现金及现金等价物余额": "cash_and_equivalents_begin",
    "期末现金及现金等价物余额": "cash_and_equivalents_end",
    "现金的期末余额": "cash_end_balance_note",  # from the supplementary note
}

#: Balance-sheet totals (资产负债表合计项): Chinese item -> column. The README: only these
#: four totals exist; ``total_assets``, ``total_liabilities`` and ``total_equity`` are
#: derived from them (equity = assets - liabilities).
BALANCE_SHEET_COLUMNS: dict[str, str] = {
    "流动资产合计": "total_current_assets",
    "非流动资产合计": "total_non_current_assets",
    "流动负债合计": "total_current_liabilities",
    "非流动负债合计": "total_non_current_liabilities",
}

_BALANCE_DERIVED = ("total_assets", "total_liabilities", "total_equity")
_FINGLM_KEYS = ["股票代码", "报告年份", "股票简称"]
# README: these repeat 报告年份 / 股票代码 / 股票简称 in every row.
_FINGLM_REPEATS = {"年份": "报告年份", "证券代码": "股票代码", "证券简称": "股票简称"}
_FINGLM_TEXT = ("股票代码", "证券代码", "股票简称", "证券简称", "信息来源")
_MISSING_CODE = -1.0  # README: item not found in the report

FINANCIAL_FILES = (_PROFIT_FILE, _CASH_FLOW_FILE, _BALANCE_FILE, REPORT_INDEX_FILE)


def _check_repeats(raw: pd.DataFrame, path: Path) -> None:
    for repeat, original in _FINGLM_REPEATS.items():
        differs = raw[repeat].astype(str) != raw[original].astype(str)
        if differs.any():
            raise DataFormatError(
                f"{path}: {repeat!r} differs from {original!r} in {int(differs.sum())} rows; "
                "the README documents them as identical."
            )
    if not (raw["信息来源"] == "年度报告").all():
        raise DataFormatError(f"{path}: 信息来源 must be 年度报告 (annual report) in every row.")


def _finglm_values(raw: pd.DataFrame, columns: Mapping[str, str], path: Path) -> pd.DataFrame:
    """The statement items, numeric, ``-1`` -> NaN, renamed to English."""
    values = raw[list(columns)]
    for col in values.columns:
        if not pd.api.types.is_numeric_dtype(values[col]):
            raise DataFormatError(f"{path}: column {col!r} is not numeric.")
    values = values.astype("float64")
    return values.mask(values == _MISSING_CODE).rename(columns=dict(columns))


def read_finglm_statement(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    """Read one FinGLM statement workbook.

    Parameters
    ----------
    path : Path
        ``profit_statement.xlsx``, ``cash_flow_statement.xlsx`` or ``balance_static.xlsx``.
    columns : mapping of str to str
        The statement's Chinese items and their English names (e.g.
        :data:`INCOME_STATEMENT_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        ``code`` (``600519.SH``), ``fiscal_year``, ``short_name`` and the renamed items,
        with the ``-1`` missing-value code replaced by NaN.

    Raises
    ------
    SchemaError
        Missing columns or duplicated (code, year) keys.
    DataFormatError
        Repeated key columns that differ, non-numeric items or malformed codes.
    """
    raw = _read_workbook(path, _FINGLM_TEXT)
    _require_columns(raw, [*_FINGLM_KEYS, *_FINGLM_REPEATS, "信息来源", *columns], path)
    _check_repeats(raw, path)
    if not pd.api.types.is_integer_dtype(raw["报告年份"]):
        raise DataFormatError(f"{path}: 报告年份 must be an integer year.")
    keys = pd.DataFrame({
        "code": _normalise_codes(raw["股票代码"], path),
        "fiscal_year": raw["报告年份"].astype("int64"),
        "short_name": raw["股票简称"],
    })
    _refuse_duplicates(keys, ["code", "fiscal_year"], path)
    return pd.concat([keys, _finglm_values(raw, columns, path)], axis=1)


def _join_statements(
    income: pd.DataFrame, cash_flow: pd.DataFrame, balance: pd.DataFrame
) -> pd.DataFrame:
    keys = ["code", "fiscal_year"]
    key_sets = [set(map(tuple, f[keys].to_numpy())) for f in (income, cash_flow, balance)]
    if not key_sets[0] == key_sets[1] == key_sets[2]:
        raise DataFormatError(
            "FinGLM statements cover different (code, year) keys; the README documents the "
            "same 11,587 company-years in all three files."
        )
    joined = income.merge(cash_flow.drop(columns="short_name"), on=keys, validate="1:1")
    joined = joined.merge(balance.drop(columns="short_name"), on=keys, validate="1:1")
    joined["total_assets"] = joined["total_current_assets"] + joined["total_non_current_assets"]
    joined["total_liabilities"] = (
        joined["total_current_liabilities"] + joined["total_non_current_liabilities"]
    )
    joined["total_equity"] = joined["total_assets"] - joined["total_liabilities"]
    return joined


def read_financial_statements(files: FileLocator) -> pd.DataFrame:
    """The three FinGLM statements joined per company-year, with report publication dates.

    Parameters
    ----------
    files : FileLocator
        Resolves :data:`FINANCIAL_FILES`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``fiscal_year``, ``short_name``, ``report_date`` and every item of
        :data:`INCOME_STATEMENT_COLUMNS`, :data:`CASH_FLOW_COLUMNS` and
        :data:`BALANCE_SHEET_COLUMNS` plus ``total_assets``, ``total_liabilities``,
        ``total_equity``; sorted by (code, fiscal_year).

    Raises
    ------
    DataFormatError
        Statements that do not cover the same keys, or a company-year without an entry
        in the annual-report index.
    """
    income = read_finglm_statement(files.path(_PROFIT_FILE), INCOME_STATEMENT_COLUMNS)
    cash_flow = read_finglm_statement(files.path(_CASH_FLOW_FILE), CASH_FLOW_COLUMNS)
    balance = read_finglm_statement(files.path(_BALANCE_FILE), BALANCE_SHEET_COLUMNS)
    joined = _join_statements(income, cash_flow, balance)
    index_path = files.path(REPORT_INDEX_FILE)
    reports = read_report_index(index_path)[["code", "fiscal_year", "report_date"]]
    joined = joined.merge(reports, on=["code", "fiscal_year"], how="left", validate="1:1")
    if joined["report_date"].isna().any():
        first = joined.loc[joined["report_date"].isna(), ["code", "fiscal_year"]].iloc[0]
        raise DataFormatError(
            f"{index_path}: no annual report for {first['code']} FY{first['fiscal_year']}; the "
            "README documents one report per FinGLM company-year."
        )
    order = ["code", "fiscal_year", "short_name", "report_date"]
    joined = joined[order + [c for c in joined.columns if c not in order]]
    return joined.sort_values(["code", "fiscal_year"], kind="stable").reset_index(drop=True)


@register(
    name="cn_financials",
    kind="corporate",
    description=(
        "A-share annual income, cash-flow and balance-sheet totals FY2019-2021 (FinGLM), "
        "one row per company-year, -1 sentinels as NaN, with report publication dates."
    ),
    files=FINANCIAL_FILES,
    source=(
        "MetaGLM/FinGLM (SMP 2023 ChatGLM 金融大模型挑战赛), tables extracted from A-share "
        "annual reports by the RonaldJEN/FinanceChatGLM pipeline, committed by team "
        "Chatglm反卷总局 (see cn_financial_statements_finglm/README.md)"
    ),
    citation=(
        "MetaGLM/FinGLM, https://github.com/MetaGLM/FinGLM, commit ff48a9dc5e6c7f9d9a9c6120024"
        "dccefd8cbaa80, code/Chatglm反卷总局/app/data/*.xlsx"
    ),
    license=_UNKNOWN_LICENSE,
    documented_rows=11587,
)
def load_cn_financials(files: FileLocator) -> Loaded:
    """FinGLM statements, keyed by (``code``, ``fiscal_year``); no target.

    Columns are the English names of :data:`INCOME_STATEMENT_COLUMNS`,
    :data:`CASH_FLOW_COLUMNS` and :data:`BALANCE_SHEET_COLUMNS` (the tables document the
    Chinese item behind each), plus ``total_assets``, ``total_liabilities``,
    ``total_equity`` (sums/differences of the four totals) and ``report_date`` (publication
    date of the annual report, from the FinGLM file names).
    """
    frame = read_financial_statements(files)
    groups = {
        "income_statement": tuple(INCOME_STATEMENT_COLUMNS.values()),
        "cash_flow": tuple(CASH_FLOW_COLUMNS.values()),
        "balance_sheet": (*BALANCE_SHEET_COLUMNS.values(), *_BALANCE_DERIVED),
    }
    value_columns = [c for cols in groups.values() for c in cols]
    empty = int(frame[value_columns].isna().all(axis=1).sum())
    b_coded = int(frame.loc[frame["code"].str[:2].isin(["20", "90"]), "code"].nunique())
    notes = (
        "-1.0 (item not found in the report) read as missing; an EPS of exactly -1.00 CNY "
        "cannot be told apart from it (cn_financial_statements_finglm/README.md).",
        f"{empty} company-years have no item at all (failed extractions, README).",
        "short_name has ST prefixes stripped (README): do not derive ST status from it.",
        f"{b_coded} companies filed under B-share codes (200xxx.SZ, 900xxx.SH) keep those "
        "codes; cn_listed_companies maps them to A-share codes via b_share_code.",
    )
    return Loaded(frame, None, groups, notes)


# ---------------------------------------------------------------------------------------
# cn_st_status (dated ST snapshots)
# ---------------------------------------------------------------------------------------

_ST_FOLDER = "cn_st_status"


@dataclass(frozen=True)
class _Snapshot:
    """One dated name snapshot of the market (README: export day inferred and checked)."""

    file: SourceFile
    as_of: str
    api: str  # "baostock" or "tushare"
    encoding: str


_SNAPSHOTS = (
    _Snapshot(
        SourceFile(_ST_FOLDER, "baostock_stock_basic_2020-09-18.csv",
                   sha256="6ca6d6cf0b1d47bd69fa89b048b01cec22ab4711852912a1288de43c5105a3d6"),
        "2020-09-18", "baostock", "gbk",
    ),
    _Snapshot(
        SourceFile(_ST_FOLDER, "baostock_stock_basic_2021-03-09.csv",
                   sha256="7f91369109c6bda274dbdfb0801662d210bc04229cb47de538c30dfbd3bca29d"),
        "2021-03-09", "baostock", "gbk",
    ),
    _Snapshot(
        SourceFile(_ST_FOLDER, "tushare_stock_basic_2021-06-21.csv",
                   sha256="dd5006b958c508076ab62eb1ba10b42c659ca12191bb0b59a408539f0ed42db7"),
        "2021-06-21", "tushare", "gbk",
    ),
    _Snapshot(
        SourceFile(_ST_FOLDER, "baostock_stock_basic_2023-03-06.csv",
                   sha256="76918b9579515677fa399ffee6154859dc90bf826913789ffd0debe8633bd29c"),
        "2023-03-06", "baostock", "utf-8",
    ),
)

_LONG_FILE = SourceFile(
    _ST_FOLDER,
    "st_status_snapshots_long.csv",
    sha256="bba22e9ba801fcc98a4acaed24fab5228f479feeaeecfe1e653ea896d899f30f",
)

ST_STATUS_FILES = (_LONG_FILE, *(s.file for s in _SNAPSHOTS))

_LONG_COLUMNS = ["as_of_date", "source_file", "code6", "exchange", "name", "is_st",
                 "is_star_st", "listed", "ipo_date", "out_date"]
_COMPARED = ["code6", "exchange", "name", "is_st", "is_star_st", "listed", "ipo_date",
             "out_date"]


def _read_snapshot(path: Path, snapshot: _Snapshot) -> pd.DataFrame:
    """A raw snapshot in the long table's layout (all text), stocks only."""
    raw = read_csv(path, dtype=str, encoding=snapshot.encoding, keep_default_na=False)
    if snapshot.api == "baostock":
        _require_columns(raw, ["code", "code_name", "ipoDate", "outDate", "type", "status"], path)
        stocks = raw[raw["type"] == "1"]  # README: 1 stock, 2 index, 4 bond, 5 ETF
        frame = pd.DataFrame({
            "code6": stocks["code"].str[3:],
            "exchange": stocks["code"].str[:2].str.upper(),
            "name": stocks["code_name"],
            "listed": stocks["status"],
            "ipo_date": stocks["ipoDate"],
            "out_date": stocks["outDate"],
        })
    else:
        # README: unnamed row-index first column; listed stocks only.
        _require_columns(raw, ["TS代码", "股票代码", "股票名称"], path)
        frame = pd.DataFrame({
            "code6": raw["股票代码"],
            "exchange": raw["TS代码"].str[-2:],
            "name": raw["股票名称"],
            "listed": "1",
            "ipo_date": "",
            "out_date": "",
        })
    frame["is_st"] = frame["name"].str.contains("ST", regex=False).astype(int).astype(str)
    frame["is_star_st"] = frame["name"].str.contains("*ST", regex=False).astype(int).astype(str)
    return frame


def _check_long_table(long_raw: pd.DataFrame, files: FileLocator, long_path: Path) -> None:
    """Refuse a derived long table that does not match the original snapshots."""
    for snapshot in _SNAPSHOTS:
        path = files.path(snapshot.file)
        rebuilt = _read_snapshot(path, snapshot).sort_values("code6").reset_index(drop=True)
        part = long_raw[long_raw["as_of_date"] == snapshot.as_of]
        part = part[_COMPARED].sort_values("code6").reset_index(drop=True)
        if len(part) != len(rebuilt):
            raise DataFormatError(
                f"{long_path}: {len(part)} rows as of {snapshot.as_of}, but {path.name} has "
                f"{len(rebuilt)} stocks."
            )
        diff = (part != rebuilt[_COMPARED]).any(axis=1)
        if diff.any():
            row = part[diff].iloc[0]
            raise DataFormatError(
                f"{long_path}: as of {snapshot.as_of}, code {row['code6']} differs from "
                f"{path.name} ({int(diff.sum())} rows differ)."
            )


def _flag(values: pd.Series, name: str, path: Path) -> pd.Series:
    if not values.isin(["0", "1"]).all():
        raise DataFormatError(f"{path}: column {name!r} must be 0/1.")
    return values == "1"


def read_st_status(files: FileLocator) -> pd.DataFrame:
    """The ST status long table, checked against the four original snapshots.

    Parameters
    ----------
    files : FileLocator
        Resolves :data:`ST_STATUS_FILES`.

    Returns
    -------
    pandas.DataFrame
        One row per (``as_of_date``, ``code``): ``as_of_date`` (datetime64), ``code``
        (``000001.SZ``), ``exchange``, ``name`` (the short name that day), ``is_st``,
        ``is_star_st``, ``listed`` (bool), ``ipo_date``, ``out_date`` (datetime64; NaT for
        the tushare snapshot / still listed), ``source_file``.

    Raises
    ------
    DataFormatError
        A long table that disagrees with the snapshots, or malformed flags/dates.
    SchemaError
        Missing columns or duplicated (date, code) rows.
    """
    path = files.path(_LONG_FILE)
    raw = read_csv(path, dtype=str, keep_default_na=False)
    _require_columns(raw, _LONG_COLUMNS, path)
    _check_long_table(raw, files, path)
    frame = pd.DataFrame({
        "as_of_date": _parse_dates(raw["as_of_date"], path, "%Y-%m-%d"),
        "code": raw["code6"] + "." + raw["exchange"],
        "exchange": raw["exchange"],
        "name": raw["name"],
        "is_st": _flag(raw["is_st"], "is_st", path),
        "is_star_st": _flag(raw["is_star_st"], "is_star_st", path),
        "listed": _flag(raw["listed"], "listed", path),
        "ipo_date": _parse_dates(raw["ipo_date"].replace("", np.nan), path, "%Y-%m-%d"),
        "out_date": _parse_dates(raw["out_date"].replace("", np.nan), path, "%Y-%m-%d"),
        "source_file": raw["source_file"],
    })
    suffix_ok = _normalise_codes(raw["code6"], path) == frame["code"]
    if not suffix_ok.all():
        raise DataFormatError(f"{path}: exchange column disagrees with the code prefix.")
    _refuse_duplicates(frame, ["as_of_date", "code"], path)
    return frame.sort_values(["as_of_date", "code"], kind="stable").reset_index(drop=True)


@register(
    name="cn_st_status",
    kind="lookup",
    description=(
        "ST / *ST (special treatment = distress) status of every SH/SZ stock on four dates "
        "(2020-09-18, 2021-03-09, 2021-06-21, 2023-03-06), from baostock/tushare snapshots."
    ),
    files=ST_STATUS_FILES,
    source=(
        "BaoStock query_stock_basic and tushare Pro stock_basic snapshots found in public "
        "GitHub repositories (see cn_st_status/README.md)"
    ),
    citation=(
        "BaoStock 证券宝 (http://baostock.com); tushare Pro (https://tushare.pro); ST rules: "
        "SSE/SZSE Stock Listing Rules, 退市风险警示/其他风险警示"
    ),
    license=_UNKNOWN_LICENSE,
    documented_rows=17944,
)
def load_cn_st_status(files: FileLocator) -> Loaded:
    """ST status long table, one row per (``as_of_date``, ``code``); no target.

    The derived ``st_status_snapshots_long.csv`` is checked row by row against the four
    original snapshots (GBK / UTF-8) before use.
    """
    frame = read_st_status(files)
    notes = (
        "is_st is a substring test on the name (ST, *ST, SST, S*ST); delisted baostock names "
        "often carry 退 and no ST prefix (cn_st_status/README.md).",
        "No snapshot between 2021-06-21 and 2023-03-06: ST spells that began and ended "
        "inside that gap are invisible (README).",
    )
    return Loaded(frame, None, {}, notes)
