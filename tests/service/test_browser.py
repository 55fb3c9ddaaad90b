"""The dashboard in a real browser: Debian's chromium driven by Playwright, headless.

Log in with a key, resolve 招行 from the entity box, see its charts render with no
console error, and watch an alert appear on the monitoring page after the monitoring
room replays held-out events (``workflow.monitor.monitor(replay=...)``) into the store.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("RISKMOE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("RISKMOE_SCREENSHOTS")  # e.g. docs/screenshots

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"chromium not found at {CHROMIUM}: apt-get install -y chromium",
    ),
]


@pytest.fixture()
def page(live, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        pg = context.new_page()
        pg.errors = []  # type: ignore[attr-defined]
        pg.on(
            "console",
            lambda m: pg.errors.append(m.text) if m.type == "error" else None,  # type: ignore[attr-defined]
        )
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def _shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SCREENSHOTS) / path.name)
    return path


def _login(page, live, role: str = "viewer") -> None:
    page.goto(f"{live.url}/")
    assert "/login" in page.url  # no session: sent to the login form
    page.keyboard.type(live.tokens[role])  # the key field has focus
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/")


def test_a_wrong_key_is_refused_on_the_login_page(page, live, tmp_path):
    page.goto(f"{live.url}/login")
    page.fill("#key", live.tokens["revoked"])
    page.keyboard.press("Enter")
    page.wait_for_selector("p.error")
    assert "revoked" in page.inner_text("p.error")
    assert "/login" in page.url


def test_resolve_zhaohang_and_see_its_charts(page, live, tmp_path):
    _login(page, live)
    _shot(page, tmp_path, "dashboard_overview")
    page.keyboard.press("Tab")  # skip link first, keyboard reachable
    page.goto(f"{live.url}/entity")
    page.fill("#q", "招行")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/entity/600036.SH")
    assert page.inner_text("#entity-code") == "600036.SH"
    assert "招商银行" in page.title()
    page.wait_for_selector("#history .js-plotly-plot .main-svg")
    plots = page.locator("#history .js-plotly-plot")
    assert plots.count() == 2
    # the PD line has the three stored points
    n_points = page.evaluate(
        "() => document.querySelector('#history .js-plotly-plot').data[0].x.length"
    )
    assert n_points == 3
    _shot(page, tmp_path, "dashboard_entity")
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_alert_appears_after_a_replayed_event(page, live, tmp_path):
    from riskmoe.workflow.monitor import monitor

    _login(page, live)
    page.goto(f"{live.url}/monitoring")
    shown = set(
        page.eval_on_selector_all("#alerts-body tr", "rows => rows.map(r => r.dataset.alert)")
    )
    settings = live.settings.model_copy(update={"redis_url": None})
    result = monitor(settings, replay="german_credit", limit=40, regime="calm", once=True)
    assert result.published == 40
    new = [a.alert_id for a in result.alerts if a.alert_id not in shown]
    assert new, "the replay raised no new alert"
    # the page was loaded before the replay: the row arrives through the live refresh
    page.wait_for_selector(f'#alerts-body tr[data-alert="{new[0]}"]', timeout=15_000)
    assert page.locator("#alerts-body tr").count() > len(shown)
    _shot(page, tmp_path, "dashboard_monitoring")
    assert page.errors == []  # type: ignore[attr-defined]


def test_every_page_renders_without_console_errors(page, live, tmp_path):
    _login(page, live)
    for path in ("/", "/models", "/monitoring"):
        page.goto(f"{live.url}{path}")
        page.wait_for_selector("main h2.page")
    _shot(page, tmp_path, "dashboard_models")
    assert page.errors == []  # type: ignore[attr-defined]
