"""Settings, read once from the environment (prefix ``RISKMOE_``) and passed in.

There is no global settings object: the doors build a :class:`Settings` and hand it to
the workflow, and tests build their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_shared_data_dirs"]


def default_shared_data_dirs() -> tuple[Path, ...]:
    """Candidate ``shared/data`` folders beside the project, most specific first.

    The project is checked out as ``main/`` with ``shared/`` beside it; the current
    directory and the source tree are both tried so an editable install and a run from
    the repository root find it alike.
    """
    here = Path(__file__).resolve()
    candidates = [Path.cwd() / ".." / "shared" / "data", Path.cwd() / "shared" / "data"]
    # src/riskmoe/config.py -> repository root is parents[2]
    if len(here.parents) > 3:
        candidates.append(here.parents[2] / ".." / "shared" / "data")
    seen: list[Path] = []
    for c in candidates:
        r = c.resolve()
        if r not in seen:
            seen.append(r)
    return tuple(seen)


class Settings(BaseSettings):
    """riskmoe settings.

    Parameters
    ----------
    home : Path
        Working folder for the store, caches, models and reports.
    data_dir : Path or None
        Folder laid out like ``shared/data`` (``RISKMOE_DATA_DIR``); searched before
        ``../shared/data``.
    store_path : Path or None
        DuckDB file; defaults to ``home / "riskmoe.duckdb"``.
    cache_dir : Path or None
        Where downloaded datasets are kept; defaults to ``home / "cache"``.
    offline : bool
        Never try to download a dataset.
    mirror_url : str or None
        Base URL of a mirror laid out like ``shared/data``
        (``{mirror_url}/{folder}/{file}``), tried before each dataset's official URL.
    download_timeout : float
        Seconds to wait for a download to start answering.
    use_shared_data : bool
        Look in ``../shared/data`` at all (off in tests of the fallback chain).
    redis_url : str or None
        Redis for the monitoring stream (``redis://127.0.0.1:6379/0``); unset: in-process.
    """

    model_config = SettingsConfigDict(env_prefix="RISKMOE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.cwd() / ".riskmoe")
    data_dir: Path | None = None
    store_path: Path | None = None
    cache_dir: Path | None = None
    offline: bool = False
    mirror_url: str | None = None
    download_timeout: float = 10.0
    use_shared_data: bool = True
    random_state: int = 0
    redis_url: str | None = None

    @field_validator("download_timeout")
    @classmethod
    def _positive_timeout(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(f"download_timeout must be > 0 seconds; got {v}.")
        return v

    @property
    def resolved_store_path(self) -> Path:
        """The DuckDB file the store uses."""
        return self.store_path if self.store_path is not None else self.home / "riskmoe.duckdb"

    @property
    def resolved_cache_dir(self) -> Path:
        """The folder downloads are cached in."""
        return self.cache_dir if self.cache_dir is not None else self.home / "cache"

    def data_search_dirs(self) -> tuple[Path, ...]:
        """Folders laid out like ``shared/data``, in the order they are searched."""
        dirs: list[Path] = []
        if self.data_dir is not None:
            dirs.append(Path(self.data_dir))
        if self.use_shared_data:
            dirs.extend(default_shared_data_dirs())
        return tuple(dirs)
