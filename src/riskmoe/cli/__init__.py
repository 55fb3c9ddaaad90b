"""The ``riskmoe`` command line: parse, call the workflow, print. No logic lives here.

Each command group lives in its own module and registers itself on :data:`app` when imported.
"""

from riskmoe.cli import (  # noqa: F401  (registers commands)
    advise,
    data,
    export,
    models,
    monitor,
    names,
    risk,
    run,
    serve,
)
from riskmoe.cli._app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()
