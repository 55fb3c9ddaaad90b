"""Recommendations: grades and measures turned into explained actions.

:func:`recommend` reads a scored portfolio (or one scored entity) and returns
:class:`Recommendation` records. Each names the action, the grade / measure / expert /
threshold that drove it, the expected effect and a confidence in ``[0, 1]``:

* **pricing** -- a grade whose risk-based rate (funding + operating cost + EL + capital
  charge at the hurdle, :func:`~riskmoe.advice.pricing.price_by_grade`) is above the rate
  charged by more than ``min_gap_bp``: raise it (below: room to lower it);
* **limits** -- a segment (industry, purpose) whose default rate rose against its
  reference by ``default_rate_ratio`` or more: cut its limit; each limit breach of a
  :class:`~riskmoe.advice.limits.LimitReport`: bring the exposure back under the limit;
* **hedging** -- a position with a :class:`~riskmoe.advice.hedging.HedgeRatio`: hedge
  ``h*`` of it with the number of contracts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from riskmoe.advice.hedging import HedgeRatio, hedge_contracts
from riskmoe.advice.limits import LimitReport
from riskmoe.advice.pricing import PricingTerms, price_by_grade, price_exposures, raroc
from riskmoe.exceptions import DataError, SchemaError
from riskmoe.risk import MasterScale

__all__ = ["HedgePosition", "Recommendation", "recommend", "recommend_hedges"]

Kind = Literal["pricing", "limit", "hedge", "review"]
_PRIORITY = {"limit": 0, "pricing": 1, "hedge": 2, "review": 3}


def _urgency(rec: Recommendation) -> tuple[int, int, float]:
    """Limits, then under-priced grades (losing money), hedges, price cuts, reviews."""
    cheaper = rec.kind == "pricing" and rec.action.startswith("lower")
    return (_PRIORITY[rec.kind] + (2 if cheaper else 0), 0 if not cheaper else 1, -rec.confidence)


@dataclass(frozen=True)
class Recommendation:
    """One action with its reasons.

    Attributes
    ----------
    kind : {"pricing", "limit", "hedge", "review"}
    subject : str
        What it is about (``grade 7``, ``purpose=car (new)``, a position name).
    action : str
        What to do, in one sentence with the number (bp, amount, contracts).
    rationale : str
        Which grade, measure, expert and threshold drove it.
    expected_effect : str
        What the action changes, in the measure's units.
    confidence : float
        In ``[0, 1]``; grows with the evidence (cases behind the number, test p-value,
        hedge effectiveness).
    drivers : dict
        The numbers behind the rationale: ``grade``, ``measure``, ``value``,
        ``threshold``, ``expert`` where known.
    """

    kind: Kind
    subject: str
    action: str
    rationale: str
    expected_effect: str
    confidence: float
    drivers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1]; got {self.confidence!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "action": self.action,
            "rationale": self.rationale,
            "expected_effect": self.expected_effect,
            "confidence": round(float(self.confidence), 3),
            "drivers": {k: _plain(v) for k, v in self.drivers.items()},
        }


@dataclass(frozen=True)
class HedgePosition:
    """A position to hedge: its name, size in units, the contract size and the hedge ratio."""

    name: str
    units: float
    contract_units: float
    hedge: HedgeRatio
    spot_price: float | None = None
    futures_price: float | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _bp(x: float) -> int:
    return int(round(x * 1e4))


def _evidence(n: int, scale: float = 100.0) -> float:
    """Confidence from the number of cases behind a number: 0.5 at none, 0.95 at many."""
    return round(0.5 + 0.45 * (1.0 - math.exp(-n / scale)), 3)


def _dominant_expert(rows: pd.DataFrame) -> str | None:
    if "expert" not in rows or rows["expert"].isna().all():
        return None
    return str(rows["expert"].mode().iloc[0])


def _pricing(
    book: pd.DataFrame,
    terms: PricingTerms,
    scale: MasterScale,
    current_rate: float | None,
    min_gap_bp: float,
) -> list[Recommendation]:
    table = price_by_grade(book, terms, scale=scale)
    priced = price_exposures(book, terms)
    weights = book["ead"].to_numpy(dtype=float) if "ead" in book else np.ones(len(book))
    if "rate" in book.columns:
        charged_by_row = pd.to_numeric(book["rate"], errors="coerce").to_numpy(dtype=float)
        basis = "the mean rate charged in the grade"
    elif current_rate is not None:
        charged_by_row = np.full(len(book), float(current_rate))
        basis = f"the book rate {current_rate:.2%}"
    else:
        flat = (
            float(np.average(priced["rate"], weights=weights))
            if weights.sum() > 0
            else float(priced["rate"].mean())
        )
        charged_by_row = np.full(len(book), flat)
        basis = f"one flat rate for the whole book ({flat:.2%}, its EAD-weighted break-even)"
    grades = book["grade"].astype(str).to_numpy()
    out: list[Recommendation] = []
    for _, row in table.iterrows():
        g = str(row["grade"])
        mask = grades == g
        w = weights[mask]
        charged = (
            float(np.average(charged_by_row[mask], weights=w))
            if w.sum() > 0
            else float(np.mean(charged_by_row[mask]))
        )
        gap = float(row["rate"]) - charged
        if abs(gap) * 1e4 < min_gap_bp:
            continue
        n = int(row["n"])
        at_charged = raroc(
            1.0,
            charged,
            terms.funding_rate,
            float(row["el_rate"]),
            terms.operating_cost_rate,
            max(float(row["capital_ratio"]), 1e-9),
            terms.capital_return_rate,
            terms.tax_rate,
        ).raroc
        expert = _dominant_expert(book[mask])
        confidence = _evidence(n)
        realised = None
        if "y" in book:
            realised = float(pd.to_numeric(book.loc[mask, "y"]).mean())
            if n >= 10 and not (0.5 * row["pd"] <= realised <= 2.0 * row["pd"]):
                confidence = round(confidence * 0.7, 3)  # the PD of the grade is off its outcomes
        verb = "raise" if gap > 0 else "lower"
        why = (
            f"grade {g} ({row['tier']} tier, mean PD {row['pd']:.2%}"
            + (f", realised default rate {realised:.2%}" if realised is not None else "")
            + f", {n} cases): EL {row['el_rate']:.2%} + capital charge "
            f"{row['capital_charge']:.2%} (IRB capital {row['capital_ratio']:.2%} of EAD x "
            f"(hurdle {terms.hurdle:.0%} - capital return {terms.capital_return_rate:.0%})) "
            f"+ funding {terms.funding_rate:.2%} + operating cost "
            f"{terms.operating_cost_rate:.2%} = {row['rate']:.2%} against {basis}; RAROC at the "
            f"charged rate {at_charged:.1%}; threshold: a gap of {min_gap_bp:.0f} bp"
            + (f"; the MoE expert that contributed most to these PDs: {expert}" if expert else "")
            + "."
        )
        effect = (
            f"RAROC of grade {g} from {at_charged:.1%} to the {terms.hurdle:.0%} hurdle; "
            f"{'+' if gap > 0 else ''}{gap * float(w.sum()):,.0f} a year in interest on EAD "
            f"{float(w.sum()):,.0f}"
            + ("" if gap > 0 else " (lower price, same hurdle: room to win volume)")
            + "."
        )
        out.append(
            Recommendation(
                kind="pricing",
                subject=f"grade {g}",
                action=f"{verb} the rate for grade {g} applicants by {abs(_bp(gap))} bp "
                f"(from {charged:.2%} to {row['rate']:.2%}).",
                rationale=why,
                expected_effect=effect,
                confidence=confidence,
                drivers={
                    "grade": g,
                    "measure": "risk-based rate",
                    "value": float(row["rate"]),
                    "threshold": float(min_gap_bp),
                    "charged": charged,
                    "gap_bp": _bp(gap),
                    "raroc_at_charged": at_charged,
                    "expert": expert,
                },
            )
        )
    return out


def _segments(
    book: pd.DataFrame,
    segment_column: str,
    reference: Mapping[str, float] | None,
    ratio: float,
    min_cases: int,
) -> list[Recommendation]:
    if segment_column not in book:
        return []
    observed = "y" in book
    measure = "realised default rate" if observed else "mean PD"
    values = pd.to_numeric(book["y"] if observed else book["pd"], errors="coerce")
    if values.isna().any():
        raise DataError(f"book.{'y' if observed else 'pd'} has missing values.")
    base = float(values.mean())
    out: list[Recommendation] = []
    weights = book["ead"].to_numpy(dtype=float) if "ead" in book else np.ones(len(book))
    el = book["el"].to_numpy(dtype=float) if "el" in book else None
    for key, idx in book.groupby(book[segment_column].astype(str), sort=True).groups.items():
        seg = str(key)
        mask = book.index.isin(idx)
        n = int(mask.sum())
        rate = float(values[mask].mean())
        ref = float(reference[seg]) if reference and seg in reference else base
        ref_label = "its previous level" if reference and seg in reference else "the book"
        if n < min_cases or ref <= 0 or rate < ratio * ref:
            continue
        cut = min(0.5, 1.0 - ref / rate)
        exposure = float(weights[mask].sum())
        if observed:
            k = int(round(float(values[mask].sum())))
            p_value = float(
                binomtest(k, n, min(max(ref, 1e-9), 1 - 1e-9), alternative="greater").pvalue
            )
            confidence = round(min(0.95, max(0.3, 1.0 - p_value)) * _evidence(n, 50) / 0.95, 3)
            confidence = min(confidence, 0.95)
            test = f"one-sided binomial p = {p_value:.3g}"
        else:
            p_value = float("nan")
            confidence = round(0.6 * _evidence(n, 50), 3)
            test = "predicted, not yet observed"
        expert = _dominant_expert(book[mask])
        el_cut = f"; expected loss -{cut * float(el[mask].sum()):,.0f}" if el is not None else ""
        out.append(
            Recommendation(
                kind="limit",
                subject=f"{segment_column}={seg}",
                action=f"cut the limit for {segment_column} '{seg}' by {cut:.0%} "
                f"(exposure {exposure:,.0f} -> {exposure * (1 - cut):,.0f}).",
                rationale=(
                    f"{measure} of {segment_column} '{seg}' is {rate:.2%} over {n} cases against "
                    f"{ref:.2%} for {ref_label} ({rate / ref:.2f}x; threshold {ratio:.2f}x, "
                    f"at least "
                    f"{min_cases} cases; {test})"
                    + (
                        f"; the MoE expert that contributed most to these PDs: {expert}"
                        if expert
                        else ""
                    )
                    + "."
                ),
                expected_effect=(
                    f"exposure to '{seg}' down {cut:.0%} ({cut * exposure:,.0f}){el_cut}; the cut "
                    f"brings the segment's loss share back in line with {ref_label}."
                ),
                confidence=confidence,
                drivers={
                    "segment": seg,
                    "measure": measure,
                    "value": rate,
                    "reference": ref,
                    "threshold": ratio,
                    "p_value": p_value,
                    "cases": n,
                    "expert": expert,
                },
            )
        )
    return out


def _limit_breaches(report: LimitReport) -> list[Recommendation]:
    out: list[Recommendation] = []
    for c in report.breaches:
        if c.kind == "exposure":
            excess = c.value - c.threshold
            action = (
                f"reduce exposure to {c.subject} by {excess:,.0f} to its limit {c.threshold:,.0f}."
            )
            effect = f"utilisation of {c.limit} from {c.utilisation:.0%} to 100%."
        else:
            base = report.total_exposure
            excess_amount = (
                (c.value - c.threshold) / (1 - c.threshold) * base if c.threshold < 1 else 0
            )
            action = (
                f"reduce the share of {c.subject} from {c.value:.1%} to {c.threshold:.1%} "
                f"(sell down or stop new lending of about {excess_amount:,.0f})."
            )
            effect = f"concentration of {c.subject} back under {c.threshold:.1%}."
        out.append(
            Recommendation(
                kind="limit",
                subject=c.subject,
                action=action,
                rationale=(
                    f"limit {c.limit} breached: {c.kind} {c.value:,.4g} against the limit "
                    f"{c.threshold:,.4g} (measured on {report.source}, {report.as_of:%Y-%m-%d})."
                ),
                expected_effect=effect,
                confidence=0.95,  # a measured breach, not an estimate
                drivers={
                    "measure": c.kind,
                    "value": c.value,
                    "threshold": c.threshold,
                    "limit": c.limit,
                },
            )
        )
    return out


def recommend_hedges(positions: list[HedgePosition]) -> list[Recommendation]:
    """One hedge recommendation per position (``h*`` of it, the contracts, the effect).

    Examples
    --------
    >>> h = HedgeRatio(0.7777, 0.928, 0.861, 0.0263, 0.0313, 15)
    >>> recommend_hedges([HedgePosition("jet fuel", 2e6, 42_000, h)])[0].action
    'hedge 78% of jet fuel: go short 37 futures contracts.'
    """
    out: list[Recommendation] = []
    for pos in positions:
        h = pos.hedge
        n = hedge_contracts(h.ratio, pos.units, pos.contract_units)
        tailed = (
            hedge_contracts(
                h.ratio,
                pos.units,
                pos.contract_units,
                spot_price=pos.spot_price,
                futures_price=pos.futures_price,
            )
            if pos.spot_price is not None and pos.futures_price is not None
            else None
        )
        contracts = round(tailed if tailed is not None else n)
        side = "short" if h.ratio > 0 else "long"
        out.append(
            Recommendation(
                kind="hedge",
                subject=pos.name,
                action=f"hedge {h.ratio:.0%} of {pos.name}: go {side} {abs(contracts)} futures "
                f"contracts" + (" (tailed)" if tailed is not None else "") + ".",
                rationale=(
                    "minimum-variance hedge ratio h* = rho x sigma_S / sigma_F = "
                    f"{h.correlation:.3f} x {h.sigma_spot:.4g} / {h.sigma_futures:.4g} = "
                    f"{h.ratio:.4f} from {h.n} paired changes; contracts = h* x "
                    f"{pos.units:,.0f} / {pos.contract_units:,.0f} = {n:.2f}."
                ),
                expected_effect=(
                    f"variance of the position's changes down {h.effectiveness:.0%} "
                    f"(rho^2) if the relation holds."
                ),
                confidence=round(min(0.95, h.effectiveness) * _evidence(h.n, 10) / 0.95, 3),
                drivers={
                    "measure": "hedge ratio",
                    "value": h.ratio,
                    "correlation": h.correlation,
                    "effectiveness": h.effectiveness,
                    "contracts": contracts,
                },
            )
        )
    return out


def _entity(
    entity: Mapping[str, Any],
    terms: PricingTerms,
    scale: MasterScale,
    current_rate: float | None,
    min_gap_bp: float,
) -> list[Recommendation]:
    if "pd" not in entity:
        raise SchemaError(f"an entity needs a 'pd'; got keys {sorted(entity)}.")
    row = pd.DataFrame([dict(entity)])
    priced = price_exposures(row, terms).iloc[0]
    p = float(priced["pd"])
    grade = scale.grade(p)
    tier = scale.tier(p)
    expert = entity.get("expert")
    name = str(entity.get("name", entity.get("entity", "this applicant")))
    rate = float(priced["rate"])
    drivers = {
        "grade": grade,
        "measure": "risk-based rate",
        "value": rate,
        "expert": expert,
        "pd": p,
    }
    why = (
        f"{name}: PD {p:.2%} -> grade {grade} ({tier} tier); EL {priced['el_rate']:.2%} + "
        f"capital charge {priced['capital_charge']:.2%} at the {terms.hurdle:.0%} hurdle + "
        f"funding {terms.funding_rate:.2%} + operating cost {terms.operating_cost_rate:.2%}"
        + (f"; the MoE expert that contributed most to its PD: {expert}" if expert else "")
        + "."
    )
    out: list[Recommendation] = []
    if current_rate is None:
        out.append(
            Recommendation(
                "pricing",
                name,
                f"price {name} at {rate:.2%}.",
                why,
                f"RAROC {terms.hurdle:.0%} at that rate.",
                0.7,
                drivers,
            )
        )
    else:
        gap = rate - float(current_rate)
        if abs(gap) * 1e4 >= min_gap_bp:
            verb = "raise" if gap > 0 else "lower"
            out.append(
                Recommendation(
                    "pricing",
                    name,
                    f"{verb} the rate for {name} by {abs(_bp(gap))} bp (from {current_rate:.2%} to "
                    f"{rate:.2%}).",
                    why + f" Threshold: a gap of {min_gap_bp:.0f} bp.",
                    f"RAROC to the {terms.hurdle:.0%} hurdle.",
                    0.7,
                    {**drivers, "threshold": float(min_gap_bp), "gap_bp": _bp(gap)},
                )
            )
    low, medium = scale.tier_cutoffs
    if grade > medium:
        out.append(
            Recommendation(
                "review",
                name,
                f"send {name} to manual credit review before approval (grade {grade}, high tier).",
                f"grade {grade} is above the medium-tier cut-off grade {medium} "
                f"(PD above {scale.bounds[medium - 1]:.2%}).",
                "no automatic approval of high-tier risk.",
                0.8,
                {
                    "grade": grade,
                    "measure": "pd",
                    "value": p,
                    "threshold": scale.bounds[medium - 1],
                    "expert": expert,
                },
            )
        )
    return out


def recommend(
    subject: pd.DataFrame | Mapping[str, Any] | pd.Series,
    *,
    terms: PricingTerms | None = None,
    scale: MasterScale | None = None,
    current_rate: float | None = None,
    min_gap_bp: float = 25.0,
    segment_column: str = "segment",
    reference_default_rates: Mapping[str, float] | None = None,
    default_rate_ratio: float = 1.5,
    min_cases: int = 20,
    limits: LimitReport | None = None,
    hedges: list[HedgePosition] | None = None,
) -> list[Recommendation]:
    """Explained recommendations for a scored portfolio or one scored entity.

    Parameters
    ----------
    subject : DataFrame, mapping or Series
        A portfolio (one row per exposure: ``pd``, ``grade`` (optional), ``ead``, and
        optionally ``lgd``, ``rate`` (charged), ``segment``, ``y`` (observed default),
        ``el``, ``expert`` (dominant MoE expert)) or one entity (``pd``, optional
        ``name``, ``lgd``, ``expert``).
    terms : PricingTerms, optional
    scale : MasterScale, optional
    current_rate : float, optional
        The rate charged when the book has no ``rate`` column; without either, grades are
        compared with one flat rate for the whole book.
    min_gap_bp : float, default 25
        Smallest pricing gap worth an action.
    segment_column : str, default "segment"
        Industry / purpose / region column whose default rates are watched.
    reference_default_rates : mapping, optional
        Each segment's previous default rate; else the book's current rate.
    default_rate_ratio : float, default 1.5
        A segment at this multiple of its reference gets a limit cut.
    min_cases : int, default 20
    limits : LimitReport, optional
        Its breaches become actions.
    hedges : list of HedgePosition, optional

    Returns
    -------
    list of Recommendation
        Limit actions first, then rate rises, hedges, rate cuts and reviews; by confidence
        within each.

    Raises
    ------
    SchemaError
        A portfolio or entity without ``pd``.
    DataError
        An empty portfolio or bad values.

    Examples
    --------
    >>> recs = recommend({"pd": 0.2, "name": "ACME"}, current_rate=0.05)
    >>> [r.kind for r in recs], recs[0].drivers["grade"]
    (['pricing', 'review'], 9)
    """
    terms = PricingTerms() if terms is None else terms
    scale = MasterScale() if scale is None else scale
    if not (math.isfinite(min_gap_bp) and min_gap_bp >= 0):
        raise ValueError(f"min_gap_bp must be >= 0; got {min_gap_bp!r}.")
    if not (math.isfinite(default_rate_ratio) and default_rate_ratio > 1):
        raise ValueError(f"default_rate_ratio must be > 1; got {default_rate_ratio!r}.")
    recs: list[Recommendation] = []
    if isinstance(subject, pd.DataFrame):
        if "pd" not in subject:
            raise SchemaError(
                f"the portfolio needs a 'pd' column; columns: {list(subject.columns)}."
            )
        if len(subject) == 0:
            raise DataError("the portfolio is empty; nothing to recommend.")
        book = subject.reset_index(drop=True)
        if "ead" in book:
            ead = pd.to_numeric(book["ead"], errors="coerce").to_numpy(dtype=float)
            if np.any(~np.isfinite(ead)) or np.any(ead < 0):
                raise DataError("the portfolio's ead must be finite and >= 0.")
        if "grade" not in book:
            book = book.assign(grade=scale.grade(pd.to_numeric(book["pd"]).to_numpy(dtype=float)))
        recs += _pricing(book, terms, scale, current_rate, min_gap_bp)
        recs += _segments(
            book, segment_column, reference_default_rates, default_rate_ratio, min_cases
        )
    else:
        recs += _entity(dict(subject), terms, scale, current_rate, min_gap_bp)
    if limits is not None:
        recs += _limit_breaches(limits)
    if hedges:
        recs += recommend_hedges(list(hedges))
    return sorted(recs, key=_urgency)
