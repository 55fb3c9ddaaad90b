"""Name resolution as a job: the default resolver over the store's entity base."""

from __future__ import annotations

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.normalization import EntityResolver

__all__ = ["resolver"]


def resolver(settings: Settings) -> EntityResolver:
    """The default resolver; the entity base is built once and kept in the store."""
    with Store(settings.resolved_store_path) as store:
        return EntityResolver.default(settings, store=store)
