"""Resolution order, the download path (against a loopback HTTP server) and the bundle."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from riskmoe.config import Settings
from riskmoe.data import load_dataset
from riskmoe.data._dataset import SourceFile
from riskmoe.data._sources import SourceLocator, download
from riskmoe.exceptions import DataError, DataFormatError, DatasetNotFoundError

from ..conftest import SHARED_DATA

GERMAN = SourceFile("statlog_german_credit", "german.data")


def _german_copy(root: Path) -> Path:
    if SHARED_DATA is None:
        pytest.skip("../shared/data is not beside the project")
    dest = root / "statlog_german_credit" / "german.data"
    dest.parent.mkdir(parents=True)
    shutil.copy(SHARED_DATA / "statlog_german_credit" / "german.data", dest)
    return dest


def test_download_writes_atomically_and_checks_sha(http_root, tmp_path):
    base, www = http_root
    (www / "f.csv").write_bytes(b"a,b\n1,2\n")
    good = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    dest = download(f"{base}/f.csv", tmp_path / "out" / "f.csv", sha256=good)
    assert dest.read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(DataFormatError, match="has sha256 .* expected 0+; discarded"):
        download(f"{base}/f.csv", tmp_path / "out" / "g.csv", sha256="0" * 64)
    assert not (tmp_path / "out" / "g.csv").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["f.csv"]  # no temp left


def test_download_http_error_is_specific(http_root, tmp_path):
    base, _ = http_root
    with pytest.raises(DatasetNotFoundError, match="HTTP 404"):
        download(f"{base}/missing.csv", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_mirror_download_then_cache(http_root, tmp_path):
    base, www = http_root
    _german_copy(www)
    settings = Settings(home=tmp_path / "home", use_shared_data=False, mirror_url=base)
    ds = load_dataset("german_credit", settings=settings)
    assert ds.meta.origin == "download"
    assert ds.meta.n_rows == 1000
    cached = settings.resolved_cache_dir / "statlog_german_credit" / "german.data"
    assert cached.is_file()
    # second load: offline, served from the cache without the server
    offline = Settings(home=tmp_path / "home", use_shared_data=False, offline=True)
    again = load_dataset("german_credit", settings=offline)
    assert again.meta.origin == "download"
    assert again.frame.equals(ds.frame)


def test_mirror_with_wrong_checksum_falls_back_to_bundle(http_root, tmp_path):
    base, www = http_root
    bad = www / "statlog_german_credit" / "german.data"
    bad.parent.mkdir()
    bad.write_text("A11 6 A34 A43 1169\n")  # not the real file: sha256 differs
    settings = Settings(
        home=tmp_path / "home", use_shared_data=False, mirror_url=base, download_timeout=5
    )
    ds = load_dataset("german_credit", settings=settings)
    assert ds.meta.origin == "bundled"
    assert not (settings.resolved_cache_dir / "statlog_german_credit" / "german.data").exists()


def test_resolution_order_explicit_then_data_dir_then_shared(tmp_path):
    data_dir = tmp_path / "mydata"
    _german_copy(data_dir)
    s = Settings(home=tmp_path / "h", data_dir=data_dir, offline=True)
    loc = SourceLocator("german_credit", s)
    assert loc.path(GERMAN) == data_dir / "statlog_german_credit" / "german.data"
    assert loc.origin == "data_dir"
    explicit = tmp_path / "elsewhere.data"
    shutil.copy(data_dir / "statlog_german_credit" / "german.data", explicit)
    loc2 = SourceLocator("german_credit", s, explicit=explicit)
    assert loc2.path(GERMAN) == explicit
    assert loc2.origin == "explicit"
    loc3 = SourceLocator("german_credit", Settings(home=tmp_path / "h", offline=True))
    assert loc3.path(GERMAN).is_file()
    assert loc3.origin == "shared"


def test_bundled_default_when_nothing_else(isolated_settings):
    ds = load_dataset("german_credit", settings=isolated_settings)
    assert ds.meta.origin == "bundled"
    assert ds.meta.n_rows == 1000
    assert ds.meta.positive_rate == pytest.approx(0.3)
    assert "personal_status_and_sex" not in ds.frame.columns
    assert any("dropped" in n for n in ds.meta.notes)


def test_explicit_missing_path_is_specific(isolated_settings, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_dataset("german_credit", settings=isolated_settings, path=tmp_path / "nope.data")


def test_unknown_dataset_and_option(isolated_settings):
    with pytest.raises(
        DatasetNotFoundError, match="unknown dataset 'germn'; known datasets: .*german_credit"
    ):
        load_dataset("germn", settings=isolated_settings)
    with pytest.raises(DataError, match=r"has no option\(s\) \['year'\]"):
        load_dataset("german_credit", settings=isolated_settings, year=5)


def test_nothing_found_message_lists_what_was_tried(tmp_path):
    s = Settings(home=tmp_path / "h", use_shared_data=False, offline=True)
    loc = SourceLocator("x", s)
    with pytest.raises(
        DatasetNotFoundError, match="cannot find statlog_german_credit/german.data. Tried:"
    ):
        loc.path(GERMAN)
