"""Question parsing: entity, risk type, period."""

from __future__ import annotations

from datetime import date

import pytest

from riskmoe.exceptions import ResolutionError
from riskmoe.normalization import EntityResolver, detect_risk_types, parse_period, parse_question

REF = date(2024, 5, 1)


@pytest.mark.parametrize(
    ("question", "risk"),
    [
        ("招行最近的信用风险?", "credit"), ("万科的违约风险高不高", "credit"),
        ("工行的偿债能力", "credit"), ("What's the credit risk of Goldman Sachs?", "credit"),
        ("茅台的市场风险", "market"), ("比亚迪去年股价波动大吗", "market"),
        ("Nvidia market risk 2021", "market"),
        ("茅台的流动性风险怎么样？", "liquidity"), ("牧原最近的现金流紧张吗", "liquidity"),
        ("Is Boeing's liquidity risk high last year?", "liquidity"),
        ("宁德时代近三年的经营风险", "operational"), ("万华化学的操作风险", "operational"),
        ("中国平安的整体风险", "overall"), ("茅台的风险", "overall"),
        ("How risky is Microsoft stock?", "overall"),
    ],
)
def test_risk_type(resolver: EntityResolver, question, risk):
    q = parse_question(question, resolver, reference_date=REF)
    assert q.risk_type == risk
    assert not q.entity.abstained, q.entity.reason


def test_several_risk_types_first_one_wins(resolver: EntityResolver):
    q = parse_question("茅台的流动性和信用风险", resolver, reference_date=REF)
    assert q.risk_types == ("liquidity", "credit") and q.risk_type == "liquidity"
    assert detect_risk_types("nothing here") == ()


def test_risk_words_inside_the_company_name_do_not_count(resolver: EntityResolver):
    # "Price" in T. Rowe Price and "General" in General Mills are names, not risk words
    q = parse_question("T. Rowe Price liquidity", resolver, reference_date=REF)
    assert (q.entity.code, q.risk_types) == ("TROW", ("liquidity",))
    q = parse_question("General Mills", resolver, reference_date=REF)
    assert (q.entity.code, q.risk_type, q.risk_types) == ("GIS", "overall", ())


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "years"),
    [
        ("2021", "year", date(2021, 1, 1), date(2021, 12, 31), (2021,)),
        ("2021年的信用风险", "year", date(2021, 1, 1), date(2021, 12, 31), (2021,)),
        ("FY2022 credit", "year", date(2022, 1, 1), date(2022, 12, 31), (2022,)),
        ("2023年一季度", "quarter", date(2023, 1, 1), date(2023, 3, 31), (2023,)),
        ("2023年第三季度", "quarter", date(2023, 7, 1), date(2023, 9, 30), (2023,)),
        ("Q1 2023", "quarter", date(2023, 1, 1), date(2023, 3, 31), (2023,)),
        ("2023Q4", "quarter", date(2023, 10, 1), date(2023, 12, 31), (2023,)),
        ("first quarter of 2022", "quarter", date(2022, 1, 1), date(2022, 3, 31), (2022,)),
        ("2023年上半年", "half", date(2023, 1, 1), date(2023, 6, 30), (2023,)),
        ("H2 2022", "half", date(2022, 7, 1), date(2022, 12, 31), (2022,)),
        ("2019-2021年", "range", date(2019, 1, 1), date(2021, 12, 31), (2019, 2020, 2021)),
        ("2019年至2021年", "range", date(2019, 1, 1), date(2021, 12, 31), (2019, 2020, 2021)),
        ("from 2019 to 2020", "range", date(2019, 1, 1), date(2020, 12, 31), (2019, 2020)),
        ("近三年", "last_years", date(2021, 5, 1), REF, (2021, 2022, 2023)),
        ("最近两年", "last_years", date(2022, 5, 1), REF, (2022, 2023)),
        ("last 3 years", "last_years", date(2021, 5, 1), REF, (2021, 2022, 2023)),
        ("past three years", "last_years", date(2021, 5, 1), REF, (2021, 2022, 2023)),
        ("近6个月", "last_months", date(2023, 11, 1), REF, (2023, 2024)),
        ("今年", "year_to_date", date(2024, 1, 1), REF, (2024,)),
        ("this year", "year_to_date", date(2024, 1, 1), REF, (2024,)),
        ("去年", "year", date(2023, 1, 1), date(2023, 12, 31), (2023,)),
        ("last year", "year", date(2023, 1, 1), date(2023, 12, 31), (2023,)),
        ("前年", "year", date(2022, 1, 1), date(2022, 12, 31), (2022,)),
        ("本季度", "quarter_to_date", date(2024, 4, 1), REF, (2024,)),
        ("上季度", "quarter", date(2024, 1, 1), date(2024, 3, 31), (2024,)),
    ],
)
def test_period_forms(text, kind, start, end, years):
    p = parse_period(text, REF)
    assert (p.kind, p.start, p.end, p.fiscal_years) == (kind, start, end, years)


def test_latest_and_unspecified():
    assert parse_period("招行最近的信用风险", REF).kind == "latest"
    assert parse_period("recently", REF).kind == "latest"
    p = parse_period("茅台的风险", REF)
    assert (p.kind, p.start, p.end, p.fiscal_years) == ("unspecified", None, None, ())
    assert parse_period("known issues", REF).kind == "unspecified"  # 'now' inside a word


def test_stock_codes_are_not_years():
    assert parse_period("600519的违约风险", REF).kind == "unspecified"


def test_last_quarter_in_january_is_the_previous_year():
    p = parse_period("上季度", date(2024, 1, 15))
    assert (p.start, p.end) == (date(2023, 10, 1), date(2023, 12, 31))


def test_reversed_range_is_an_error():
    with pytest.raises(ResolutionError, match="ends \\(2019\\) before it starts \\(2021\\)"):
        parse_period("2021-2019", REF)


def test_parse_question_end_to_end(resolver: EntityResolver):
    q = parse_question("东方财富2023年一季度的流动性如何", resolver, reference_date=REF)
    assert q.entity.code == "300059.SZ"
    assert q.risk_type == "liquidity"
    assert (q.period.kind, q.period.start, q.period.end) == (
        "quarter", date(2023, 1, 1), date(2023, 3, 31))
    assert q.language == "zh"
    d = q.to_dict()
    assert d["entity"]["code"] == "300059.SZ" and d["period"]["start"] == "2023-01-01"
    en = parse_question("What is the market risk of Apple last year?", resolver,
                        reference_date=REF)
    assert (en.entity.code, en.risk_type, en.period.fiscal_years, en.language) == (
        "AAPL", "market", (2023,), "en")


def test_unknown_company_question_keeps_the_rest(resolver: EntityResolver):
    q = parse_question("华为去年的信用风险怎么样", resolver, reference_date=REF)
    assert q.entity.abstained and q.risk_type == "credit" and q.period.fiscal_years == (2023,)


@pytest.mark.parametrize(("bad", "message"), [("", "empty"), ("x" * 1001, "1,001 characters"),
                                              ("\x00" * 20, "binary data")])
def test_bad_questions(resolver: EntityResolver, bad, message):
    with pytest.raises(ResolutionError, match=message):
        parse_question(bad, resolver, reference_date=REF)
