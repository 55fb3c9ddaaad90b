"""Market, macro and lookup datasets: S&P 500 daily prices and constituents, FRED-MD, SHIBOR,
the CSI 300 and SSE 50 indices, and daily bars of the CSI 300 constituents.

Each dataset's quirks are decoded here, in one place, citing its README in
``shared/data/<folder>/README.md``:

* ``sp500_all_stocks_5yr/README.md`` -- ``Name`` is the ticker; ``open`` is missing in 11
  rows, ``high``/``low`` in 8 (kept as NaN: the README documents them, it does not fill
  them); prices are not adjusted for splits or dividends.
* ``sp500_constituents/README.md`` -- take the 2018 list first and fall back to 2017 to get a
  sector for all 505 price-panel tickers; the 2017 file spells ``Telecommunications
  Services``; the 2026 file's ``CIK`` lost its leading zeros and its GICS labels must not be
  mixed with the 2017/2018 ones.
* ``fred_md/README.md`` -- the second line, ``Transform:``, holds the stationarity codes
  1..7; dates are ``M/D/YYYY``; ragged edges are missing values.
* ``cn_market/README.md`` -- SHIBOR is newest-first with an unnamed date column; the SSE 50
  file has a UTF-8 BOM, an unnamed date column and the column order ``open, close, low,
  high``; CSI 300 ``vol`` is documented as lots (手) and ``amount`` as CNY.
* ``cn_csi300_daily/README.md`` -- codes are baostock's ``sh.600000``; ``date`` comes back as
  ``datetime.date`` objects; prices are unadjusted; suspended rows carry null volume.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from riskmoe.config import Settings
from riskmoe.data._dataset import FileLocator, Loaded, SourceFile
from riskmoe.data._registry import register
from riskmoe.data._sources import SourceLocator, sha256_of
from riskmoe.data.readers import read_csv, read_parquet
from riskmoe.exceptions import DataFormatError, SchemaError

__all__ = ["FRED_MD_GROUPS", "baostock_to_exchange_code", "fred_md_transformations"]

# ---------------------------------------------------------------------------------------
# Shared parsing helpers
# ---------------------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{path}: expected columns {missing} are missing; found {list(frame.columns)}."
        )


def _parse_dates(values: pd.Series, path: Path, fmt: str | None = None) -> pd.Series:
    """Parse a date column strictly: an unparseable value is an error, never a NaT."""
    try:
        return pd.to_datetime(values, format=fmt)
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{path}: cannot parse dates ({exc}).") from exc


def _sort_unique(frame: pd.DataFrame, keys: list[str], path: Path) -> pd.DataFrame:
    """Sort by ``keys`` and refuse duplicated keys (a sign of a wrong or doubled file)."""
    dup = frame.duplicated(keys)
    if dup.any():
        first = frame.loc[dup, keys].iloc[0].to_dict()
        raise SchemaError(f"{path}: {int(dup.sum())} duplicated {keys} rows, e.g. {first}.")
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _to_numeric(frame: pd.DataFrame, columns: list[str], path: Path) -> pd.DataFrame:
    for col in columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            try:
                frame[col] = pd.to_numeric(frame[col])
            except (ValueError, TypeError) as exc:
                raise DataFormatError(f"{path}: column {col!r} is not numeric ({exc}).") from exc
    return frame


# ---------------------------------------------------------------------------------------
# S&P 500 daily prices (Kaggle all_stocks_5yr)
# ---------------------------------------------------------------------------------------

_SP500_FILE = SourceFile(
    "sp500_all_stocks_5yr",
    "all_stocks_5yr.parquet",
    sha256="58a3abba3dfcff76fde4bed40cd6e99dc718135169f36376050b51dc486492b0",
)
_PRICE_COLUMNS = ["open", "high", "low", "close"]


@register(
    name="sp500_stocks",
    kind="market",
    description="Daily OHLCV of the 505 S&P 500 members of early 2018, 2013-02-08 to 2018-02-07.",
    files=(_SP500_FILE,),
    source="Kaggle 'S&P 500 stock data' (camnugent/sandp500); prices from the IEX API",
    citation='Nugent, C. (2018). "S&P 500 stock data". Kaggle. '
    "https://www.kaggle.com/datasets/camnugent/sandp500",
    license="MIT (author's repository); Kaggle data license unverified",
    documented_rows=619_040,
)
def load_sp500_stocks(files: FileLocator) -> Loaded:
    """S&P 500 daily prices as a long frame sorted by ``ticker``, ``date``.

    Parameters
    ----------
    files : FileLocator
        Resolves ``sp500_all_stocks_5yr/all_stocks_5yr.parquet``.

    Returns
    -------
    Loaded
        Columns ``date`` (datetime64), ``ticker`` (the source's ``Name``), ``open``,
        ``high``, ``low``, ``close``, ``volume``; no target.

    Raises
    ------
    SchemaError
        If a column is missing or a (ticker, date) pair occurs twice.

    Notes
    -----
    README quirks: the missing ``open`` (11 rows) and ``high``/``low`` (8 rows) stay NaN
    (the README lists them and prescribes no fill); prices are not split- or
    dividend-adjusted; the panel holds only the 2018 members (survivorship bias).
    """
    path = files.path(_SP500_FILE)
    frame = read_parquet(path)
    _require_columns(frame, ["date", *_PRICE_COLUMNS, "volume", "Name"], path)
    frame = frame.rename(columns={"Name": "ticker"})
    frame = frame[["date", "ticker", *_PRICE_COLUMNS, "volume"]].copy()
    frame["date"] = _parse_dates(frame["date"], path)
    frame["ticker"] = frame["ticker"].astype("str")
    frame = _sort_unique(frame, ["ticker", "date"], path)
    missing = {c: int(frame[c].isna().sum()) for c in _PRICE_COLUMNS}
    notes = (
        f"missing prices kept as NaN (README: open 11, high 8, low 8): {missing}.",
        "prices are not adjusted for splits or dividends (README).",
        "survivorship bias: only firms in the index in early 2018 (README).",
    )
    groups = {"prices": tuple(_PRICE_COLUMNS), "volume": ("volume",)}
    return Loaded(frame, None, groups, notes)


# ---------------------------------------------------------------------------------------
# S&P 500 constituents (Open Knowledge datasets/s-and-p-500-companies)
# ---------------------------------------------------------------------------------------


def _constituents_file(name: str, sha256: str) -> SourceFile:
    return SourceFile("sp500_constituents", name, sha256=sha256)


_CONST_2018 = _constituents_file(
    "constituents_2018-04-02.csv",
    "188659fc8b5d8bed325ee906dab17e53df357789707baa97e89f612172f2269d",
)
_CONST_2017 = _constituents_file(
    "constituents_2017-03-08.csv",
    "e08294269ee0f1b05d6ec3f0cae5747da2c2c1adadee42a4a0c09a3c0fdce169",
)
_CONST_2026 = _constituents_file(
    "constituents_2026-08-08.csv",
    "e5325068834c252d333c40c9ac02e3fadf14834c2edb62a024b6206c7a0d17d0",
)
# The 2026 file's columns, kept apart with a ``_2026`` suffix: GICS was revised in 2018, so
# its sector labels must not be mixed with the 2017/2018 ones (README).
_COLUMNS_2026 = {
    "Security": "name_2026",
    "GICS Sector": "gics_sector_2026",
    "GICS Sub-Industry": "gics_sub_industry_2026",
    "Headquarters Location": "headquarters_2026",
    "Date added": "date_added_2026",
    "CIK": "cik",
    "Founded": "founded_2026",
}


def _read_symbol_list(path: Path, columns: list[str]) -> pd.DataFrame:
    frame = read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    _require_columns(frame, columns, path)
    if frame["Symbol"].duplicated().any():
        raise SchemaError(f"{path}: column 'Symbol' is not unique.")
    return frame[columns].set_index("Symbol")


@register(
    name="sp500_constituents",
    kind="lookup",
    description="Name and GICS sector for each of the 505 sp500_stocks tickers (2018 list, "
    "2017 fallback), plus the 2026 list's sub-industry, CIK and date added.",
    files=(_CONST_2018, _CONST_2017, _CONST_2026, _SP500_FILE),
    source="Open Knowledge Foundation, datasets/s-and-p-500-companies (from Wikipedia)",
    citation='Pollock, R. / Open Knowledge Foundation. "S&P 500 Companies Dataset". '
    "https://github.com/datasets/s-and-p-500-companies",
    license="ODC-PDDL-1.0",
    documented_rows=505,
)
def load_sp500_constituents(files: FileLocator) -> Loaded:
    """One row per ``sp500_stocks`` ticker with its name and GICS sector.

    Parameters
    ----------
    files : FileLocator
        Resolves the three ``sp500_constituents`` lists and the price panel (for the
        ticker universe).

    Returns
    -------
    Loaded
        Columns ``ticker``, ``name``, ``sector`` (category, GICS as of 2017/2018),
        ``sector_source`` (``"2018-04-02"`` or ``"2017-03-08"``), then the 2026 list's
        ``name_2026``, ``gics_sector_2026``, ``gics_sub_industry_2026``,
        ``headquarters_2026``, ``date_added_2026`` (datetime64), ``cik`` (10-digit text)
        and ``founded_2026`` (text such as ``"2013 (1888)"``), missing for the tickers not
        in the 2026 index. Sorted by ``ticker``; no target.

    Raises
    ------
    SchemaError
        If a price-panel ticker is in neither the 2018 nor the 2017 list.

    Notes
    -----
    README: 498 tickers match the 2018 list; the other 7 (renamed CBG, HCN, PCLN; deleted
    CHK, PDCO, SIG, SNI) come from the 2017 list. The 2017 spelling ``Telecommunications
    Services`` is harmonised to 2018's ``Telecommunication Services`` (the README's only
    sector disagreement). ``cik`` is zero-padded to 10 digits as SEC EDGAR expects.
    """
    tickers = _price_panel_tickers(files)
    lists = {
        "2018-04-02": _read_symbol_list(files.path(_CONST_2018), ["Symbol", "Name", "Sector"]),
        "2017-03-08": _read_symbol_list(files.path(_CONST_2017), ["Symbol", "Name", "Sector"]),
    }
    frame = _merge_sector_lists(tickers, lists, files.path(_CONST_2017))
    path_2026 = files.path(_CONST_2026)
    extra = _read_symbol_list(path_2026, ["Symbol", *_COLUMNS_2026]).rename(columns=_COLUMNS_2026)
    extra["cik"] = extra["cik"].str.zfill(10)
    extra["date_added_2026"] = _parse_dates(extra["date_added_2026"], path_2026, "%Y-%m-%d")
    frame = frame.join(extra, on="ticker")
    frame["ticker"] = frame["ticker"].astype("str")
    n_2026 = int(frame["name_2026"].notna().sum())
    by_source = frame["sector_source"].value_counts().to_dict()
    notes = (
        f"sector source (2018 list first, 2017 fallback, README): {by_source}.",
        "2017 'Telecommunications Services' harmonised to 'Telecommunication Services'.",
        f"{n_2026} of {len(frame)} tickers are in the 2026 list (README: 355); its GICS "
        "labels (post-2018 revision) are kept in separate *_2026 columns.",
        "snapshots of membership on the version date, not point-in-time histories (README).",
    )
    return Loaded(frame, None, {"classification": ("sector",)}, notes)


def _price_panel_tickers(files: FileLocator) -> pd.Series:
    path = files.path(_SP500_FILE)
    names = read_parquet(path, columns=["Name"])["Name"]
    return pd.Series(sorted(names.unique()), name="ticker", dtype="str")


def _merge_sector_lists(
    tickers: pd.Series, lists: dict[str, pd.DataFrame], path: Path
) -> pd.DataFrame:
    """Take each ticker's name and sector from the first list (in order) that has it."""
    frame = pd.DataFrame({"ticker": tickers})
    for col in ("name", "sector", "sector_source"):
        frame[col] = pd.Series(None, index=frame.index, dtype="str")
    for version, table in lists.items():
        todo = frame["sector"].isna() & frame["ticker"].isin(table.index)
        rows = table.loc[frame.loc[todo, "ticker"]]
        frame.loc[todo, "name"] = rows["Name"].to_numpy()
        frame.loc[todo, "sector"] = rows["Sector"].to_numpy()
        frame.loc[todo, "sector_source"] = version
    unmatched = frame.loc[frame["sector"].isna(), "ticker"].tolist()
    if unmatched:
        raise SchemaError(
            f"{path}: tickers {unmatched} of the price panel are in neither the 2018 nor the "
            "2017 constituents list."
        )
    frame["sector"] = frame["sector"].replace(
        "Telecommunications Services", "Telecommunication Services"
    )
    frame["sector"] = frame["sector"].astype("category")
    return frame


