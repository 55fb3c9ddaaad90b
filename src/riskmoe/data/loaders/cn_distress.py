"""Chinese A-share corporate distress: FY t financial ratios -> ST / *ST or delisting in the
next reporting season.

Built from ``cn_financials`` (FinGLM statements, FY 2019-2021) and ``cn_st_status`` (dated
ST snapshots), parsed by the functions of :mod:`riskmoe.data.loaders.cn_corporate`; report
publication dates come from the FinGLM annual-report file names
(``cn_listed_companies/finglm_annual_report_filenames.txt``).

Timeline (``cn_st_status/README.md``, table "Distress labels for the FinGLM panel")
------------------------------------------------------------------------------------
::

    Dec 31 t        fiscal year t closes
    Jan-Jun t+1     FY t annual report published (report_date)      -> features (FY t only)
    eligible_on     window-start snapshot, after report_date:
                    listed and not ST                                -> row kept
    Jan-Apr t+2     FY t+1 reports published; ST / *ST follows them
    observed_on     window-end snapshot: ST / *ST, or delisted       -> distress = 1

    FY 2019: report_date < eligible_on 2021-03-09, observed_on 2021-06-21
    FY 2020: report_date < eligible_on 2021-06-21, observed_on 2023-03-06

Caveats of the snapshots (README): 2021-03-09 falls inside the FY 2020 season, so a firm
made ST by a report published before that day counts as already ST and is excluded; the
FY 2020 window spans 2021-06-21 to 2023-03-06, so it also catches ST designations outside
the FY 2021 season, and misses ST spells that began and ended inside it.

Why the *next* season: ST is triggered mechanically by the annual report itself (two
consecutive losses, negative equity), so a label in the season right after the FY t report
is almost determined by FY t numbers (README, "Label leakage"). FY 2021 rows are not
labelled: no snapshot follows the FY 2022 season.

Alignment on publication, not Dec 31 (``cn_financial_statements_finglm/README.md``): a row is
kept only if its FY t report was published strictly before ``eligible_on``; the t-1 values
used for growth must be too. Some FinGLM reports are corrected versions published a year or
more later (e.g. 000523 FY2019 on 2022-04-30); with the default ``late_reports="drop"``
those company-years are left out, because their numbers were not public when the label
window opened. ``late_reports="keep"`` keeps them and reproduces the README's counts but for
the two absorbed firms below.

Labels per year (positives / eligible company-years)::

    FY    README                "keep"                "drop" (default)
    2019  51 / 3,188 (1.60 %)   51 / 3,188 (1.60 %)   49 / 3,138 (1.56 %)
    2020  52 / 3,646 (1.43 %)   50 / 3,644 (1.37 %)   42 / 3,535 (1.19 %)

"drop" leaves out 50 FY2019 rows (2 positive) published on or after 2021-03-09 and 109
FY2020 rows (8 positive) published on or after 2021-06-21.

Late and corrected reports are far more often followed by ST (10 of 159, 6.3 %, against
1.4 %): "drop" removes some of the easiest positives, which is the honest cost of using
only what was public when the window opened.

Eligible = present in the ``eligible_on`` snapshot, listed and not ST (the README's 193
FY2019 / 161 FY2020 already-ST rows are excluded); positive = ST in the ``observed_on``
snapshot, or delisted (baostock ``listed = 0``, or absent from the 2021 tushare list of
listed stocks). A delisting whose baostock name carries neither ``ST`` nor ``退`` (the
README: distressed delisted names carry ``退``) is an absorption, not a default: 600068
葛洲坝 (absorbed by 中国能建, 2021-09) and 600723 首商股份 (by 王府井, 2021-10), both FY2020.
The README counts them as positives; here they are left out as censored (their outcome
is unknown), which is the whole difference between "keep" and the README. Companies that
filed under a B-share code are absent from the snapshots (stocks only, README) and
therefore never eligible, as in the README's counts.

Features (all from FY t; growth and ``net_loss_prior_year`` also from t-1) are defined in
:data:`FEATURE_DEFINITIONS`. A ratio is NaN when an input is missing or its denominator is
not positive (revenue, assets, liabilities, equity), so nothing is infinite. The balance
sheet has four totals only (README): no receivable, inventory or payable turnover and no
interest coverage (``利息支出`` is missing in 97 % of rows), so ``activity_turnover`` holds
asset and current-asset turnover, on year-end balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from riskmoe.data._dataset import FileLocator, Loaded
from riskmoe.data._registry import register
from riskmoe.data.loaders.cn_corporate import (
    FINANCIAL_FILES,
    ST_STATUS_FILES,
    read_financial_statements,
    read_st_status,
)
from riskmoe.exceptions import DataError

__all__ = [
    "FEATURE_DEFINITIONS",
    "FEATURE_GROUPS",
    "LABEL_WINDOWS",
    "RAW_TOTALS",
    "DistressPanel",
    "LabelWindow",
    "build_distress_panel",
    "compute_features",
    "label_window",
]

LateReports = Literal["drop", "keep"]


@dataclass(frozen=True)
class LabelWindow:
    """The ST snapshots that label the statements of one fiscal year.

    Attributes
    ----------
    fiscal_year : int
        Year ``t`` of the statements used as features.
    eligible_on : str
        Snapshot at which a firm must be listed and not ST (window start).
    observed_on : str
        Snapshot at which ST / delisting is observed (window end).
    readme_eligible, readme_positives : int
        The counts ``cn_st_status/README.md`` verified for this window.
    """

    fiscal_year: int
    eligible_on: str
    observed_on: str
    readme_eligible: int
    readme_positives: int


#: The README's "t+1 season" windows.
LABEL_WINDOWS = (
    LabelWindow(2019, "2021-03-09", "2021-06-21", readme_eligible=3188, readme_positives=51),
    LabelWindow(2020, "2021-06-21", "2023-03-06", readme_eligible=3646, readme_positives=52),
)

#: Column -> formula (FinGLM items by their ``cn_financials`` names). ``revenue`` is
#: ``operating_revenue`` (营业收入), or ``total_operating_revenue`` (营业总收入) where the
#: former is missing.
FEATURE_DEFINITIONS: dict[str, str] = {
    "gross_margin": "(revenue - cost_of_sales) / revenue",
    "operating_margin": "operating_profit / revenue",
    "net_margin": "net_profit / revenue",
    "roa": "net_profit / total_assets",
    "roe": "net_profit / total_equity (NaN when equity <= 0)",
    "net_loss": "1 if net_profit < 0 else 0",
    "loss_and_revenue_under_100m": (
        "1 if net_profit < 0 and revenue < 100 million CNY (the *ST test of the 2020 Listing "
        "Rules, with net profit standing in for profit after non-recurring items)"
    ),
    "net_loss_prior_year": (
        "1 if net_profit(t-1) < 0 (consecutive losses: the classic ST trigger, README)"
    ),
    "current_ratio": "total_current_assets / total_current_liabilities",
    "working_capital_to_assets": (
        "(total_current_assets - total_current_liabilities) / total_assets"
    ),
    "cash_to_current_liabilities": "cash_and_equivalents_end / total_current_liabilities",
    "liabilities_to_assets": "total_liabilities / total_assets",
    "equity_to_assets": "total_equity / total_assets",
    "current_liabilities_to_liabilities": "total_current_liabilities / total_liabilities",
    "negative_equity": "1 if total_equity < 0 else 0",
    "financial_expenses_to_revenue": "financial_expenses / revenue",
    "asset_turnover": "revenue / total_assets (year-end)",
    "current_asset_turnover": "revenue / total_current_assets (year-end)",
    "ocf_to_current_liabilities": "net_operating_cash_flow / total_current_liabilities",
    "ocf_to_liabilities": "net_operating_cash_flow / total_liabilities",
    "ocf_to_revenue": "net_operating_cash_flow / revenue",
    "accruals_to_assets": "(net_profit - net_operating_cash_flow) / total_assets",
    "free_cash_flow_to_assets": "(net_operating_cash_flow - capital_expenditure) / total_assets",
    "revenue_growth": "revenue / revenue(t-1) - 1 (NaN when revenue(t-1) <= 0)",
    "net_profit_growth": "(net_profit - net_profit(t-1)) / |net_profit(t-1)|",
    "total_assets_growth": "total_assets / total_assets(t-1) - 1",
    "log_total_assets": "ln(total_assets)",
    "log_revenue": "ln(revenue) (NaN when revenue <= 0)",
}

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "profitability": ("gross_margin", "operating_margin", "net_margin", "roa", "roe",
                      "net_loss", "loss_and_revenue_under_100m", "net_loss_prior_year"),
    "liquidity": ("current_ratio", "working_capital_to_assets", "cash_to_current_liabilities"),
    "leverage": ("liabilities_to_assets", "equity_to_assets",
                 "current_liabilities_to_liabilities", "negative_equity",
                 "financial_expenses_to_revenue"),
    "activity_turnover": ("asset_turnover", "current_asset_turnover"),
    "cash_flow": ("ocf_to_current_liabilities", "ocf_to_liabilities", "ocf_to_revenue",
                  "accruals_to_assets", "free_cash_flow_to_assets"),
    "growth": ("revenue_growth", "net_profit_growth", "total_assets_growth"),
    "size": ("log_total_assets", "log_revenue"),
}

#: FY t totals kept beside the ratios (for audit; not in a feature group).
RAW_TOTALS = ("revenue", "net_profit", "total_assets", "total_liabilities", "total_equity",
              "net_operating_cash_flow")

_KEYS = ["code", "fiscal_year"]
_DATES = ["report_date", "eligible_on", "observed_on"]
_PRIOR_ITEMS = ["revenue", "net_profit", "total_assets", "report_date"]
_LISTING_RULE_REVENUE = 1e8  # CNY; SSE/SZSE Listing Rules (2020 revision), *ST revenue test

# ---------------------------------------------------------------------------------------
# Ratio arithmetic
# ---------------------------------------------------------------------------------------


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator`` where the denominator is positive, else NaN."""
    out = numerator / denominator.where(denominator > 0)
    return out.where(np.isfinite(out))


