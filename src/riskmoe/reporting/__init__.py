"""Reporting: render result objects as a self-contained HTML report; computes nothing."""

from riskmoe.reporting.html import render_html, write_html
from riskmoe.reporting.model import Figure, Report, Section, Table, Trace

__all__ = ["Figure", "Report", "Section", "Table", "Trace", "render_html", "write_html"]
