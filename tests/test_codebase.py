"""House rules checked on every test run: lint, room import contracts, types."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the dev extra: pip install -e '.[dev]'")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_is_clean():
    res = _run(_tool("ruff"), "check", "src", "tests", "benchmarks")
    assert res.returncode == 0, res.stdout + res.stderr


def test_rooms_import_down_the_table_only():
    res = _run(_tool("lint-imports"))
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_mypy_on_the_package():
    res = _run(_tool("mypy"))
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
