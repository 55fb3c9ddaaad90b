"""Text normalisation shared by the entity base, the resolver and the question parser.

One function, :func:`normalise_text`, turns whatever people type into one canonical form,
and every alias key in the entity base is made by the same function, so a query and an
alias meet only when they normalise alike:

1. Unicode NFKC: full-width letters, digits and spaces become ASCII (``ＧＺＭＴ`` ->
   ``GZMT``, ``６００５１９`` -> ``600519``); rapidfuzz does not fold them itself.
2. OpenCC traditional -> simplified (``貴州茅台`` -> ``贵州茅台``).
3. Case folding.
4. A possessive ``'s`` and apostrophes dropped (``McDonald's`` -> ``mcdonald``), every other
   punctuation mark,
   symbol and control character becomes a space.
5. Whitespace collapsed; a space survives only between two Latin letters or digits, so
   ``贵 州 茅 台`` -> ``贵州茅台`` but ``kweichow  moutai`` -> ``kweichow moutai``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "compact",
    "has_cjk",
    "is_cjk_char",
    "is_latin_query",
    "normalise_text",
    "to_simplified",
]

# CJK Unified Ideographs, extension A and the compatibility block (after NFKC the last is
# rare, but a stray one must still count as Chinese).
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u0060\u00b4]")
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])['\u2018\u2019\u02bc]s\b")
_SPACES = re.compile(r"\s+")
_LATIN_QUERY = re.compile(r"^[a-z0-9 ]+$")


_CJK = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES) + "]")


def is_cjk_char(ch: str) -> bool:
    """True for a CJK ideograph (one character)."""
    return _CJK.match(ch) is not None


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one CJK ideograph."""
    return _CJK.search(text) is not None


@functools.lru_cache(maxsize=1)
def _converter() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified ones (OpenCC ``t2s``)."""
    if not has_cjk(text):
        return text
    return str(_converter().convert(text))  # type: ignore[attr-defined]


def _is_word_char(ch: str) -> bool:
    """A character that keeps a neighbouring space: a non-CJK letter or a digit."""
    if is_cjk_char(ch):
        return False
    return unicodedata.category(ch)[0] in "LN"


def _clean_chars(text: str) -> str:
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LN" or cat in ("Mn", "Mc"):
            out.append(ch)
        else:  # punctuation, symbols, separators, control and unassigned characters
            out.append(" ")
    return "".join(out)


def _squeeze_spaces(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    if " " not in text:
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == " " and not (_is_word_char(text[i - 1]) and _is_word_char(text[i + 1])):
            continue
        out.append(ch)
    return "".join(out)


def _normalise_once(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = to_simplified(s)
    s = s.casefold()
    s = unicodedata.normalize("NFKC", s)
    s = _POSSESSIVE.sub("", s)
    s = _APOSTROPHES.sub("", s)
    return _squeeze_spaces(_clean_chars(s))


@functools.lru_cache(maxsize=131072)
def normalise_text(text: str) -> str:
    """Canonical form of a name or question (see the module docstring).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The normalised text; ``normalise_text(normalise_text(x)) == normalise_text(x)``.

    Examples
    --------
    >>> normalise_text("  貴州茅台（ＳＨ６００５１９） ")
    '贵州茅台sh600519'
    >>> normalise_text("Kweichow  Moutai Co.,Ltd.")
    'kweichow moutai co ltd'
    >>> normalise_text("*ST 国华")
    'st国华'
    """
    s = _normalise_once(text)
    # NFKC, t2s and case folding can each expose work for another (a folded letter
    # that decomposes, a converted character that is itself a compatibility form); a
    # second pass reaches the fixed point, which the property tests check.
    again = _normalise_once(s)
    return again if again == s else normalise_text(again)


def compact(text: str) -> str:
    """A normalised text without spaces: the key for whole-string lookups."""
    return text.replace(" ", "")


def is_latin_query(normalised: str) -> bool:
    """True when a normalised text holds only ASCII letters, digits and spaces."""
    return bool(normalised) and _LATIN_QUERY.match(normalised) is not None
