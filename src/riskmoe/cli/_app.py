"""The application object and what every command shares: errors, settings, output, progress."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from riskmoe.config import Settings
from riskmoe.exceptions import RiskMoEError

app = typer.Typer(
    help="riskmoe: financial risk management built around a Mixture-of-Experts model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="List, inspect and ingest datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
risk_app = typer.Typer(
    help="Measure and grade risk: VaR, ES, backtests, IRB, grades.", no_args_is_help=True
)
app.add_typer(risk_app, name="risk")
benchmark_app = typer.Typer(help="Benchmarks on real data.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Dataset option KEY=VALUE (repeatable), e.g. year=5."),
]


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def handles_errors(fn: F) -> F:
    """Turn riskmoe's own errors into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RiskMoEError as exc:
            fail(str(exc))
        except ValidationError as exc:
            fail(f"invalid setting: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}")
        except ValueError as exc:  # argument validation (e.g. test_size) raises ValueError
            fail(str(exc))
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("RISKMOE_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}. This is a bug in "
                "riskmoe; rerun with RISKMOE_DEBUG=1 for the traceback and report it.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=1) from None
        return None

    return wrapper  # type: ignore[return-value]


def load_settings() -> Settings:
    return Settings()


def parse_options(items: list[str] | None) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            fail(f"--option takes KEY=VALUE; got {item!r}.")
        key, value = item.split("=", 1)
        parsed: Any = value
        try:
            parsed = int(value)
        except ValueError:
            pass
        opts[key.strip()] = parsed
    return opts


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
