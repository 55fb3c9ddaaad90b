"""Render dashboard pages from :mod:`riskmoe.reporting` sections (the report's chart code)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2

from riskmoe.reporting import Section
from riskmoe.reporting.html import section_context

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
        sections=section_context(sections),
        **context,
    )