def _indicator(condition: pd.Series, *inputs: pd.Series) -> pd.Series:
    """1.0 / 0.0, NaN where any input is missing."""
    known = pd.concat(inputs, axis=1).notna().all(axis=1)
    return condition.astype("float64").where(known)


def _log_positive(values: pd.Series) -> pd.Series:
    return np.log(values.where(values > 0))


# ---------------------------------------------------------------------------------------
# Feature groups, one function each (s = one row per company-year)
# ---------------------------------------------------------------------------------------


def _profitability(s: pd.DataFrame) -> pd.DataFrame:
    rev, ni = s["revenue"], s["net_profit"]
    return pd.DataFrame({
        "gross_margin": _ratio(rev - s["cost_of_sales"], rev),
        "operating_margin": _ratio(s["operating_profit"], rev),
        "net_margin": _ratio(ni, rev),
        "roa": _ratio(ni, s["total_assets"]),
        "roe": _ratio(ni, s["total_equity"]),
        "net_loss": _indicator(ni < 0, ni),
        "loss_and_revenue_under_100m": _indicator(
            (ni < 0) & (rev < _LISTING_RULE_REVENUE), ni, rev
        ),
        "net_loss_prior_year": _indicator(s["prior_net_profit"] < 0, s["prior_net_profit"]),
    })


