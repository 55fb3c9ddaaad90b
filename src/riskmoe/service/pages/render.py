"""Render dashboard pages from :mod:`riskmoe.reporting` sections (the report's chart code)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2

from riskmoe.reporting import Section
from riskmoe.reporting.html import figure_to_plotly

__all__ = ["NAV", "render_page"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("riskmoe.service.pages", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

# (path, English, Chinese, access key)
NAV = (
    ("/", "Portfolio", "组合概览", "1"),
    ("/entity", "Entity", "主体", "2"),
    ("/market", "Market risk", "市场风险", "3"),
    ("/monitoring", "Monitoring", "监控", "4"),
    ("/models", "Models", "模型", "5"),
)


def _cell(value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        if value != value:
            return {"text": "", "num": True}
        text = f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.0f}"
        return {"text": text, "num": True}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"text": f"{value:,}", "num": True}
    return {"text": "" if value is None else str(value), "num": False}


def _sections(sections: Sequence[Section]) -> list[dict[str, Any]]:
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
        tables = [
            {
                "title": t.title,
                "columns": list(t.columns),
                "rows": [[_cell(v) for v in row] for row in t.rows],
                "note": t.note,
            }
            for t in s.tables
        ]
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


def render_page(
    template: str,
    *,
    title: str,
    active: str,
    user: str | None,
    sections: Sequence[Section] = (),
    **context: Any,
) -> str:
    """A page: navigation, the page's own template blocks and its report sections."""
    return _ENV.get_template(template).render(
        title=title,
        active=active,
        user=user,
        nav=NAV,
        sections=_sections(sections),
        **context,
    )
