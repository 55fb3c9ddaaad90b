"""Alias rules and the curated tables."""

from __future__ import annotations

import pytest

from riskmoe.normalization.aliases import (
    clean_short_name,
    core_name,
    english_first_word,
    english_without_industry,
    load_curated_aliases,
    load_unlisted_names,
    strip_legal_form,
    strip_region_prefix,
    strip_share_class,
    strip_status_marks,
)
from riskmoe.normalization.text import normalise_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("*ST国华", "国华"), ("ST康美", "康美"), ("S*ST前锋", "前锋"), ("XD会稽山", "会稽山"),
     ("N海博", "海博"), ("乐视退", "乐视"), ("神城A退", "神城A"), ("星环科技-U", "星环科技"),
     ("云从科技-UW", "云从科技"), ("PT金田A", "金田A"), ("TCL科技", "TCL科技")],
)
def test_strip_status_marks(raw, expected):
    assert strip_status_marks(raw) == expected


def test_clean_short_name_keeps_st_but_not_transient_marks():
    assert clean_short_name("XD会稽山") == "会稽山"
    assert clean_short_name("*ST国华") == "*ST国华"


def test_share_class_and_legal_forms():
    assert strip_share_class("万科A") == "万科"
    assert strip_share_class("TCL科技") == "TCL科技"
    key = normalise_text("中国平安保险（集团）股份有限公司")
    assert strip_legal_form(key) == "中国平安保险"
    assert strip_legal_form(normalise_text("民生控股股份有限公司"), trailing=False) == "民生控股"
    assert strip_legal_form(normalise_text("Apple Inc.")) == "apple"
    assert strip_legal_form(normalise_text("Alphabet Inc Class C")) == "alphabet"


def test_region_and_core_need_a_distinctive_rest():
    assert strip_region_prefix("贵州茅台") == "茅台"
    assert strip_region_prefix("宁波银行") is None  # 银行 says nothing on its own
    assert strip_region_prefix("重庆啤酒") is None
    assert core_name("格力电器") == "格力"
    assert core_name("中国银行") is None or core_name("中国银行") != "中国"
    assert english_without_industry("inovance technology") == "inovance"
    assert english_without_industry("china bank") is None
    assert english_first_word("ford motor") == "ford"
    assert english_first_word("bank of america") is None


def test_curated_table_is_documented_and_ambiguous_where_it_should_be():
    rows = load_curated_aliases()
    assert len(rows) >= 150
    assert all(r.note.strip() for r in rows), "every curated alias needs a note"
    by_alias: dict[str, set[str]] = {}
    for r in rows:
        by_alias.setdefault(r.alias, set()).add(r.code)
    for must in ("工行", "建行", "农行", "中行", "交行", "招行", "浦发", "东财", "茅台", "五粮液"
                 if "五粮液" in by_alias else "茅台", "宁德"):
        assert must in by_alias
    assert by_alias["工行"] == {"601398.SH"}
    # ANCHORS: 平安 is two companies, 中信 many -- never one
    assert {"601318.SH", "000001.SZ"} <= by_alias["平安"]
    assert len(by_alias["中信"]) >= 5


def test_unlisted_names_have_notes():
    names = dict(load_unlisted_names())
    assert "华为" in names and "恒大" in names
    assert all(note.strip() for note in names.values())