def _liquidity(s: pd.DataFrame) -> pd.DataFrame:
    ca, cl = s["total_current_assets"], s["total_current_liabilities"]
    return pd.DataFrame({
        "current_ratio": _ratio(ca, cl),
        "working_capital_to_assets": _ratio(ca - cl, s["total_assets"]),
        "cash_to_current_liabilities": _ratio(s["cash_and_equivalents_end"], cl),
    })


def _leverage(s: pd.DataFrame) -> pd.DataFrame:
    ta, tl, eq = s["total_assets"], s["total_liabilities"], s["total_equity"]
    return pd.DataFrame({
        "liabilities_to_assets": _ratio(tl, ta),
        "equity_to_assets": _ratio(eq, ta),
        "current_liabilities_to_liabilities": _ratio(s["total_current_liabilities"], tl),
        "negative_equity": _indicator(eq < 0, eq),
        "financial_expenses_to_revenue": _ratio(s["financial_expenses"], s["revenue"]),
    })


def _activity_turnover(s: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "asset_turnover": _ratio(s["revenue"], s["total_assets"]),
        "current_asset_turnover": _ratio(s["revenue"], s["total_current_assets"]),
    })


def _cash_flow(s: pd.DataFrame) -> pd.DataFrame:
    ocf, ta = s["net_operating_cash_flow"], s["total_assets"]
    return pd.DataFrame({
        "ocf_to_current_liabilities": _ratio(ocf, s["total_current_liabilities"]),
        "ocf_to_liabilities": _ratio(ocf, s["total_liabilities"]),
        "ocf_to_revenue": _ratio(ocf, s["revenue"]),
        "accruals_to_assets": _ratio(s["net_profit"] - ocf, ta),
        "free_cash_flow_to_assets": _ratio(ocf - s["capital_expenditure"], ta),
    })


