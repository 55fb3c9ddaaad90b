"""The bundled offline fallback: works with ../shared hidden and no network."""

from __future__ import annotations

import pytest

from riskmoe.config import Settings
from riskmoe.normalization import (
    EntityResolver,
    load_bundled_companies,
    load_bundled_sp500,
    load_entity_sources,
)


def test_bundled_company_list_is_clean():
    frame = load_bundled_companies()
    assert len(frame) > 5_000 and frame["code"].is_unique
    assert frame["code"].str.match(r"^\d{6}\.(SH|SZ|BJ)$").all()
    by_code = dict(zip(frame["code"], frame["short_name"], strict=True))
    assert by_code["000002.SZ"] == "万科A"  # full-width letter and padding gone
    assert by_code["600519.SH"] == "贵州茅台"


def test_bundled_sp500_list():
    frame = load_bundled_sp500()
    assert len(frame) == 505 and "AAPL" in set(frame["ticker"])


def test_sources_fall_back_to_the_bundle(isolated_settings: Settings):
    sources = load_entity_sources(isolated_settings)
    assert sources.origins == {
        "cn_listed_companies": "bundled", "sp500_constituents": "bundled",
        "cn_st_status": "missing",
    }
    assert sources.st_history is None


@pytest.mark.parametrize(
    ("query", "code"),
    [("工行", "601398.SH"), ("600519", "600519.SH"), ("茅台", "600519.SH"),
     ("gzmt", "600519.SH"), ("貴州茅台", "600519.SH"), ("AAPL", "AAPL"), ("Apple", "AAPL"),
     ("Moutai", "600519.SH"), ("招行最近的信用风险?", "600036.SH")],
)
def test_resolver_works_offline(bundled_resolver: EntityResolver, query, code):
    assert bundled_resolver.base.info["origins"]["cn_listed_companies"] == "bundled"
    res = bundled_resolver.resolve(query)
    assert res.code == code, res.to_dict()


def test_offline_unknown_still_abstains(bundled_resolver: EntityResolver):
    assert bundled_resolver.resolve("华为").abstained
    assert bundled_resolver.resolve("平安").abstained
