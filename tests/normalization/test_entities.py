"""The entity base: contents, and persistence through a real DuckDB store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.exceptions import ResolutionError
from riskmoe.normalization import EntityBase, EntityResolver
from riskmoe.normalization.entities import ALIAS_COLUMNS, ENTITY_COLUMNS


def test_entities_are_unique_by_code_with_pinyin(shared_base: EntityBase):
    ents = shared_base.entities
    assert list(ents.columns) == list(ENTITY_COLUMNS)
    assert ents["code"].is_unique
    assert len(ents) > 5_700  # A/B shares, delisted ones from the ST snapshots, S&P 500
    moutai = shared_base.entity("600519.SH")
    assert moutai.name == "贵州茅台" and moutai.pinyin_initials == "gzmt"
    assert moutai.full_name == "贵州茅台酒股份有限公司" and moutai.listed
    assert shared_base.entity("AAPL").market == "US"
    # XD truncates a name; the entity keeps the real one
    assert shared_base.entity("601579.SH").name == "会稽山"
    with pytest.raises(ResolutionError, match="no entity with code '999999.SH'"):
        shared_base.entity("999999.SH")


def test_aliases_carry_source_and_confidence(shared_base: EntityBase):
    al = shared_base.aliases
    assert list(al.columns) == list(ALIAS_COLUMNS)
    assert al["confidence"].between(0, 1, inclusive="right").all()
    assert (al["source"].str.len() > 0).all()
    moutai = shared_base.aliases_of("600519.SH")
    kinds = dict(zip(moutai["key"], moutai["kind"], strict=False))
    assert kinds["贵州茅台"] == "short_name"
    assert kinds["gzmt"] == "pinyin_initials"
    assert kinds["kweichow moutai"] == "legal_form"
    assert kinds["茅台"] == "curated"
    # ambiguous rule-made keys stay ambiguous: every company keeps them
    pingan = al[al["key"] == "平安"]
    assert {"601318.SH", "000001.SZ"} <= set(pingan["code"])


def test_mention_names_for_searching_news(shared_base: EntityBase):
    names = shared_base.mention_names("600519.SH")
    assert "贵州茅台" in names and "茅台" in names and "gzmt" not in names
    assert "平安" not in shared_base.mention_names("601318.SH")  # shared with 平安银行
    assert names == sorted(names, key=lambda k: (-len(k), k))


def test_save_and_load_through_duckdb(shared_base: EntityBase, tmp_path: Path):
    path = tmp_path / "store.duckdb"
    with Store(path) as store:
        versions = shared_base.save(store)
        assert all(v.created for v in versions.values())
        again = shared_base.save(store)  # same content: no new version
        assert not any(v.created for v in again.values())
    with Store(path, read_only=True) as store:
        loaded = EntityBase.load(store)
    assert len(loaded) == len(shared_base)
    assert loaded.info["rules_version"] == shared_base.info["rules_version"]
    pd.testing.assert_frame_equal(
        loaded.aliases.sort_values(["key", "code"]).reset_index(drop=True),
        shared_base.aliases.sort_values(["key", "code"]).reset_index(drop=True),
        check_dtype=False,
    )
    assert loaded.entity("600519.SH") == shared_base.entity("600519.SH")
    assert EntityResolver(loaded).resolve("gzmt").code == "600519.SH"


def test_default_resolver_uses_the_store_as_a_cache(shared_base: EntityBase, tmp_path: Path):
    with Store(tmp_path / "cache.duckdb") as store:
        shared_base.save(store)
        resolver = EntityResolver.default(store=store)  # loads, does not rebuild
        assert resolver.resolve("招行").code == "600036.SH"
        assert len(resolver.base) == len(shared_base)


def test_load_from_an_empty_store_is_a_clear_error():
    with Store(":memory:") as store, pytest.raises(ResolutionError,
                                                   match="holds no entity base"):
        EntityBase.load(store)


def test_load_refuses_a_base_from_other_rules_or_tables(
    shared_base: EntityBase, isolated_settings: Settings
):
    info = {**shared_base.info, "rules_fingerprint": "0" * 16}
    old = EntityBase(shared_base.entities, shared_base.aliases, info)
    with Store(":memory:") as store:
        old.save(store)
        with pytest.raises(ResolutionError, match="fingerprint '0000000000000000'"):
            EntityBase.load(store)
        # the default resolver rebuilds (here from the bundled lists) and replaces it
        fresh = EntityResolver.default(isolated_settings, store=store)
        assert fresh.base.info["rules_fingerprint"] != "0" * 16
        assert EntityBase.load(store).info["rules_fingerprint"] == fresh.base.info[
            "rules_fingerprint"]


def test_bad_tables_are_refused(shared_base: EntityBase):
    with pytest.raises(ResolutionError, match="lacks columns"):
        EntityBase(shared_base.entities.drop(columns=["name"]), shared_base.aliases)
    doubled = pd.concat([shared_base.entities.head(2), shared_base.entities.head(1)])
    with pytest.raises(ResolutionError, match="duplicated codes"):
        EntityBase(doubled, shared_base.aliases)
