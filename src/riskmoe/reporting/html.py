"""Render a :class:`~riskmoe.reporting.model.Report` as one self-contained HTML file.

plotly.js is embedded once, inline, so the file opens offline with no CDN.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from riskmoe.reporting.model import Figure, Report, Section

__all__ = ["figure_to_plotly", "render_html", "section_context", "write_html"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("riskmoe.reporting", "templates"),
    autoescape=True,  # the template is .html.j2, which select_autoescape would not match
    undefined=jinja2.StrictUndefined,
)

_DASH = {"solid": None, "dash": "dash", "dot": "dot"}


def figure_to_plotly(fig: Figure) -> go.Figure:
    """The plotly figure for a report figure."""
    out = go.Figure()
    for t in fig.traces:
        if fig.kind == "bar":
            out.add_trace(go.Bar(name=t.name, x=list(t.x), y=list(t.y)))
        else:
            out.add_trace(
                go.Scatter(
                    name=t.name,
                    x=list(t.x),
                    y=list(t.y),
                    mode="lines",
                    line={"dash": _DASH[t.dash]},
                )
            )
    out.update_layout(
        title=fig.title,
        xaxis_title=fig.x_label,
        yaxis_title=fig.y_label,
        template="plotly_white",
        height=420,
        width=520 if fig.square else None,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        barmode="group",
        legend={"orientation": "h", "y": -0.2},
    )
    return out


def _cell(value: Any) -> dict[str, Any]:
    """Cell text, and whether it is a number (numbers are right-aligned; NaN is blank)."""
    if isinstance(value, float):
        if value != value:
            return {"text": "", "num": True}
        text = f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.0f}"
        return {"text": text, "num": True}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"text": f"{value:,}", "num": True}
    return {"text": "" if value is None else str(value), "num": False}


def section_context(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """What the templates draw for each section: figures as plotly divs (plotly.js is
    included once by the page), tables with formatted cells and numeric columns marked."""
    out = []
    n = 0
    for s in sections:
        figs = []
        for f in s.figures:
            n += 1
            figs.append(
                figure_to_plotly(f).to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=f"fig-{s.key}-{n}",
                    config={"displaylogo": False, "responsive": True},
                )
            )
        tables = []
        for t in s.tables:
            rows = [[_cell(v) for v in row] for row in t.rows]
            numeric = [
                bool(rows) and all(r[i]["num"] or not r[i]["text"] for r in rows)
                for i in range(len(t.columns))
            ]
            tables.append(
                {
                    "title": t.title,
                    "columns": [
                        {"text": c, "num": n} for c, n in zip(t.columns, numeric, strict=True)
                    ],
                    "rows": rows,
                    "note": t.note,
                }
            )
        out.append(
            {
                "key": s.key,
                "title": s.title,
                "summary": s.summary,
                "tables": tables,
                "figures": figs,
                "fragments": list(s.html_fragments),
            }
        )
    return out


def render_html(report: Report) -> str:
    """The report as an HTML string."""
    return _ENV.get_template("report.html.j2").render(
        title=report.title,
        generated_at=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        lineage=report.lineage,
        sections=section_context(report.sections),
        plotly_js=get_plotlyjs(),
    )


def write_html(report: Report, path: str | Path) -> Path:
    """Write the report atomically (a half-written file never replaces a good one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(report)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
