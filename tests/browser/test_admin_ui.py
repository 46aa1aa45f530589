"""The admin UI in a real browser: Debian's headless Chromium driven by Playwright.

Log in, certify a person, suspend the certification, see the state change; a screenshot goes
to tests/artifacts/ (gitignored). Skips only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from issuer import db
from issuer.db.models import Role
from issuer.services import accounts

from .chromium import launched_browser, needs_chromium, screenshot, served_instance

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The issuer on 127.0.0.1 (werkzeug, threaded) with one officer account."""
    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)
    with served_instance(tmp_path, now=NOW) as it:
        db.run_transaction(
            db.session_factory(it.engine),
            lambda s: accounts.create_user(
                s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
            ),
        )
        yield it.url


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
    assert "Zoë Ångström-Ōtsuka" in page.locator("table").last.inner_text()
