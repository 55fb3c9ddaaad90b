"""Firm liquidity ratios from financial-statement columns, with thresholds and flags.

:func:`liquidity_ratios` computes seven standard short-term liquidity ratios for every row
(company-year) of a statements frame and flags the ones beyond a stated threshold. The
ratio definitions are written against *canonical inputs* (``current_assets``,
``inventories`` ...); an ``inputs`` mapping says which column of the source holds each.
A ratio whose input the source does not have is reported as **unavailable**, with the
missing input named -- never approximated from something else.

=====================================  ===============================  ==========  =========
ratio                                  formula                          flag when   threshold
=====================================  ===============================  ==========  =========
``current_ratio``                      CA / CL                          below       1.0
``quick_ratio``                        (CA - inventories) / CL          below       0.5
``cash_ratio``                         cash / CL                        below       0.2
``short_term_debt_to_current_assets``  short-term debt / CA             above       0.5
``receivables_to_current_assets``      accounts receivable / CA         above       0.5
``receivables_to_revenue``             accounts receivable / revenue    above       0.25
``ocf_to_current_liabilities``         operating cash flow / CL         below       0.4
=====================================  ===============================  ==========  =========

(CA = current assets, CL = current liabilities.)

:data:`CN_FINANCIALS_INPUTS` maps the inputs onto ``load_dataset("cn_financials")``, whose
balance sheet holds four totals only: inventories, receivables and short-term debt are not
in that source, so the quick ratio, both receivables ratios and short-term debt to current
assets are unavailable there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk.grading import _require_columns, _to_builtin

__all__ = [
    "CN_FINANCIALS_INPUTS",
    "LIQUIDITY_INPUTS",
    "LIQUIDITY_RATIOS",
    "LiquidityAssessment",
    "LiquidityRatio",
    "liquidity_ratios",
]

Direction = Literal["below", "above"]

#: Canonical statement inputs of the liquidity ratios.
LIQUIDITY_INPUTS: tuple[str, ...] = (
    "current_assets",
    "current_liabilities",
    "inventories",
    "cash",
    "short_term_debt",
    "accounts_receivable",
    "revenue",
    "operating_cash_flow",
)

#: Inputs -> columns of ``load_dataset("cn_financials").frame`` (FinGLM statements).
#: ``None``: the source has no such item (its balance sheet holds four totals only).
#: ``cash`` is the cash-flow statement's closing cash and cash equivalents (CAS 31 / IAS 7),
#: which excludes restricted cash and short-term investments that are not cash
#: equivalents, so the cash ratio is, if anything, understated. ``revenue`` is operating
#: revenue (营业收入), not total operating revenue, which adds financial-sector income.
CN_FINANCIALS_INPUTS: Mapping[str, str | None] = {
    "current_assets": "total_current_assets",
    "current_liabilities": "total_current_liabilities",
    "inventories": None,
    "cash": "cash_and_equivalents_end",
    "short_term_debt": None,
    "accounts_receivable": None,
    "revenue": "operating_revenue",
    "operating_cash_flow": "net_operating_cash_flow",
}

_Inputs = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class LiquidityRatio:
    """Definition of one liquidity ratio.

    Attributes
    ----------
    name : str
    inputs : tuple of str
        Canonical inputs it needs (:data:`LIQUIDITY_INPUTS`).
    denominator : str
        The input dividing; a row whose denominator is ``<= 0`` has no meaningful ratio.
    direction : {"below", "above"}
        Flag when the ratio is below (``<``) or above (``>``) the threshold.
    threshold : float
    rationale : str
        Where the threshold comes from.
    """

    name: str
    inputs: tuple[str, ...]
    denominator: str
    direction: Direction
    threshold: float
    rationale: str
    formula: Callable[[_Inputs], np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (without the formula callable)."""
        return {
            "name": self.name, "inputs": list(self.inputs), "denominator": self.denominator,
            "direction": self.direction, "threshold": self.threshold,
            "rationale": self.rationale,
        }


def _ratio(num: str, den: str) -> Callable[[_Inputs], np.ndarray]:
    def formula(x: _Inputs) -> np.ndarray:
        return x[num] / x[den]
    return formula


def _quick(x: _Inputs) -> np.ndarray:
    return (x["current_assets"] - x["inventories"]) / x["current_liabilities"]