# ---------------------------------------------------------------------------------------
# FRED-MD (McCracken & Ng)
# ---------------------------------------------------------------------------------------

# The St. Louis Fed republishes current.csv every month, so a download is a newer vintage
# than the README's copy: pinning the README's sha256 would reject every download. The
# loader instead compares the file with _FRED_MD_README_SHA256 and says in the notes when
# it reads another vintage (documented_rows then does not apply).
_FRED_MD_URL = (
    "https://www.stlouisfed.org/-/media/project/frbstl/stlouisfed/research/"
    "fred-md/monthly/current.csv"
)
_FRED_MD_README_SHA256 = "cd9a32413bb85f9d1536f6861de160dfc689e4fb374725726cc78fac5c43851e"
_FRED_MD_FILE = SourceFile("fred_md", "current.csv", url=_FRED_MD_URL)

#: FRED-MD's eight groups and their series (McCracken & Ng 2016, data appendix, as updated
#: with the series of the 2024 vintages). The README names the groups but not their
#: members; a series of a later vintage that is not listed here goes to group "other".
FRED_MD_GROUPS: dict[str, tuple[str, ...]] = {
    "output_income": (
        "RPI", "W875RX1", "INDPRO", "IPFPNSS", "IPFINAL", "IPCONGD", "IPDCONGD", "IPNCONGD",
        "IPBUSEQ", "IPMAT", "IPDMAT", "IPNMAT", "IPMANSICS", "IPB51222S", "IPFUELS", "CUMFNS",
    ),
    "labor_market": (
        "HWI", "HWIURATIO", "CLF16OV", "CE16OV", "UNRATE", "UEMPMEAN", "UEMPLT5", "UEMP5TO14",
        "UEMP15OV", "UEMP15T26", "UEMP27OV", "CLAIMSx", "PAYEMS", "USGOOD", "CES1021000001",
        "USCONS", "MANEMP", "DMANEMP", "NDMANEMP", "SRVPRD", "USTPU", "USWTRADE", "USTRADE",
        "USFIRE", "USGOVT", "CES0600000007", "AWOTMAN", "AWHMAN", "CES0600000008",
        "CES2000000008", "CES3000000008",
    ),
    "housing": (
        "HOUST", "HOUSTNE", "HOUSTMW", "HOUSTS", "HOUSTW", "PERMIT", "PERMITNE", "PERMITMW",
        "PERMITS", "PERMITW",
    ),
    "consumption_orders_inventories": (
        "DPCERA3M086SBEA", "CMRMTSPLx", "RETAILx", "ACOGNO", "AMDMNOx", "ANDENOx", "AMDMUOx",
        "BUSINVx", "ISRATIOx", "UMCSENTx",
    ),
    "money_credit": (
        "M1SL", "M2SL", "M2REAL", "BOGMBASE", "TOTRESNS", "NONBORRES", "BUSLOANS", "REALLN",
        "NONREVSL", "CONSPI", "DTCOLNVHFNM", "DTCTHFNM", "INVEST",
    ),
    "interest_exchange_rates": (
        "FEDFUNDS", "CP3Mx", "TB3MS", "TB6MS", "GS1", "GS5", "GS10", "AAA", "BAA", "COMPAPFFx",
        "TB3SMFFM", "TB6SMFFM", "T1YFFM", "T5YFFM", "T10YFFM", "AAAFFM", "BAAFFM",
        "TWEXAFEGSMTHx", "EXSZUSx", "EXJPUSx", "EXUSUKx", "EXCAUSx",
    ),
    "prices": (
        "WPSFD49207", "WPSFD49502", "WPSID61", "WPSID62", "OILPRICEx", "PPICMM", "CPIAUCSL",
        "CPIAPPSL", "CPITRNSL", "CPIMEDSL", "CUSR0000SAC", "CUSR0000SAD", "CUSR0000SAS",
        "CPIULFSL", "CUSR0000SA0L2", "CUSR0000SA0L5", "PCEPI", "DDURRG3M086SBEA",
        "DNDGRG3M086SBEA", "DSERRG3M086SBEA",
    ),
    "stock_market": ("S&P 500", "S&P div yield", "S&P PE ratio", "VIXCLSx"),
}  # fmt: skip

