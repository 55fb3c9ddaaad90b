"""The ``riskmoe`` command line: parse, call the workflow, print. No logic lives here.

Each command group lives in its own module and registers itself on :data:`app` when imported.
"""

from riskmoe.cli import data, models, names, risk, run  # noqa: F401  (registers commands)
from riskmoe.cli._app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()