#: The seven ratios, their thresholds and where each threshold comes from. These are
#: screening conventions for a risk committee, not regulatory limits; pass ``thresholds``
#: to :func:`liquidity_ratios` to calibrate them per industry.
LIQUIDITY_RATIOS: tuple[LiquidityRatio, ...] = (
    LiquidityRatio(
        "current_ratio", ("current_assets", "current_liabilities"), "current_liabilities",
        "below", 1.0,
        "Below 1 current liabilities exceed current assets (negative working capital); "
        "textbook rule of thumb, e.g. Brealey, Myers & Allen, Principles of Corporate "
        "Finance, ch. 28.",
        _ratio("current_assets", "current_liabilities"),
    ),
    LiquidityRatio(
        "quick_ratio", ("current_assets", "inventories", "current_liabilities"),
        "current_liabilities", "below", 0.5,
        "Acid test without inventories; 1.0 is the textbook comfort level, 0.5 (half of "
        "it) marks acute reliance on selling inventory to pay short-term debts.",
        _quick,
    ),
    LiquidityRatio(
        "cash_ratio", ("cash", "current_liabilities"), "current_liabilities", "below", 0.2,
        "House convention after common credit-analysis practice: cash covering less than "
        "a fifth of current liabilities.",
        _ratio("cash", "current_liabilities"),
    ),
    LiquidityRatio(
        "short_term_debt_to_current_assets", ("short_term_debt", "current_assets"),
        "current_assets", "above", 0.5,
        "House convention: more than half of current assets needed to repay short-term "
        "borrowings signals refinancing (roll-over) risk.",
        _ratio("short_term_debt", "current_assets"),
    ),
    LiquidityRatio(
        "receivables_to_current_assets", ("accounts_receivable", "current_assets"),
        "current_assets", "above", 0.5,
        "House convention: liquidity that rests mostly on collecting receivables.",
        _ratio("accounts_receivable", "current_assets"),
    ),
    LiquidityRatio(
        "receivables_to_revenue", ("accounts_receivable", "revenue"), "revenue", "above",
        0.25,
        "AR / revenue x 365 is days sales outstanding; 0.25 is about 91 days, beyond the "
        "usual 30-90 day trade-credit terms.",
        _ratio("accounts_receivable", "revenue"),
    ),
    LiquidityRatio(
        "ocf_to_current_liabilities", ("operating_cash_flow", "current_liabilities"),
        "current_liabilities", "below", 0.4,
        "Empirical work cited by Wahlen, Baginski & Bradshaw (Financial Reporting, "
        "Financial Statement Analysis and Valuation, ch. 5): above 0.40 indicates low "
        "short-term liquidity risk.",
        _ratio("operating_cash_flow", "current_liabilities"),
    ),
)

_BY_NAME = {r.name: r for r in LIQUIDITY_RATIOS}


@dataclass(frozen=True, eq=False)
class LiquidityAssessment:
    """Liquidity ratios of every row of a statements frame, with flags.

    Attributes
    ----------
    frame : pandas.DataFrame
        Tidy, one row per (key, ratio): the key columns, ``ratio``, ``value`` (float, NaN
        where not computed), ``available`` (bool: a value was computed), ``status``
        (``ok`` / ``missing_input`` / ``nonpositive_denominator`` / ``unavailable``),
        ``missing_inputs`` (comma-separated inputs absent for that row or from the
        source), ``threshold``, ``direction`` and ``breached`` (nullable boolean, NA where
        not available).
    summary : pandas.DataFrame
        One row per ratio: ``ratio``, ``in_source`` (the source has every input),
        ``missing_inputs``, ``reason`` (why each is missing), ``direction``,
        ``threshold``, ``n_rows``, ``n_available``, ``n_breached``, ``share_breached``
        (of the available rows; NaN when none is).
    unavailable : dict
        Ratio -> inputs the source lacks, for the ratios the source cannot support.
    keys : tuple of str
        The key columns.
    n_rows : int
        Rows (e.g. company-years) assessed.
    n_flagged : int
        Rows breaching at least one threshold.
    """

    frame: pd.DataFrame
    summary: pd.DataFrame
    unavailable: dict[str, tuple[str, ...]]
    keys: tuple[str, ...]
    n_rows: int
    n_flagged: int

    def wide(self) -> pd.DataFrame:
        """Ratio values one column per ratio, one row per key (NaN where not computed)."""
        return self.frame.pivot(index=list(self.keys), columns="ratio", values="value")

    def to_dict(self, *, rows: bool = False) -> dict[str, Any]:
        """Plain-JSON form: summary and unavailable ratios; the tidy rows if ``rows``."""
        out: dict[str, Any] = {
            "n_rows": self.n_rows,
            "n_flagged": self.n_flagged,
            "unavailable": {k: list(v) for k, v in self.unavailable.items()},
            "summary": _to_builtin(self.summary),
        }
        if rows:
            out["rows"] = _to_builtin(self.frame)
        return out


