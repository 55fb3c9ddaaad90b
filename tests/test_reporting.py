"""The HTML report: self-contained, escapes text, draws every section."""

from __future__ import annotations

from datetime import UTC, datetime

from riskmoe.reporting import Figure, Report, Section, Table, Trace, render_html, write_html


def _report() -> Report:
    return Report(
        title="t <script>",
        generated_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        lineage={"table x__v1": "3 rows"},
        sections=(
            Section(
                "s1",
                "Section one",
                summary="a & b",
                tables=(Table("tbl", ["name", "value"], [["<b>x</b>", 1234.5], ["y", 2]]),),
                figures=(Figure("fig", [Trace("line", [0, 1], [0, 1])]),),
            ),
        ),
    )


def test_report_is_self_contained_and_escaped(tmp_path):
    html = render_html(_report())
    assert 'src="http' not in html and "cdn.plot.ly" not in html.split("</script>", 1)[1]
    assert "t &lt;script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert 'id="s1"' in html and "Section one" in html and "a &amp; b" in html
    assert '<td class="num">1,234</td>' in html  # >= 1000: no decimals
    assert '<th scope="col" class="num">value</th>' in html
    assert "Plotly.newPlot" in html
    assert "table x__v1" in html


def test_write_html_is_atomic(tmp_path):
    path = write_html(_report(), tmp_path / "out" / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]
