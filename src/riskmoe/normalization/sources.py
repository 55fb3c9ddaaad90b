"""Where the entity base comes from: the registered datasets, or the bundled fallback.

Resolution order (DESIGN.md, data policy): each dataset is loaded through
:func:`riskmoe.data.load_dataset` (explicit path > ``RISKMOE_DATA_DIR`` > ``../shared/data``
> download); when a dataset cannot be found, the small lists bundled in
``riskmoe/normalization/bundled`` stand in (see its ``ATTRIBUTION.md``):

* ``cn_listed_companies`` -> ``adata_stock_codes.csv`` (code, short name, listing date;
  from the ``adata`` wheel, Apache-2.0);
* ``sp500_constituents`` -> ``sp500_constituents.csv`` (ticker, name, sector; ODC-PDDL);
* ``cn_st_status`` (former names only) -> nothing; the base simply has no former names.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pandas as pd

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data.loaders.cn_corporate import normalise_code
from riskmoe.exceptions import DataFormatError, DatasetNotFoundError

__all__ = [
    "EntitySources",
    "load_bundled_companies",
    "load_bundled_sp500",
    "load_entity_sources",
]

_ADATA_FILE = "adata_stock_codes.csv"
_SP500_FILE = "sp500_constituents.csv"


@dataclass(frozen=True)
class EntitySources:
    """The frames an :class:`~riskmoe.normalization.EntityBase` is built from.

    Attributes
    ----------
    companies : pandas.DataFrame
        Chinese listed companies, ``cn_listed_companies`` columns (at least ``code``,
        ``short_name``; the bundled list has only those and ``list_date``).
    sp500 : pandas.DataFrame
        ``ticker``, ``name``, ``sector`` and, when known, ``name_2026``.
    st_history : pandas.DataFrame or None
        ``cn_st_status`` snapshots (``code``, ``name``, ``as_of_date``, ``listed``), the
        source of former names and of delisted companies.
    origins : dict
        For each dataset, where it came from (``"shared"``, ``"bundled"`` ...).
    """

    companies: pd.DataFrame
    sp500: pd.DataFrame
    st_history: pd.DataFrame | None = None
    origins: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON summary (row counts and origins)."""
        return {
            "companies": len(self.companies),
            "sp500": len(self.sp500),
            "st_history": None if self.st_history is None else len(self.st_history),
            "origins": dict(self.origins),
        }


def _bundled_path(name: str) -> Any:
    return resources.files("riskmoe.normalization").joinpath("bundled").joinpath(name)


def load_bundled_companies() -> pd.DataFrame:
    """The bundled A/B-share list (``adata`` 2.9.5), cleaned.

    Short names are NFKC-normalised and lose padding spaces (``万  科Ａ`` -> ``万科A``), codes
    get their exchange suffix (``000002`` -> ``000002.SZ``), listing dates are parsed (empty
    for delisted companies).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``short_name``, ``list_date``, ``exchange``, ``sources`` (``"adata"``).

    Raises
    ------
    DataFormatError
        If the bundled file is damaged (a code that is not 6 digits, a missing column).
    """
    text = _bundled_path(_ADATA_FILE).read_text(encoding="utf-8")
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    expected = ["stock_code", "short_name", "list_date2"]
    if list(raw.columns) != expected:
        raise DataFormatError(
            f"bundled {_ADATA_FILE}: expected columns {expected}; found {list(raw.columns)}."
        )
    codes = raw["stock_code"].map(normalise_code)
    names = raw["short_name"].map(
        lambda v: re.sub(r"\s+", "", unicodedata.normalize("NFKC", v))
    )
    dates = pd.to_datetime(raw["list_date2"].replace("", None), format="%Y-%m-%d")
    frame = pd.DataFrame({
        "code": codes,
        "short_name": names,
        "list_date": dates,
        "exchange": codes.str[-2:],
        "sources": "adata",
    })
    return frame.drop_duplicates("code").reset_index(drop=True)


def load_bundled_sp500() -> pd.DataFrame:
    """The bundled S&P 500 list: ``ticker``, ``name``, ``sector``, ``name_2026``.

    Raises
    ------
    DataFormatError
        If the bundled file lacks a column.
    """
    text = _bundled_path(_SP500_FILE).read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str)
    missing = {"ticker", "name", "sector", "name_2026"} - set(frame.columns)
    if missing:
        raise DataFormatError(f"bundled {_SP500_FILE}: missing columns {sorted(missing)}.")
    return frame


def load_entity_sources(settings: Settings | None = None) -> EntitySources:
    """Load the frames the entity base is built from, falling back to the bundled lists.

    Parameters
    ----------
    settings : Settings, optional
        Where to look for the datasets; ``Settings()`` when omitted.

    Returns
    -------
    EntitySources

    Raises
    ------
    DataFormatError, SchemaError
        A dataset that was found but cannot be read (that is never papered over with the
        bundled list).
    """
    settings = settings if settings is not None else Settings()
    origins: dict[str, str] = {}
    try:
        ds = load_dataset("cn_listed_companies", settings=settings)
        companies, origins["cn_listed_companies"] = ds.frame, ds.meta.origin
    except DatasetNotFoundError:
        companies, origins["cn_listed_companies"] = load_bundled_companies(), "bundled"
    try:
        ds = load_dataset("sp500_constituents", settings=settings)
        sp500, origins["sp500_constituents"] = ds.frame, ds.meta.origin
    except DatasetNotFoundError:
        sp500, origins["sp500_constituents"] = load_bundled_sp500(), "bundled"
    st_history: pd.DataFrame | None
    try:
        ds = load_dataset("cn_st_status", settings=settings)
        st_history, origins["cn_st_status"] = ds.frame, ds.meta.origin
    except DatasetNotFoundError:
        st_history, origins["cn_st_status"] = None, "missing"
    return EntitySources(companies, sp500, st_history, origins)
