"""Risk questions: which company, which kind of risk, which period.

:func:`parse_question` turns ``"招行2023年一季度的信用风险?"`` or ``"What is the market risk
of Apple last year?"`` into a :class:`Question`: the entity (a
:class:`~riskmoe.normalization.Resolution`, possibly an abstention), the risk type
(``credit``, ``market``, ``liquidity``, ``operational`` or ``overall`` when none is named) and
a structured :class:`Period`, relative expressions being anchored at ``reference_date``.

Period conventions (``reference_date`` = R, with year Y):

=========================================  ===============================  ==================
expression                                 start .. end                     fiscal years
=========================================  ===============================  ==================
``2021``, ``2021年``, ``FY2021``           2021-01-01 .. 2021-12-31         2021
``2023年一季度``, ``Q1 2023``, ``2023Q1``  2023-01-01 .. 2023-03-31         2023
``2023年上半年``, ``H1 2023``              2023-01-01 .. 2023-06-30         2023
``2019-2021``, ``2019年至2021年``          2019-01-01 .. 2021-12-31         2019, 2020, 2021
``近三年``, ``last 3 years``               R - 3 years .. R                 Y-3, Y-2, Y-1
``近6个月``, ``past six months``           R - 6 months .. R                the years touched
``今年``, ``this year``, ``YTD``           Y-01-01 .. R                     Y
``去年``, ``last year``                    (Y-1)-01-01 .. (Y-1)-12-31       Y-1
``前年``                                   (Y-2)-01-01 .. (Y-2)-12-31       Y-2
``本季度`` / ``上季度``                    the calendar quarter of R / the one before
``最近``, ``recently``                     latest available (no dates)
=========================================  ===============================  ==================

"Last N years" counts completed fiscal years (annual reports), so on 2024-05-01 ``近三年``
means fiscal 2021-2023, and the date window is the rolling three years to R.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from riskmoe.config import Settings
from riskmoe.exceptions import ResolutionError
from riskmoe.normalization.resolver import EntityResolver, Resolution
from riskmoe.normalization.text import has_cjk, normalise_text
from riskmoe.normalization.vocabulary import RISK_KEYWORDS, RiskType

__all__ = ["Period", "PeriodKind", "Question", "detect_risk_types", "parse_period",
           "parse_question"]

PeriodKind = Literal[
    "unspecified", "latest", "year", "quarter", "half", "range", "last_years",
    "last_months", "year_to_date", "quarter_to_date",
]

_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
        "九": 9, "十": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_N = r"(\d{1,2}|[一二两三四五六七八九十]|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_Y = r"(?<!\d)((?:19|20)\d{2})(?!\d)"
_CNQ = r"(?:第)?([一二三四1-4])季度"

# (kind, pattern); the first pattern (in this order) that matches decides.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("range", re.compile(_Y + r"\s*年?\s*(?:至|到|~|-|—| )\s*" + _Y + r"\s*年?")),
    ("range", re.compile(r"(?:from|between)\s+" + _Y + r"\s+(?:to|and|until)\s+" + _Y)),
    ("quarter", re.compile(_Y + r"\s*年?\s*" + _CNQ)),
    ("quarter", re.compile(_Y + r"\s*q([1-4])")),
    ("quarter", re.compile(r"(?<![a-z])q([1-4])\s*(?:of\s+)?" + _Y)),
    ("quarter_words", re.compile(r"(first|second|third|fourth)\s+quarter\s+(?:of\s+)?" + _Y)),
    ("half", re.compile(_Y + r"\s*年?\s*(上半年|下半年)")),
    ("half", re.compile(_Y + r"\s*h([12])")),
    ("half", re.compile(r"(?<![a-z])h([12])\s*(?:of\s+)?" + _Y)),
    ("year", re.compile(r"(?:fy|fiscal\s*(?:year)?\s*)" + _Y.replace("(?<!\\d)", ""))),
    ("year", re.compile(_Y + r"\s*(?:年|财年|年度)?")),
    ("last_years", re.compile(r"(?:近|最近|过去|前)" + _N + r"\s*年")),
    ("last_years", re.compile(r"(?:last|past|previous|recent)\s+" + _N + r"\s+years?")),
    ("last_months", re.compile(r"(?:近|最近|过去|前)" + _N + r"\s*个?月")),
    ("last_months", re.compile(r"(?:last|past|previous|recent)\s+" + _N + r"\s+months?")),
    ("this_year", re.compile(r"今年|本年|本年度|this\s+year|year\s+to\s+date|(?<![a-z])ytd")),
    ("last_year", re.compile(r"去年|上年|上一年|last\s+year|previous\s+year|prior\s+year")),
    ("year_before", re.compile(r"前年|year\s+before\s+last")),
    ("this_quarter", re.compile(r"本季度|这个季度|this\s+quarter")),
    ("last_quarter", re.compile(r"上季度|上个季度|上一季度|last\s+quarter|previous\s+quarter")),
    ("half_this_year", re.compile(r"(上半年|下半年)")),
    ("latest", re.compile(
        r"最近|近期|目前|当前|现在|(?<![a-z])(?:recently|lately|latest|current|now)(?![a-z])")),
)


@dataclass(frozen=True)
class Period:
    """A structured period.

    Attributes
    ----------
    kind : str
        One of :data:`PeriodKind`.
    start, end : datetime.date or None
        Inclusive date window (None for ``unspecified`` and ``latest``).
    fiscal_years : tuple of int
        Fiscal (calendar) years the question is about, for annual-report data.
    text : str or None
        The expression it was read from (normalised).
    """

    kind: PeriodKind
    start: date | None = None
    end: date | None = None
    fiscal_years: tuple[int, ...] = ()
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "kind": self.kind,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "fiscal_years": list(self.fiscal_years),
            "text": self.text,
        }


@dataclass(frozen=True)
class Question:
    """A parsed risk question.

    Attributes
    ----------
    text : str
        The question as asked.
    entity : Resolution
        The company (``entity.abstained`` when none could be chosen; its candidates
        say which companies were close).
    risk_type : {"credit", "market", "liquidity", "operational", "overall"}
        The first risk type named; ``overall`` when none is.
    risk_types : tuple of str
        Every risk type named, in the order they appear.
    period : Period
    language : {"zh", "en"}
    reference_date : datetime.date
        The date relative periods are anchored at.
    """

    text: str
    entity: Resolution
    risk_type: RiskType
    risk_types: tuple[RiskType, ...]
    period: Period
    language: Literal["zh", "en"]
    reference_date: date

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "text": self.text,
            "entity": self.entity.to_dict(),
            "risk_type": self.risk_type,
            "risk_types": list(self.risk_types),
            "period": self.period.to_dict(),
            "language": self.language,
            "reference_date": self.reference_date.isoformat(),
        }


def _num(token: str) -> int:
    return int(token) if token.isdigit() else _NUM[token]


def _quarter(year: int, q: int) -> tuple[date, date]:
    first = 3 * (q - 1) + 1
    last = first + 2
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def _minus_months(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _year(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


def parse_period(text: str, reference_date: date | None = None) -> Period:
    """The period a question is about.

    Parameters
    ----------
    text : str
        The question (normalised inside, so raw text is fine).
    reference_date : datetime.date, optional
        Anchor of relative periods (``近三年``, ``last year``); today when omitted.

    Returns
    -------
    Period
        ``kind="unspecified"`` when the question names no period.

    Raises
    ------
    ResolutionError
        For an impossible period (``2023年五季度`` is simply not matched; a range whose
        end precedes its start is).

    Examples
    --------
    >>> p = parse_period("2023年一季度的流动性", date(2024, 5, 1))
    >>> p.kind, p.start.isoformat(), p.end.isoformat(), p.fiscal_years
    ('quarter', '2023-01-01', '2023-03-31', (2023,))
    >>> parse_period("近三年", date(2024, 5, 1)).fiscal_years
    (2021, 2022, 2023)
    """
    ref = reference_date if reference_date is not None else date.today()
    norm = normalise_text(text)
    for kind, pattern in _PATTERNS:
        m = pattern.search(norm)
        if m is None:
            continue
        g = m.groups()
        expr = m.group(0).strip()
        if kind == "range":
            a, b = int(g[0]), int(g[1])
            if b < a:
                raise ResolutionError(
                    f"the period {expr!r} ends ({b}) before it starts ({a})."
                )
            return Period("range", date(a, 1, 1), date(b, 12, 31), tuple(range(a, b + 1)), expr)
        if kind in ("quarter", "quarter_words"):
            if kind == "quarter_words":
                q, y = ("first", "second", "third", "fourth").index(g[0]) + 1, int(g[1])
            elif g[0].isdigit() and len(g[0]) == 4:
                y, q = int(g[0]), _num(g[1])
            else:
                q, y = _num(g[0]), int(g[1])
            s, e = _quarter(y, q)
            return Period("quarter", s, e, (y,), expr)
        if kind == "half":
            if g[0].isdigit() and len(g[0]) == 4:
                y, h = int(g[0]), g[1]
            else:
                h, y = g[0], int(g[1])
            first = h in ("上半年", "1")
            s, e = (date(y, 1, 1), date(y, 6, 30)) if first else (date(y, 7, 1), date(y, 12, 31))
            return Period("half", s, e, (y,), expr)
        if kind == "half_this_year":
            first = g[0] == "上半年"
            y = ref.year
            s, e = (date(y, 1, 1), date(y, 6, 30)) if first else (date(y, 7, 1), date(y, 12, 31))
            return Period("half", s, e, (y,), expr)
        if kind == "year":
            y = int(g[0])
            s, e = _year(y)
            return Period("year", s, e, (y,), expr)
        if kind == "last_years":
            n = _num(g[0])
            if n < 1:
                continue
            start = _minus_months(ref, 12 * n)
            return Period("last_years", start, ref, tuple(range(ref.year - n, ref.year)), expr)
        if kind == "last_months":
            n = _num(g[0])
            if n < 1:
                continue
            start = _minus_months(ref, n)
            return Period("last_months", start, ref,
                          tuple(range(start.year, ref.year + 1)), expr)
        if kind == "this_year":
            return Period("year_to_date", date(ref.year, 1, 1), ref, (ref.year,), expr)
        if kind == "last_year":
            s, e = _year(ref.year - 1)
            return Period("year", s, e, (ref.year - 1,), expr)
        if kind == "year_before":
            s, e = _year(ref.year - 2)
            return Period("year", s, e, (ref.year - 2,), expr)
        if kind == "this_quarter":
            q = (ref.month - 1) // 3 + 1
            s, _ = _quarter(ref.year, q)
            return Period("quarter_to_date", s, ref, (ref.year,), expr)
        if kind == "last_quarter":
            q = (ref.month - 1) // 3
            y = ref.year if q else ref.year - 1
            q = q or 4
            s, e = _quarter(y, q)
            return Period("quarter", s, e, (y,), expr)
        if kind == "latest":
            return Period("latest", None, None, (), expr)
    return Period("unspecified")


def detect_risk_types(text: str) -> tuple[RiskType, ...]:
    """Risk types named in ``text``, in order of first appearance (none -> empty).

    Examples
    --------
    >>> detect_risk_types("茅台的流动性风险和信用风险")
    ('liquidity', 'credit')
    >>> detect_risk_types("How risky is Microsoft stock?")
    ()
    """
    norm = normalise_text(text)
    found: list[tuple[int, RiskType]] = []
    for risk, words in RISK_KEYWORDS.items():
        positions = []
        for w in words:
            if w.isascii():
                m = re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", norm)
                pos = m.start() if m else -1
            else:
                pos = norm.find(w)
            if pos >= 0:
                positions.append(pos)
        if positions:
            found.append((min(positions), risk))
    return tuple(r for _, r in sorted(found))


def parse_question(
    text: str,
    resolver: EntityResolver | None = None,
    *,
    reference_date: date | None = None,
    settings: Settings | None = None,
) -> Question:
    """Parse a risk question in Chinese or English.

    Parameters
    ----------
    text : str
        The question (``"茅台的流动性风险怎么样？"``).
    resolver : EntityResolver, optional
        Resolver to find the company; ``EntityResolver.default(settings)`` when omitted
        (that builds the entity base: pass a resolver when parsing many questions).
    reference_date : datetime.date, optional
        Anchor of relative periods; today when omitted.
    settings : Settings, optional
        Used only to build the default resolver.

    Returns
    -------
    Question

    Raises
    ------
    ResolutionError
        Empty, over-long or binary input (see :meth:`EntityResolver.resolve`), or an
        impossible period.

    Examples
    --------
    >>> q = parse_question("招行2023年一季度的信用风险?", reference_date=date(2024, 5, 1))
    ... # doctest: +SKIP
    >>> q.entity.code, q.risk_type, q.period.kind   # doctest: +SKIP
    ('600036.SH', 'credit', 'quarter')
    """
    resolver = resolver if resolver is not None else EntityResolver.default(settings)
    entity = resolver.resolve(text)  # validates the input first
    ref = reference_date if reference_date is not None else date.today()
    period = parse_period(text, ref)
    rest = normalise_text(text)
    for span in (entity.mention, period.text):
        if span:
            rest = rest.replace(span, " ")
    risks = detect_risk_types(rest)
    language: Literal["zh", "en"] = "zh" if has_cjk(text) else "en"
    return Question(
        text=text,
        entity=entity,
        risk_type=risks[0] if risks else "overall",
        risk_types=risks,
        period=period,
        language=language,
        reference_date=ref,
    )