def liquidity_ratios(
    statements: pd.DataFrame,
    *,
    inputs: Mapping[str, str | None] | None = None,
    keys: Sequence[str] = ("code", "fiscal_year"),
    thresholds: Mapping[str, float] | None = None,
    ratios: Sequence[str] | None = None,
) -> LiquidityAssessment:
    """Compute liquidity ratios per row, flag threshold breaches, report what is missing.

    Parameters
    ----------
    statements : pandas.DataFrame
        One row per entity-period (e.g. company-year) with the key columns and the
        statement items.
    inputs : mapping, optional
        Canonical input (:data:`LIQUIDITY_INPUTS`) -> column of ``statements``, or ``None``
        when the source has no such item. An input left out maps to a column of its own
        name. Use :data:`CN_FINANCIALS_INPUTS` for ``cn_financials``.
    keys : sequence of str, default ("code", "fiscal_year")
        Columns identifying a row; must be unique.
    thresholds : mapping, optional
        Ratio name -> threshold overriding the defaults of :data:`LIQUIDITY_RATIOS`.
    ratios : sequence of str, optional
        Subset of ratio names to compute (default: all seven).

    Returns
    -------
    LiquidityAssessment

    Raises
    ------
    SchemaError
        Missing key columns, unknown inputs or ratio names, duplicated keys, or an input
        column that is not numeric.
    ValueError
        A threshold that is not a finite number.

    Notes
    -----
    A ratio is

    * ``unavailable`` for every row when the source lacks one of its inputs (mapped to
      ``None`` or to a column the frame does not have);
    * ``missing_input`` for a row where an input is missing (NaN), e.g. banks and insurers
      in ``cn_financials``, which report no current/non-current split;
    * ``nonpositive_denominator`` where the denominator is ``<= 0`` (the ratio has no
      meaning there; e.g. zero current liabilities);
    * ``ok`` otherwise, and then ``breached`` is ``value < threshold`` for the ``below``
      ratios and ``value > threshold`` for the ``above`` ratios (a value equal to the
      threshold is not a breach).

    References
    ----------
    .. [1] Brealey, R. A., Myers, S. C. and Allen, F., *Principles of Corporate Finance*,
       McGraw-Hill, chapter "Financial Analysis" (liquidity ratios).
    .. [2] Wahlen, J. M., Baginski, S. P. and Bradshaw, M. T., *Financial Reporting,
       Financial Statement Analysis and Valuation*, Cengage, chapter 5 (short-term
       liquidity risk; operating cash flow to current liabilities above 0.40).

    Examples
    --------
    >>> frame = pd.DataFrame({"code": ["A"], "fiscal_year": [2021],
    ...                       "current_assets": [80.0], "current_liabilities": [100.0]})
    >>> res = liquidity_ratios(frame, ratios=["current_ratio", "quick_ratio"])
    >>> res.frame.set_index("ratio")["status"].to_dict()
    {'current_ratio': 'ok', 'quick_ratio': 'unavailable'}
    >>> res.frame["value"].tolist(), res.frame["breached"].tolist()
    ([0.8, nan], [True, <NA>])
    >>> res.unavailable
    {'quick_ratio': ('inventories',)}
    """
    keys = tuple(keys)
    _require_columns(statements, keys, "statements")
    dup = statements.duplicated(list(keys))
    if dup.any():
        first = statements.loc[dup, list(keys)].iloc[0].to_dict()
        raise SchemaError(
            f"statements has {int(dup.sum())} duplicated {list(keys)} rows, e.g. {first}."
        )
    mapping: dict[str, str | None] = {name: name for name in LIQUIDITY_INPUTS}
    if inputs is not None:
        unknown = sorted(set(inputs) - set(LIQUIDITY_INPUTS))
        if unknown:
            raise SchemaError(
                f"unknown liquidity inputs {unknown}; known: {list(LIQUIDITY_INPUTS)}."
            )
        mapping.update(inputs)
    selected = list(LIQUIDITY_RATIOS) if ratios is None else []
    for name in ratios or ():
        if name not in _BY_NAME:
            raise SchemaError(f"unknown ratio {name!r}; known: {list(_BY_NAME)}.")
        selected.append(_BY_NAME[name])
    limits = {r.name: r.threshold for r in selected}
    for name, limit in (thresholds or {}).items():
        if name not in _BY_NAME:
            raise SchemaError(f"threshold for unknown ratio {name!r}; known: {list(_BY_NAME)}.")
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(
            limit
        ):
            raise ValueError(f"threshold of {name} must be a finite number; got {limit!r}.")
        limits[name] = float(limit)

    data = statements.reset_index(drop=True)
    n = len(data)
    values: dict[str, np.ndarray] = {}
    absent: set[str] = set()
    for name, column in mapping.items():
        if column is None or column not in data.columns:
            absent.add(name)
            continue
        col = data[column]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise SchemaError(
                f"statements.{column} (input {name}) must be numeric; got dtype {col.dtype}."
            )
        values[name] = col.to_numpy(dtype=float, na_value=np.nan)

    parts: list[pd.DataFrame] = []
    summary_rows: list[dict[str, Any]] = []
    unavailable: dict[str, tuple[str, ...]] = {}
    any_breach = np.zeros(n, dtype=bool)
    key_frame = data[list(keys)]
    for spec in selected:
        threshold = limits[spec.name]
        lacking = tuple(i for i in spec.inputs if i in absent)
        if lacking:
            unavailable[spec.name] = lacking
            value = np.full(n, np.nan)
            status = np.full(n, "unavailable", dtype=object)
            missing = np.full(n, ", ".join(lacking), dtype=object)
            ok = np.zeros(n, dtype=bool)
        else:
            present = np.column_stack([~np.isnan(values[i]) for i in spec.inputs])
            complete = present.all(axis=1)
            positive = np.where(complete, values[spec.denominator] > 0, False)
            ok = complete & positive
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(ok, spec.formula(values), np.nan)
            status = np.where(
                ok, "ok", np.where(complete, "nonpositive_denominator", "missing_input")
            ).astype(object)
            names = np.asarray(spec.inputs, dtype=object)
            missing = np.array(
                [", ".join(names[~row]) for row in present], dtype=object
            ) if n else np.empty(0, dtype=object)
        if spec.direction == "below":
            breach = ok & (np.nan_to_num(value, nan=np.inf) < threshold)
        else:
            breach = ok & (np.nan_to_num(value, nan=-np.inf) > threshold)
        any_breach |= breach
        part = key_frame.copy()
        part["ratio"] = spec.name
        part["value"] = value
        part["available"] = ok
        part["status"] = pd.Series(status, dtype="str")
        part["missing_inputs"] = pd.Series(missing, dtype="str")
        part["threshold"] = threshold
        part["direction"] = spec.direction
        part["breached"] = pd.array(np.where(ok, breach, False), dtype="boolean")
        part.loc[~ok, "breached"] = pd.NA
        parts.append(part)
        n_ok = int(ok.sum())
        n_breach = int(breach.sum())
        summary_rows.append({
            "ratio": spec.name,
            "in_source": not lacking,
            "missing_inputs": ", ".join(lacking),
            "reason": "; ".join(
                f"{i}: not in the source" if mapping[i] is None
                else f"{i}: column {mapping[i]!r} absent from statements"
                for i in lacking
            ),
            "direction": spec.direction,
            "threshold": threshold,
            "n_rows": n,
            "n_available": n_ok,
            "n_breached": n_breach,
            "share_breached": n_breach / n_ok if n_ok else math.nan,
        })
    if not parts:
        raise DataError("ratios is empty; name at least one ratio.")
    frame = pd.concat(parts, ignore_index=True)
    return LiquidityAssessment(
        frame=frame,
        summary=pd.DataFrame(summary_rows),
        unavailable=unavailable,
        keys=keys,
        n_rows=n,
        n_flagged=int(any_breach.sum()),
    )
