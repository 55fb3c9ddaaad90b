"""The dashboard: server-rendered pages (jinja2 + plotly, offline), Chinese and English."""

from riskmoe.service.pages.views import router

__all__ = ["router"]