def _growth(s: pd.DataFrame) -> pd.DataFrame:
    prior_ni = s["prior_net_profit"]
    return pd.DataFrame({
        "revenue_growth": _ratio(s["revenue"], s["prior_revenue"]) - 1.0,
        "net_profit_growth": _ratio(s["net_profit"] - prior_ni, prior_ni.abs()),
        "total_assets_growth": _ratio(s["total_assets"], s["prior_total_assets"]) - 1.0,
    })


def _size(s: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "log_total_assets": _log_positive(s["total_assets"]),
        "log_revenue": _log_positive(s["revenue"]),
    })


_GROUP_BUILDERS = {
    "profitability": _profitability,
    "liquidity": _liquidity,
    "leverage": _leverage,
    "activity_turnover": _activity_turnover,
    "cash_flow": _cash_flow,
    "growth": _growth,
    "size": _size,
}


def compute_features(rows: pd.DataFrame) -> pd.DataFrame:
    """All of :data:`FEATURE_GROUPS` for company-years with their (masked) t-1 values.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``cn_financials`` columns plus ``revenue`` and ``prior_revenue``,
        ``prior_net_profit``, ``prior_total_assets`` (NaN where t-1 is unavailable).

    Returns
    -------
    pandas.DataFrame
        One float64 column per feature, same index as ``rows``.

    Examples
    --------
    >>> s = pd.DataFrame({"revenue": [100.0, 0.0], "cost_of_sales": [60.0, 5.0],
    ...                   "operating_profit": [10.0, -5.0], "net_profit": [8.0, -5.0],
    ...                   "total_assets": [200.0, 50.0], "total_equity": [80.0, -1.0],
    ...                   "prior_net_profit": [4.0, np.nan]})
    >>> _profitability(s)[["gross_margin", "roe", "net_loss"]]
       gross_margin  roe  net_loss
    0           0.4  0.1       0.0
    1           NaN  NaN       1.0
    """
    parts = [_GROUP_BUILDERS[g](rows) for g in FEATURE_GROUPS]
    return pd.concat(parts, axis=1).astype("float64")


# ---------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------


def _status_on(status: pd.DataFrame, date: str) -> pd.DataFrame:
    day = status[status["as_of_date"] == pd.Timestamp(date)]
    if day.empty:
        raise DataError(f"cn_st_status has no snapshot on {date}.")
    return day.set_index("code")[["listed", "is_st", "name"]]


