"""Session fixtures: the entity base is built once (seconds), then shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskmoe.config import Settings
from riskmoe.normalization import EntityBase, EntityResolver, load_entity_sources

from ..conftest import SHARED_DATA


@pytest.fixture(scope="session")
def shared_base(tmp_path_factory: pytest.TempPathFactory) -> EntityBase:
    """The entity base over ../shared/data (skips when it is absent)."""
    if SHARED_DATA is None:
        pytest.skip("../shared/data is not beside the project")
    home: Path = tmp_path_factory.mktemp("home")
    sources = load_entity_sources(Settings(home=home, offline=True))
    assert sources.origins["cn_listed_companies"] == "shared"
    return EntityBase.build(sources)


@pytest.fixture(scope="session")
def resolver(shared_base: EntityBase) -> EntityResolver:
    return EntityResolver(shared_base)


@pytest.fixture(scope="session")
def bundled_base(tmp_path_factory: pytest.TempPathFactory) -> EntityBase:
    """The entity base from the bundled lists only: no ../shared, no network."""
    home: Path = tmp_path_factory.mktemp("isolated")
    settings = Settings(home=home, use_shared_data=False, offline=True)
    return EntityBase.from_settings(settings)


@pytest.fixture(scope="session")
def bundled_resolver(bundled_base: EntityBase) -> EntityResolver:
    return EntityResolver(bundled_base)
