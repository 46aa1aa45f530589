"""The admin UI in a real browser: Debian's headless Chromium driven by Playwright.

Log in, certify a person, suspend the certification, see the state change; a screenshot goes
to tests/artifacts/ (gitignored). Skips only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from issuer import db
from issuer.app import create_app
from issuer.db.models import Role
from issuer.services import accounts, instance

from .chromium import launched_browser, needs_chromium, screenshot

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The issuer on 127.0.0.1 (werkzeug, threaded) with one officer account."""
    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "instance"
    url = db.sqlite_url(tmp_path)
    holder: dict[str, Any] = {}
    http_server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base_url = f"http://127.0.0.1:{http_server.server_port}"
    engine = db.make_engine(url)
    instance.init_instance(
        folder,
        engine=engine,
        database=url,
        public_url=base_url,
        dev_mode=True,
        passphrase=None,
        now=NOW,
    )
    db.run_transaction(
        db.session_factory(engine),
        lambda s: accounts.create_user(
            s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
        ),
    )
    holder["app"] = app = create_app({"INSTANCE": str(folder), "DATABASE_URL": url})
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lambda path: f"{base_url}/{path.lstrip('/')}"
    finally:
        http_server.shutdown()
        thread.join(timeout=10)
        http_server.server_close()
        app.extensions["certvc.db"].engine.dispose()
        engine.dispose()


@pytest.fixture
def page(server: Any) -> Iterator[Any]:
    for browser in launched_browser():
        context = browser.new_context(java_script_enabled=False)  # works without JS
        yield context.new_page()


def test_log_in_certify_suspend_and_see_the_state_change(server: Any, page: Any) -> None:
    page.goto(server("/admin/"))
    assert "/admin/login" in page.url
    page.get_by_label("User name").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Certifications").is_visible()

    page.get_by_role("link", name="Certify").click()
    page.get_by_label("Person's name (as on the certificate)").fill("Zoë Ångström-Ōtsuka")
    page.get_by_label("Scheme").select_option("CWI-2")
    page.get_by_label("Scope").fill("visual testing of welds, steel groups 1, 2 and 8")
    page.get_by_label("Reason").fill("certification committee decision")
    page.get_by_role("button", name="Issue").click()
    assert page.get_by_role("status").first.inner_text().endswith("issued.")
    assert page.locator("#state").inner_text().strip().lower() == "active"

    suspend = page.locator("form", has=page.get_by_role("heading", name="Suspend"))
    suspend.get_by_label("Reason").fill("surveillance audit finding")
    suspend.get_by_role("button", name="Suspend").click()
    assert page.locator("#state").inner_text().strip().lower() == "suspended"
    assert page.get_by_role("heading", name="Reinstate").is_visible()
    assert "surveillance audit finding" in page.locator("table").last.inner_text()

    shot = screenshot(page, "admin_suspended.png", full_page=True)
    assert shot.stat().st_size > 10_000

    page.get_by_role("link", name="Certifications").click()
    page.get_by_label("State").select_option("suspended")
    page.get_by_role("button", name="Search").click()
    assert "Zoë Ångström-Ōtsuka" in page.locator("table").inner_text()
