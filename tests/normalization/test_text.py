"""Normalisation: examples and properties."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from riskmoe.normalization.text import compact, has_cjk, is_latin_query, normalise_text


def _fullwidth(text: str) -> str:
    """ASCII letters, digits and punctuation to their full-width forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else
                   ("\u3000" if c == " " else c) for c in text)


def test_examples():
    assert normalise_text("  貴州茅台（ＳＨ６００５１９） ") == "贵州茅台sh600519"
    assert normalise_text("Kweichow  Moutai Co.,Ltd.") == "kweichow moutai co ltd"
    assert normalise_text("贵 州 茅 台") == "贵州茅台"
    assert normalise_text("万科 A") == "万科a"
    assert normalise_text("*ST 国华") == "st国华"
    assert normalise_text("McDonald's") == "mcdonald"
    assert normalise_text("\x00\x01abc\ufffd") == "abc"
    assert normalise_text("？？！！") == ""


def test_helpers():
    assert has_cjk("tcl科技") and not has_cjk("apple")
    assert is_latin_query("gzmt 2023") and not is_latin_query("茅台")
    assert compact("kweichow moutai") == "kweichowmoutai"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalisation_is_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
               max_size=30))
def test_full_width_and_half_width_normalise_alike(text):
    assert normalise_text(_fullwidth(text)) == normalise_text(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("貴州茅臺招商銀行萬科東方財富長江電力寧德時代中國平安"),
               min_size=1, max_size=12))
def test_traditional_folds_to_simplified(text):
    out = normalise_text(text)
    assert unicodedata.is_normalized("NFKC", out)
    assert not set(out) & set("貴臺銀萬東財長電寧時國")
