"""The resolver on real cases, per category, and on bad input."""

from __future__ import annotations

import json

import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmoe.exceptions import ResolutionError
from riskmoe.normalization import EntityResolver, Resolution, ResolverConfig

# (query, expected code) -- one block per category of the dev set
RESOLVED = [
    # colloquial abbreviation
    ("工行", "601398.SH"), ("招行", "600036.SH"), ("东财", "300059.SZ"), ("苹果", "AAPL"),
    # core name
    ("茅台", "600519.SH"), ("格力", "000651.SZ"), ("伊利", "600887.SH"),
    # pinyin initials and full pinyin
    ("gzmt", "600519.SH"), ("GZMT", "600519.SH"), ("kdxf", "002230.SZ"),
    ("guizhou maotai", "600519.SH"), ("maotai", "600519.SH"), ("dashenlin", "603233.SH"),
    # English name
    ("Kweichow Moutai", "600519.SH"), ("Apple", "AAPL"), ("China Merchants Bank", "600036.SH"),
    ("ICBC", "601398.SH"), ("JPMorgan Chase", "JPM"),
    # code forms
    ("600519", "600519.SH"), ("600519.SH", "600519.SH"), ("SH600519", "600519.SH"),
    ("sh600519", "600519.SH"), ("600519.SS", "600519.SH"), ("sh.600000", "600000.SH"),
    ("000858.sz", "000858.SZ"), ("AAPL", "AAPL"), ("aapl", "AAPL"), ("BRK.B", "BRK.B"),
    # full-width, traditional, spacing
    ("６００５１９．ＳＨ", "600519.SH"), ("ＧＺＭＴ", "600519.SH"), ("万科Ａ", "000002.SZ"),
    ("貴州茅台", "600519.SH"), ("招商銀行", "600036.SH"), ("萬科", "000002.SZ"),
    ("贵 州 茅 台", "600519.SH"), ("Kweichow  Moutai", "600519.SH"),
    # full legal name (also a wrong one people write)
    ("贵州茅台酒股份有限公司", "600519.SH"), ("中国平安保险（集团）股份有限公司", "601318.SH"),
    ("贵州茅台股份有限公司", "600519.SH"),
    # typo / homophone
    ("贵州矛台", "600519.SH"), ("五粮夜", "000858.SZ"), ("科大迅飞", "002230.SZ"),
    ("Kweichow Moutia", "600519.SH"),
    # inside a question
    ("招行最近的信用风险?", "600036.SH"), ("茅台的流动性风险怎么样？", "600519.SH"),
    ("What is the market risk of Apple in 2023?", "AAPL"), ("600519的违约风险", "600519.SH"),
    ("How risky is Microsoft stock?", "MSFT"),
]


@pytest.mark.parametrize(("query", "code"), RESOLVED)
def test_resolves_real_cases(resolver: EntityResolver, query: str, code: str):
    res = resolver.resolve(query)
    assert not res.abstained, res.reason
    assert res.code == code, res.to_dict()
    assert res.candidates[0].code == code
    assert 0.0 < res.score <= 1.0


@pytest.mark.parametrize(
    ("query", "must_include"),
    [
        ("平安", {"601318.SH", "000001.SZ"}),
        ("中信", {"600030.SH", "601998.SH"}),
        ("zsyh", {"600036.SH", "601916.SH"}),  # shared initials: candidates, not a guess
        ("Google", {"GOOGL", "GOOG"}),
        ("平安的市场风险怎么样", {"601318.SH", "000001.SZ"}),
        ("工商银行和建设银行", {"601398.SH", "601939.SH"}),
    ],
)
def test_ambiguous_abstains_with_candidates(resolver: EntityResolver, query, must_include):
    res = resolver.resolve(query)
    assert res.abstained and res.code is None and res.name is None
    assert must_include <= {c.code for c in res.candidates}, res.to_dict()


@pytest.mark.parametrize(
    "query",
    ["华为", "華為", "腾讯控股", "阿里巴巴", "恒大", "京东", "Huawei", "Tencent",
     "华为的信用风险怎么样", "今年的信用风险", "999999", "688999", "asdfgh", "？？？"],
)
def test_unknown_abstains(resolver: EntityResolver, query):
    res = resolver.resolve(query)
    assert res.abstained and res.code is None, res.to_dict()


def test_unlisted_name_says_why(resolver: EntityResolver):
    res = resolver.resolve("华为")
    assert res.abstained
    assert "not in the entity base" in res.reason and "Huawei" in res.reason


def test_same_sound_twin_is_not_a_typo_fix(resolver: EntityResolver):
    # ANCHORS: 中核科技 / 众合科技 are two real companies; each resolves to itself
    a, b = resolver.resolve("中核科技"), resolver.resolve("众合科技")
    assert not a.abstained and not b.abstained and a.code != b.code


def test_to_dict_is_the_cli_json_line(resolver: EntityResolver):
    d = resolver.resolve("平安").to_dict()
    assert {"query", "code", "name", "score", "abstained", "candidates"} <= set(d)
    assert all(set(c) == {"code", "name", "score"} for c in d["candidates"])
    json.dumps(d, ensure_ascii=False)


def test_candidates_are_code_name_score_tuples(resolver: EntityResolver):
    res = resolver.resolve("茅台")
    code, name, score = res.candidates[0]
    assert (code, name) == ("600519.SH", "贵州茅台") and score == res.score


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("贵州茅台" * 300, "1,200 characters long"),
        ("\x00\x01\x02\x03\x04\x05\x06\x07\x08", "binary data"),
        (b"\xff\xfe\x00\x89PNG", "not UTF-8"),
        (12345, "must be text"),
        (None, "must be text"),
    ],
)
def test_bad_input_gives_a_clear_error(resolver: EntityResolver, bad, message):
    with pytest.raises(ResolutionError, match=message):
        resolver.resolve(bad)


def test_utf8_bytes_are_accepted(resolver: EntityResolver):
    assert resolver.resolve("招行".encode()).code == "600036.SH"


def test_garbage_text_abstains_without_crashing(resolver: EntityResolver):
    for junk in ["\ufffd\ufffd\ufffd", "🙂🙂🙂", "ꙮꙮꙮ", "a" * 999, "9" * 999, "的的的的"]:
        res = resolver.resolve(junk)
        assert isinstance(res, Resolution) and res.abstained


def test_config_is_validated():
    with pytest.raises(ValueError, match="accept must be in"):
        ResolverConfig(accept=1.5)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        ResolverConfig(top_k=0)


_NAMES = ["贵州茅台", "招商银行", "五粮液", "宁德时代", "东方财富", "长江电力", "万科A",
          "海康威视", "云南白药", "工商银行", "中国平安", "科大讯飞"]
_S2T = opencc.OpenCC("s2t")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(_NAMES), suffix=st.sampled_from(["", "的信用风险", "最近怎么样"]))
def test_traditional_and_simplified_resolve_alike(resolver, name, suffix):
    simplified = resolver.resolve(name + suffix)
    traditional = resolver.resolve(_S2T.convert(name + suffix))
    assert (traditional.code, traditional.abstained) == (simplified.code, simplified.abstained)
    assert not simplified.abstained


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.sampled_from(["600519.SH", "sh600519", "gzmt", "AAPL", "BRK.B", "万科A",
                              "Kweichow Moutai", "000858.sz", "ICBC", "TCL科技"]))
def test_full_width_and_half_width_resolve_alike(resolver, query):
    half, full = resolver.resolve(query), resolver.resolve(_fullwidth(query))
    assert (full.code, full.abstained) == (half.code, half.abstained)
    assert not half.abstained
