"""Pinyin of names, with overrides for the names pypinyin reads wrongly.

pypinyin picks one reading per character or phrase; for company names some defaults are
wrong (``大参林`` is dà shēn lín, not dà cān lín; ``会稽山`` is kuài jī shān; ``长`` in
``长城``-like names is cháng). The overrides live in ``data/pinyin_overrides.csv`` (one row
per phrase with a note on why), were found by comparing pypinyin's initials with the
exchange's initials (tushare ``cnspell``) for every listed name, and are installed into
pypinyin's dictionaries once per process with ``load_phrases_dict`` / ``load_single_dict``.

Installing them changes pypinyin's readings for the whole process; the overrides only
correct readings, so other users of pypinyin in the process see better pinyin, not
different behaviour.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

from riskmoe.normalization.text import is_cjk_char

__all__ = ["full_pinyin", "install_overrides", "pinyin_initials", "pinyin_syllables"]

_OVERRIDES_FILE = "pinyin_overrides.csv"


@functools.lru_cache(maxsize=1)
def install_overrides() -> int:
    """Load ``data/pinyin_overrides.csv`` into pypinyin (idempotent); the number of rows.

    Returns
    -------
    int
        Number of overrides installed.
    """
    from pypinyin import load_phrases_dict, load_single_dict

    text = resources.files("riskmoe.normalization").joinpath("data").joinpath(_OVERRIDES_FILE)
    rows = list(csv.DictReader(text.read_text(encoding="utf-8").splitlines()))
    phrases: dict[str, list[list[str]]] = {}
    singles: dict[int, str] = {}
    for row in rows:
        phrase, readings = row["phrase"], row["pinyin"].split()
        if len(readings) != len(phrase):
            raise ValueError(
                f"{_OVERRIDES_FILE}: {phrase!r} has {len(phrase)} characters but "
                f"{len(readings)} readings ({row['pinyin']!r})."
            )
        if len(phrase) == 1:
            singles[ord(phrase)] = readings[0]
        else:
            phrases[phrase] = [[r] for r in readings]
    load_single_dict(singles)
    load_phrases_dict(phrases)
    return len(rows)


def _runs(text: str) -> list[tuple[bool, str]]:
    """Split text into (is_cjk, run) pieces."""
    runs: list[tuple[bool, str]] = []
    for ch in text:
        cjk = is_cjk_char(ch)
        if runs and runs[-1][0] == cjk:
            runs[-1] = (cjk, runs[-1][1] + ch)
        else:
            runs.append((cjk, ch))
    return runs


@functools.lru_cache(maxsize=65536)
def pinyin_syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of the CJK characters; other runs kept as words.

    ``ü`` is written ``v`` as people type it. Non-CJK runs (``A`` in ``万科A``, ``TCL``)
    are kept lower-cased, split at spaces.

    Examples
    --------
    >>> pinyin_syllables("大参林")
    ('da', 'shen', 'lin')
    >>> pinyin_syllables("万科a")
    ('wan', 'ke', 'a')
    """
    from pypinyin import Style, lazy_pinyin

    install_overrides()
    out: list[str] = []
    for cjk, run in _runs(text):
        if cjk:
            out.extend(lazy_pinyin(run, style=Style.NORMAL, errors="ignore"))
        else:
            out.extend(w for w in run.lower().split() if w)
    return tuple(out)


def full_pinyin(text: str) -> str:
    """Pinyin without spaces: ``贵州茅台`` -> ``guizhoumaotai``."""
    return "".join(pinyin_syllables(text))


def pinyin_initials(text: str) -> str:
    """First letter of each CJK syllable; non-CJK words kept whole.

    Examples
    --------
    >>> pinyin_initials("贵州茅台"), pinyin_initials("tcl科技"), pinyin_initials("会稽山")
    ('gzmt', 'tclkj', 'kjs')
    """
    out: list[str] = []
    for cjk, run in _runs(text):
        if cjk:
            out.extend(s[0] for s in pinyin_syllables(run) if s)
        else:
            out.extend(w for w in run.lower().split() if w)
    return "".join(out)
