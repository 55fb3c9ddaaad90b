"""Pinyin with the overrides from data/pinyin_overrides.csv."""

from __future__ import annotations

import pytest

from riskmoe.normalization.pinyin import (
    full_pinyin,
    install_overrides,
    pinyin_initials,
    pinyin_syllables,
)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        # ANCHORS: names pypinyin misreads without the overrides
        ("大参林", "dashenlin", "dsl"),
        ("会稽山", "kuaijishan", "kjs"),
        ("朝阳科技", "chaoyangkeji", "cykj"),
        # 长 is cháng in names, zhǎng on its own in pypinyin
        ("长江电力", "changjiangdianli", "cjdl"),
        ("长城汽车", "changchengqiche", "ccqc"),
        ("重啤", "chongpi", "cp"),
        ("荣晟环保", "rongshenghuanbao", "rshb"),
        ("张家港行", "zhangjiaganghang", "zjgh"),
        ("贵州茅台", "guizhoumaotai", "gzmt"),
        ("tcl科技", "tclkeji", "tclkj"),
    ],
)
def test_readings(name, full, initials):
    assert full_pinyin(name) == full
    assert pinyin_initials(name) == initials


def test_phrases_keep_their_other_readings():
    # the single-character overrides must not break common phrases
    assert pinyin_syllables("董事长") == ("dong", "shi", "zhang")
    assert pinyin_syllables("大厦") == ("da", "sha")
    assert pinyin_syllables("厦门") == ("xia", "men")


def test_install_is_idempotent():
    n = install_overrides()
    assert n >= 20
    assert install_overrides() == n