def label_window(
    statements: pd.DataFrame, status: pd.DataFrame, window: LabelWindow
) -> pd.DataFrame:
    """Eligible company-years of one window and their ``distress`` label.

    Parameters
    ----------
    statements : pandas.DataFrame
        Output of :func:`~riskmoe.data.loaders.cn_corporate.read_financial_statements`.
    status : pandas.DataFrame
        Output of :func:`~riskmoe.data.loaders.cn_corporate.read_st_status`.
    window : LabelWindow

    Returns
    -------
    pandas.DataFrame
        ``code``, ``fiscal_year``, ``report_date``, ``eligible_on``, ``observed_on``,
        ``distress`` (int8) and ``merged_away`` (bool) for every FY ``window.fiscal_year``
        company listed and not ST on ``eligible_on``, regardless of when its report was
        published. ``merged_away`` marks a delisting whose name carries neither ``ST`` nor
        ``退`` (absorption by another listed company, e.g. 600068 葛洲坝 in 2021); such a
        row has ``distress = 0`` and should be dropped as censored.
    """
    rows = statements.loc[statements["fiscal_year"] == window.fiscal_year, _KEYS + ["report_date"]]
    start = _status_on(status, window.eligible_on).reindex(rows["code"])
    end = _status_on(status, window.observed_on).reindex(rows["code"])
    eligible = (start["listed"].eq(True) & start["is_st"].eq(False)).to_numpy()
    is_st = end["is_st"].eq(True)
    delisted = end["listed"].ne(True)  # absent from the 2021 tushare list = delisted
    # README: baostock names of stocks delisted for distress carry 退 (or still *ST); a
    # delisting without either is a merger, not a default.
    marked = end["name"].str.contains("ST|退", regex=True).fillna(False).astype(bool)
    merged_away = (delisted & end["listed"].notna() & ~marked & ~is_st).to_numpy()
    positive = ((is_st | delisted).to_numpy()) & ~merged_away
    out = rows.loc[eligible].copy()
    out["eligible_on"] = pd.Timestamp(window.eligible_on)
    out["observed_on"] = pd.Timestamp(window.observed_on)
    out["distress"] = positive[eligible].astype("int8")
    out["merged_away"] = merged_away[eligible]
    return out


def _with_prior_year(statements: pd.DataFrame) -> pd.DataFrame:
    """Attach t-1 revenue, net profit, total assets and report date to each company-year."""
    prior = statements[_KEYS + _PRIOR_ITEMS].copy()
    prior["fiscal_year"] += 1
    prior = prior.rename(columns={c: f"prior_{c}" for c in _PRIOR_ITEMS})
    return statements.merge(prior, on=_KEYS, how="left", validate="1:1")


def _mask_unpublished_prior(rows: pd.DataFrame) -> pd.DataFrame:
    """t-1 values count only if the t-1 report was out before the window opened."""
    unpublished = ~(rows["prior_report_date"] < rows["eligible_on"])
    for item in ("revenue", "net_profit", "total_assets"):
        rows[f"prior_{item}"] = rows[f"prior_{item}"].mask(unpublished)
    return rows


class DistressPanel(NamedTuple):
    """What :func:`build_distress_panel` returns."""

    frame: pd.DataFrame
    #: Eligible company-years left out because the firm was absorbed (``code``,
    #: ``fiscal_year``): delisted without distress, so its outcome is unknown (censored).
    merged_away: pd.DataFrame


