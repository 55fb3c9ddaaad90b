"""What a report is made of: sections holding tables and figures, all plain data.

The workflow fills these from result objects; :mod:`riskmoe.reporting.html` draws them.
Nothing here computes a risk number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["Trace", "Figure", "Table", "Section", "Report"]


@dataclass(frozen=True)
class Trace:
    """One line or bar series."""

    name: str
    x: Sequence[Any]
    y: Sequence[Any]
    dash: Literal["solid", "dash", "dot"] = "solid"


@dataclass(frozen=True)
class Figure:
    """A chart: line or bar traces with axis labels."""

    title: str
    traces: Sequence[Trace]
    x_label: str = ""
    y_label: str = ""
    kind: Literal["line", "bar"] = "line"
    square: bool = False


@dataclass(frozen=True)
class Table:
    """A table of already-formatted or numeric cells."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str = ""


@dataclass(frozen=True)
class Section:
    """A report section; ``key`` is a stable anchor id."""

    key: str
    title: str
    summary: str = ""
    tables: Sequence[Table] = ()
    figures: Sequence[Figure] = ()
    html_fragments: Sequence[str] = ()


@dataclass(frozen=True)
class Report:
    """A whole report: title, lineage (dataset versions, hashes) and sections."""

    title: str
    generated_at: datetime
    lineage: Mapping[str, Any] = field(default_factory=dict)
    sections: Sequence[Section] = ()
