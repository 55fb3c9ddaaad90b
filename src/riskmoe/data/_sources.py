"""Finding a dataset's files: explicit path > ``RISKMOE_DATA_DIR`` > ``../shared/data`` >
download into the cache > the small bundled default.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from riskmoe.config import Settings
from riskmoe.data._dataset import FileLocator, Origin, SourceFile
from riskmoe.exceptions import DataFormatError, DatasetNotFoundError

__all__ = ["SourceLocator", "download", "sha256_of", "bundled_path"]

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, *, sha256: str | None = None, timeout: float = 10.0) -> Path:
    """Download ``url`` to ``dest`` atomically, checking the checksum if given.

    The body goes to a temporary file beside ``dest`` and is renamed into place only
    when complete (and matching ``sha256``), so an interrupted or corrupt download
    never leaves a file that looks usable.

    Raises
    ------
    DatasetNotFoundError
        If the server cannot be reached or answers with an error status.
    DataFormatError
        If the body is shorter than its ``Content-Length`` or its checksum differs.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                req = urllib.request.Request(url, headers={"User-Agent": "riskmoe"})
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    expected = resp.headers.get("Content-Length")
                    shutil.copyfileobj(resp, out, _CHUNK)
            except urllib.error.HTTPError as exc:
                raise DatasetNotFoundError(
                    f"download of {url} failed: HTTP {exc.code} {exc.reason}."
                ) from exc
            except (urllib.error.URLError, OSError) as exc:
                raise DatasetNotFoundError(f"download of {url} failed: {exc}.") from exc
        size = tmp.stat().st_size
        if expected is not None and size != int(expected):
            raise DataFormatError(
                f"download of {url} is truncated: got {size} bytes, expected {expected}."
            )
        if sha256 is not None:
            got = sha256_of(tmp)
            if got != sha256:
                raise DataFormatError(
                    f"download of {url} has sha256 {got}, expected {sha256}; discarded."
                )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def bundled_path(name: str) -> Path:
    """Path of a file shipped in ``riskmoe/data/bundled``."""
    return Path(str(resources.files("riskmoe.data").joinpath("bundled", name)))


@dataclass
class SourceLocator(FileLocator):
    """Resolves a dataset's files through the resolution order, remembering the origin.

    Parameters
    ----------
    dataset : str
        Dataset name (for messages).
    settings : Settings
        Where to search, cache and whether to download.
    explicit : Path or None
        A file or a folder given by the caller; searched first. A folder is tried both
        as the dataset's own folder and as a ``shared/data``-like root.
    """

    dataset: str
    settings: Settings
    explicit: Path | None = None
    origins: dict[str, Origin] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    def _candidates(self, source: SourceFile) -> list[tuple[Origin, Path]]:
        out: list[tuple[Origin, Path]] = []
        if self.explicit is not None:
            e = Path(self.explicit)
            if e.is_file() or e.suffix:
                out.append(("explicit", e))
            else:
                out.append(("explicit", e / source.name))
                out.append(("explicit", e / source.folder / source.name))
        if self.settings.data_dir is not None:
            out.append(("data_dir", Path(self.settings.data_dir) / source.folder / source.name))
        if self.settings.use_shared_data:
            for root in self.settings.data_search_dirs()[1 if self.settings.data_dir else 0 :]:
                out.append(("shared", root / source.folder / source.name))
        out.append(("download", self.settings.resolved_cache_dir / source.folder / source.name))
        return out

    def path(self, source: SourceFile) -> Path:
        """Resolve one file.

        Raises
        ------
        DatasetNotFoundError
            If no copy is found, no download succeeds and nothing is bundled.
        """
        key = f"{source.folder}/{source.name}"
        tried: list[str] = []
        for origin, candidate in self._candidates(source):
            if (
                origin == "explicit"
                and self.explicit is not None
                and not Path(self.explicit).exists()
            ):
                raise DatasetNotFoundError(
                    f"{self.dataset}: the path {self.explicit} does not exist."
                )
            if candidate.is_file():
                return self._found(key, origin, candidate)
            tried.append(str(candidate))
        cached = self.settings.resolved_cache_dir / source.folder / source.name
        if not self.settings.offline:
            urls = []
            if self.settings.mirror_url:
                urls.append(f"{self.settings.mirror_url.rstrip('/')}/{source.folder}/{source.name}")
            if source.url:
                urls.append(source.url)
            for url in urls:
                try:
                    download(
                        url, cached, sha256=source.sha256, timeout=self.settings.download_timeout
                    )
                except (DatasetNotFoundError, DataFormatError) as exc:
                    tried.append(str(exc))
                    continue
                return self._found(key, "download", cached)
        raise DatasetNotFoundError(
            f"{self.dataset}: cannot find {key}. Tried: "
            + "; ".join(tried)
            + ". Set RISKMOE_DATA_DIR to a folder laid out like shared/data, or pass a path."
        )

    def _found(self, key: str, origin: Origin, path: Path) -> Path:
        self.origins[key] = origin
        self.paths[key] = path
        return path

    @property
    def origin(self) -> Origin:
        """The least local origin among the files resolved so far."""
        order: list[Origin] = ["explicit", "data_dir", "shared", "download", "bundled"]
        seen = set(self.origins.values()) or {"shared"}
        return max(seen, key=order.index)