_TRANSFORM_LABEL = "Transform:"


def _read_fred_md(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """The monthly frame (``date`` + series) and the transformation code per series."""
    raw = read_csv(path)
    _require_columns(raw, ["sasdate"], path)
    if len(raw) == 0 or raw["sasdate"].iloc[0] != _TRANSFORM_LABEL:
        raise SchemaError(
            f"{path}: the first row after the header must be the {_TRANSFORM_LABEL!r} row of "
            "FRED-MD transformation codes."
        )
    codes = _transform_codes(raw.iloc[0].drop("sasdate"), path)
    # Official files sometimes end with empty lines of commas: rows with no date.
    body = raw.iloc[1:].dropna(subset=["sasdate"]).rename(columns={"sasdate": "date"})
    body = _to_numeric(body.copy(), list(codes), path)
    # All-integer series (payroll counts, housing starts) become float like the rest, so a
    # vintage with a gap in them has the same dtypes.
    body = body.astype(dict.fromkeys(codes, "float64"))
    body["date"] = _parse_dates(body["date"], path, "%m/%d/%Y")
    return _sort_unique(body, ["date"], path), codes


def _transform_codes(row: pd.Series, path: Path) -> dict[str, int]:
    values = pd.to_numeric(row, errors="coerce")
    bad = values[values.isna() | ~values.isin(range(1, 8))]
    if len(bad):
        raise SchemaError(
            f"{path}: transformation codes must be integers 1..7; got "
            f"{ {k: str(row[k]) for k in bad.index[:5]} }."
        )
    return {str(k): int(v) for k, v in values.items()}


def fred_md_transformations(
    settings: Settings | None = None, path: str | Path | None = None
) -> dict[str, int]:
    """FRED-MD's recommended stationarity transformation code for each series.

    Parameters
    ----------
    settings : Settings, optional
        Where to look for ``fred_md/current.csv`` (defaults to ``Settings()``).
    path : str or Path, optional
        An explicit file or folder, searched first (as in ``load_dataset``).

    Returns
    -------
    dict of str to int
        Series name to code: 1 level, 2 Δx, 3 Δ²x, 4 log x, 5 Δlog x, 6 Δ²log x,
        7 Δ(x_t/x_{t-1} − 1) (``fred_md/README.md``).

    Raises
    ------
    DatasetNotFoundError
        If the file cannot be found.
    SchemaError
        If the ``Transform:`` row is missing or holds a code outside 1..7.
    """
    locator = SourceLocator(
        dataset="fred_md",
        settings=settings if settings is not None else Settings(),
        explicit=Path(path) if path is not None else None,
    )
    file = locator.path(_FRED_MD_FILE)
    head = read_csv(file, nrows=1)
    _require_columns(head, ["sasdate"], file)
    if head["sasdate"].iloc[0] != _TRANSFORM_LABEL:
        raise SchemaError(f"{file}: the {_TRANSFORM_LABEL!r} row is missing.")
    return _transform_codes(head.iloc[0].drop("sasdate"), file)


def _fred_md_groups(series: list[str]) -> dict[str, tuple[str, ...]]:
    groups = {g: tuple(c for c in cols if c in series) for g, cols in FRED_MD_GROUPS.items()}
    known = {c for cols in FRED_MD_GROUPS.values() for c in cols}
    other = tuple(c for c in series if c not in known)
    if other:
        groups["other"] = other
    return {g: cols for g, cols in groups.items() if cols}


@register(
    name="fred_md",
    kind="macro",
    description="FRED-MD: 126 monthly U.S. macro series from 1959-01 (vintage through 2024-07).",
    files=(_FRED_MD_FILE,),
    source="Federal Reserve Bank of St. Louis, FRED-MD "
    "(https://research.stlouisfed.org/econ/mccracken/fred-databases/)",
    citation="McCracken, M. W. & Ng, S. (2016). FRED-MD: A Monthly Database for Macroeconomic "
    "Research. Journal of Business & Economic Statistics 34(4), 574-589.",
    license="unknown (no explicit license; some series are third-party data)",
    documented_rows=787,
)
def load_fred_md(files: FileLocator) -> Loaded:
    """FRED-MD monthly series, untransformed, with the transformation codes in the notes.

    Parameters
    ----------
    files : FileLocator
        Resolves ``fred_md/current.csv``.

    Returns
    -------
    Loaded
        Column ``date`` (datetime64, first of month; the source's ``sasdate``) and one
        float column per series, sorted by date; feature groups are FRED-MD's eight
        groups (:data:`FRED_MD_GROUPS`); no target. The notes hold one ``"tcode
        SERIES=code"`` entry per series; :func:`fred_md_transformations` returns them as
        a dict.

    Raises
    ------
    SchemaError
        If the ``Transform:`` row is missing or a code is outside 1..7.

    Notes
    -----
    README quirks: the ``Transform:`` row is dropped from the data but its codes are kept;
    dates are ``M/D/YYYY``; missing values at the start of some series and the ragged last
    month stay NaN (no fill: imputation is a modelling choice).
    """
    path = files.path(_FRED_MD_FILE)
    frame, codes = _read_fred_md(path)
    last = frame["date"].iloc[-1].strftime("%Y-%m") if len(frame) else "none"
    ragged = [c for c in codes if len(frame) and pd.isna(frame[c].iloc[-1])]
    notes = [
        f"data through {last}; {len(ragged)} series missing in the last month (ragged edge).",
        "values are untransformed; apply the tcode entries (README: 1 level ... 7 "
        "Δ(x_t/x_{t-1} - 1)) before modelling.",
    ]
    if sha256_of(path) != _FRED_MD_README_SHA256:
        notes.append(
            "this file is not the README's vintage (sha256 differs): documented_rows and the "
            "README's counts do not apply."
        )
    notes.extend(f"tcode {col}={code}" for col, code in codes.items())
    return Loaded(frame, None, _fred_md_groups(list(codes)), tuple(notes))


# ---------------------------------------------------------------------------------------
# Chinese market series: SHIBOR, CSI 300 index, SSE 50 index (cn_market)
# ---------------------------------------------------------------------------------------

_CN_MARKET_SOURCE = "cn_market (see shared/data/cn_market/README.md)"
_CN_MARKET_LICENSE = "unknown (official rates / index levels; vendor terms not stated)"

_SHIBOR_FILE = SourceFile(
    "cn_market",
    "shibor_daily_2006_2018.csv",
    sha256="d480d6ac283942f05cb3d7c84d62bf5b7ed6fbcb6090cbf7a8cd6c3472d01390",
)
_SHIBOR_TENORS = ["1D", "1W", "2W", "1M", "3M", "6M", "9M", "1Y"]


@register(
    name="shibor",
    kind="market",
    description="SHIBOR daily fixings, 8 tenors (1D ... 1Y), % p.a., 2006-10-08 to 2018-07-13.",
    files=(_SHIBOR_FILE,),
    source="National Interbank Funding Center, www.shibor.org (via GitHub Alexdachen/ivix)",
    citation="National Interbank Funding Center. Shanghai Interbank Offered Rate (SHIBOR). "
    "http://www.shibor.org",
    license=_CN_MARKET_LICENSE,
    documented_rows=2_943,
)
def load_shibor(files: FileLocator) -> Loaded:
    """SHIBOR fixings sorted oldest first.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_market/shibor_daily_2006_2018.csv``.

    Returns
    -------
    Loaded
        Columns ``date`` (datetime64) and the tenors ``1D``, ``1W``, ``2W``, ``1M``,
        ``3M``, ``6M``, ``9M``, ``1Y`` in % per annum (float); no target.

    Notes
    -----
    README quirks: the file is newest-first (re-sorted here) and its date column has an
    empty header (named ``date`` here); rates are in % p.a., not fractions.
    """
    path = files.path(_SHIBOR_FILE)
    frame = read_csv(path)
    first = frame.columns[0]
    if not str(first).startswith("Unnamed"):
        raise SchemaError(f"{path}: expected an unnamed date column first; got {first!r}.")
    frame = frame.rename(columns={first: "date"})
    _require_columns(frame, _SHIBOR_TENORS, path)
    frame = _to_numeric(frame[["date", *_SHIBOR_TENORS]].copy(), _SHIBOR_TENORS, path)
    frame["date"] = _parse_dates(frame["date"], path, "%Y-%m-%d")
    frame = _sort_unique(frame, ["date"], path)
    notes = ("rates in % per annum (README); file was newest-first, re-sorted oldest first.",)
    return Loaded(frame, None, {"rates": tuple(_SHIBOR_TENORS)}, notes)


_CSI300_FILE = SourceFile(
    "cn_market",
    "csi300_index_daily_2010_2021.csv",
    sha256="18a16a7b5f8c04b529203db821f343bb0cd35a12480467f0c83db9d3f2b0d375",
)
_CSI300_VALUES = ["open", "high", "low", "close", "vol", "amount", "p_change"]


@register(
    name="csi300",
    kind="market",
    description="CSI 300 index (000300) daily bars, 2010-01-05 to 2021-12-01 (tushare format).",
    files=(_CSI300_FILE,),
    source="China Securities Index Co., via tushare (GitHub zongzhicheng/stock)",
    citation="China Securities Index Co. CSI 300 Index (000300). https://www.csindex.com.cn",
    license=_CN_MARKET_LICENSE,
    documented_rows=2_894,
)
def load_csi300(files: FileLocator) -> Loaded:
    """CSI 300 index daily bars sorted by date.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_market/csi300_index_daily_2010_2021.csv``.

    Returns
    -------
    Loaded
        Columns ``date`` (datetime64; the source's ``datetime``), ``code`` (text
        ``"000300"``), ``open``, ``high``, ``low``, ``close``, ``vol``, ``amount`` (CNY),
        ``p_change`` (daily change in %); no target.

    Notes
    -----
    README: ``vol`` is in lots (手) and ``amount`` in CNY. The values are kept as published,
    but the notes report the median ``amount / vol``: about 120,000 CNY per unit, which
    with lots of 100 shares would mean an average share price near 1,200 CNY -- so ``vol``
    is more likely in units of 10,000 shares (100 lots) than in lots.
    """
    path = files.path(_CSI300_FILE)
    frame = read_csv(path, dtype={"code": str})
    _require_columns(frame, ["datetime", "code", *_CSI300_VALUES], path)
    frame = frame.rename(columns={"datetime": "date"})[["date", "code", *_CSI300_VALUES]]
    frame = _to_numeric(frame.copy(), _CSI300_VALUES, path)
    frame["date"] = _parse_dates(frame["date"], path, "%Y-%m-%d")
    frame = _sort_unique(frame, ["date"], path)
    per_unit = float((frame["amount"] / frame["vol"]).median()) if len(frame) else float("nan")
    notes = (
        "README units: vol in lots (手), amount in CNY, p_change in %; values kept as published.",
        f"median amount/vol = {per_unit:,.0f} CNY per vol unit, i.e. {per_unit / 100:,.0f} CNY "
        "per share if a unit were a lot of 100 shares -- implausible for the CSI 300, so vol "
        "looks like units of 10,000 shares; check before converting it.",
    )
    groups = {
        "prices": ("open", "high", "low", "close"),
        "volume": ("vol", "amount"),
        "returns": ("p_change",),
    }
    return Loaded(frame, None, groups, notes)


_SSE50_FILE = SourceFile(
    "cn_market",
    "sse50_index_daily_2005_2021.csv",
    sha256="1a8ce6b7a8c902bb653b6302977b51335abbebd28e9f75e7edc1fa5443d41996",
)
_SSE50_VALUES = ["open", "high", "low", "close", "volume", "money", "factor", "pre_close"]


@register(
    name="sse50",
    kind="market",
    description="SSE 50 index (000016) daily bars, 2005-01-04 to 2021-08-13 (JoinQuant format).",
    files=(_SSE50_FILE,),
    source="China Securities Index Co. / SSE, via JoinQuant (GitHub transformeris/elastic_net_fin)",
    citation="Shanghai Stock Exchange / China Securities Index Co. SSE 50 Index (000016).",
    license=_CN_MARKET_LICENSE,
    documented_rows=4_039,
)
def load_sse50(files: FileLocator) -> Loaded:
    """SSE 50 index daily bars sorted by date, columns in OHLC order.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_market/sse50_index_daily_2005_2021.csv``.

    Returns
    -------
    Loaded
        Columns ``date`` (datetime64), ``open``, ``high``, ``low``, ``close``, ``volume``
        (shares), ``money`` (CNY), ``factor`` (JoinQuant adjustment factor) and
        ``pre_close``; no target.

    Notes
    -----
    README quirks: a UTF-8 BOM (read as ``utf-8-sig``), an unnamed first (date) column, and
    the source column order ``open, close, low, high`` (reordered to OHLC by name).
    """
    path = files.path(_SSE50_FILE)
    frame = read_csv(path, encoding="utf-8-sig")
    first = frame.columns[0]
    if not str(first).startswith("Unnamed"):
        raise SchemaError(f"{path}: expected an unnamed date column first; got {first!r}.")
    frame = frame.rename(columns={first: "date"})
    _require_columns(frame, _SSE50_VALUES, path)
    frame = _to_numeric(frame[["date", *_SSE50_VALUES]].copy(), _SSE50_VALUES, path)
    frame["date"] = _parse_dates(frame["date"], path, "%Y-%m-%d")
    frame = _sort_unique(frame, ["date"], path)
    notes = ("source column order open, close, low, high reordered to OHLC (README).",)
    groups = {
        "prices": ("open", "high", "low", "close", "pre_close"),
        "volume": ("volume", "money"),
    }
    return Loaded(frame, None, groups, notes)


# ---------------------------------------------------------------------------------------
# CSI 300 constituents, daily bars (baostock)
# ---------------------------------------------------------------------------------------

_CN_CSI300_FILE = SourceFile(
    "cn_csi300_daily",
    "csi300_daily_baostock_2020_2025.parquet",
    sha256="84fddfbd49f57cdb09edf422f06df37ce1d4596f516b59f60b37b9df8d85e937",
)
_BAOSTOCK_CODE = re.compile(r"^(sh|sz|bj)\.\d{6}$")
_CN_CSI300_FLOATS = [
    "open", "high", "low", "close", "preclose", "amount", "turn", "pctChg",
    "peTTM", "psTTM", "pcfNcfTTM", "pbMRQ",
]  # fmt: skip
_CN_CSI300_FLAGS = ["adjustflag", "tradestatus", "isST"]


def baostock_to_exchange_code(codes: pd.Series) -> pd.Series:
    """Convert baostock codes (``sh.600519``) to the ``600519.SH`` form.

    Parameters
    ----------
    codes : pandas.Series
        Text codes ``sh.XXXXXX``, ``sz.XXXXXX`` or ``bj.XXXXXX``.

    Returns
    -------
    pandas.Series
        String dtype, ``XXXXXX.SH`` / ``.SZ`` / ``.BJ``.

    Raises
    ------
    SchemaError
        If a code is not in baostock form.

    Examples
    --------
    >>> import pandas as pd
    >>> baostock_to_exchange_code(pd.Series(["sh.600519", "sz.000001"])).tolist()
    ['600519.SH', '000001.SZ']
    """
    codes = codes.astype("str")
    bad = codes[~codes.str.fullmatch(_BAOSTOCK_CODE.pattern, na=False)]
    if len(bad):
        raise SchemaError(f"codes must look like 'sh.600519'; got {bad.unique()[:5].tolist()}.")
    return codes.str.slice(3) + "." + codes.str.slice(0, 2).str.upper()


@register(
    name="cn_csi300_stocks",
    kind="market",
    description="Daily bars, turnover, valuation ratios and ST flag of the 300 CSI 300 stocks, "
    "2020-01-02 to 2025-04-07 (baostock, unadjusted).",
    files=(_CN_CSI300_FILE,),
    source="BaoStock (http://baostock.com), query_history_k_data_plus, adjustflag=3; "
    "via GitHub wywzxxz/proof-that-stock-is-predictable",
    citation="BaoStock (证券宝). A-share daily k-line data. http://baostock.com",
    license="unknown (BaoStock publishes no redistribution terms)",
    documented_rows=369_338,
)
def load_cn_csi300_stocks(files: FileLocator) -> Loaded:
    """Daily bars of the CSI 300 constituents, sorted by ``code``, ``date``.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_csi300_daily/csi300_daily_baostock_2020_2025.parquet``.

    Returns
    -------
    Loaded
        Columns ``date`` (datetime64), ``code`` (text, ``600519.SH`` form),
        ``baostock_code`` (the source's ``sh.600519``), the float prices, ``volume``
        (nullable Int64, shares), ``amount``, ``turn``, ``pctChg``, the four valuation
        ratios, and ``adjustflag``, ``tradestatus``, ``isST`` as int8; no target.

    Notes
    -----
    README quirks: ``date`` arrives as ``datetime.date`` objects (converted); prices are
    unadjusted (use ``pctChg`` for returns); 712 suspended rows (``tradestatus`` 0) carry
    the last close and 221 of them null ``volume``/``amount``/``pctChg`` (kept null); the
    valuation ratios are null for every stock on 2023-12-11; survivorship: the list is the
    index membership at download time.
    """
    path = files.path(_CN_CSI300_FILE)
    frame = read_parquet(path)
    _require_columns(frame, ["date", "code", *_CN_CSI300_FLOATS, "volume", *_CN_CSI300_FLAGS], path)
    frame = frame.rename(columns={"code": "baostock_code"})
    frame.insert(1, "code", baostock_to_exchange_code(frame["baostock_code"]))
    frame["baostock_code"] = frame["baostock_code"].astype("str")
    frame["date"] = _parse_dates(frame["date"], path)
    frame = _to_numeric(frame, _CN_CSI300_FLOATS, path)
    frame["volume"] = frame["volume"].astype("Int64")
    for col in _CN_CSI300_FLAGS:
        if frame[col].isna().any():
            raise SchemaError(f"{path}: flag column {col!r} has missing values.")
        frame[col] = frame[col].astype("int8")
    frame = _sort_unique(frame, ["code", "date"], path)
    notes = (
        "prices unadjusted (README): use pctChg for returns; preclose differs from the "
        "previous close on ex-rights days.",
        f"{int((frame['tradestatus'] == 0).sum())} suspended rows (README: 712); "
        f"{int(frame['volume'].isna().sum())} with null volume (README: 221), kept null.",
        "valuation ratios null for all stocks on 2023-12-11 (BaoStock gap, README).",
        "survivorship: stock list is the index membership at download time (README).",
    )
    groups = {
        "prices": ("open", "high", "low", "close", "preclose"),
        "trading": ("volume", "amount", "turn"),
        "returns": ("pctChg",),
        "valuation": ("peTTM", "psTTM", "pcfNcfTTM", "pbMRQ"),
        "status": ("tradestatus", "isST"),
    }
    return Loaded(frame, None, groups, notes)