def build_distress_panel(
    statements: pd.DataFrame, status: pd.DataFrame, *, late_reports: LateReports = "drop"
) -> DistressPanel:
    """Labelled company-years of every :data:`LABEL_WINDOWS` window with their features.

    Parameters
    ----------
    statements, status : pandas.DataFrame
        As for :func:`label_window`.
    late_reports : {"drop", "keep"}
        ``"drop"`` leaves out company-years whose FY t report was published on or after
        ``eligible_on`` and ignores t-1 values published that late; ``"keep"`` keeps both
        (the README's counts; features may then postdate the window start).

    Returns
    -------
    DistressPanel
        ``frame``: ``code``, ``fiscal_year``, ``report_date``, ``eligible_on``,
        ``observed_on``, the features of :data:`FEATURE_GROUPS`, :data:`RAW_TOTALS` and
        ``distress``; ``merged_away``: the censored company-years left out.
    """
    if late_reports not in ("drop", "keep"):
        raise DataError(f"late_reports must be 'drop' or 'keep'; got {late_reports!r}.")
    items = statements.copy()
    items["revenue"] = items["operating_revenue"].fillna(items["total_operating_revenue"])
    items = _with_prior_year(items)
    labels = pd.concat([label_window(statements, status, w) for w in LABEL_WINDOWS])
    rows = labels.merge(items.drop(columns="report_date"), on=_KEYS, validate="1:1")
    if late_reports == "drop":
        rows = rows[rows["report_date"] < rows["eligible_on"]].copy()
        rows = _mask_unpublished_prior(rows)
    merged_away = rows.loc[rows["merged_away"], _KEYS].reset_index(drop=True)
    rows = rows[~rows["merged_away"]]
    features = compute_features(rows)
    frame = pd.concat(
        [rows[_KEYS + _DATES], features, rows[list(RAW_TOTALS)], rows[["distress"]]], axis=1
    )
    return DistressPanel(frame.sort_values(_KEYS, kind="stable").reset_index(drop=True),
                         merged_away)


def _count_notes(panel: DistressPanel, late_reports: LateReports) -> tuple[str, ...]:
    frame, notes = panel.frame, []
    for w in LABEL_WINDOWS:
        year = frame[frame["fiscal_year"] == w.fiscal_year]
        n, pos = len(year), int(year["distress"].sum())
        notes.append(
            f"FY{w.fiscal_year} (eligible {w.eligible_on}, observed {w.observed_on}): "
            f"{pos}/{n} distressed ({pos / n:.2%}); README: {w.readme_positives}/"
            f"{w.readme_eligible}."
        )
    absorbed = ", ".join(f"{c} FY{y}" for c, y in panel.merged_away.itertuples(index=False))
    notes.append(
        f"left out as censored (delisted by absorption, no ST/退 in the name): {absorbed}; "
        "the README counts them as positives."
    )
    if late_reports == "drop":
        notes.append(
            "late_reports='drop': company-years whose report was published on or after the "
            "window start are left out (corrected/late reports; see the module docstring)."
        )
    else:
        notes.append(
            "late_reports='keep': some features come from reports published after the window "
            "start (and a few after the label date) -- not for honest evaluation."
        )
    return tuple(notes)


@register(
    name="cn_distress",
    kind="corporate",
    description=(
        "A-share distress: FY2019/2020 ratios (FinGLM statements) -> newly ST/*ST or "
        "delisted after the next reporting season (ST snapshots), aligned on publication."
    ),
    files=(*FINANCIAL_FILES, *ST_STATUS_FILES),
    source=(
        "Derived: MetaGLM/FinGLM annual-report statements (cn_financial_statements_finglm) "
        "labelled with BaoStock/tushare ST snapshots (cn_st_status)"
    ),
    citation=(
        "MetaGLM/FinGLM, https://github.com/MetaGLM/FinGLM (SMP 2023 ChatGLM 金融大模型挑战赛); "
        "BaoStock 证券宝 (http://baostock.com); tushare Pro (https://tushare.pro)"
    ),
    license="unknown (no license stated by the sources; annual reports and ST status are public)",
    documented_rows=6673,
    options={"late_reports": ("drop", "keep")},
)
def load_cn_distress(files: FileLocator, late_reports: LateReports = "drop") -> Loaded:
    """Distress panel: one row per eligible (``code``, ``fiscal_year``), target ``distress``.

    See the module docstring for the timeline, the counts against the README and the
    feature definitions.
    """
    statements = read_financial_statements(files)
    status = read_st_status(files)
    panel = build_distress_panel(statements, status, late_reports=late_reports)
    notes = _count_notes(panel, late_reports)
    return Loaded(panel.frame, "distress", dict(FEATURE_GROUPS), notes)
