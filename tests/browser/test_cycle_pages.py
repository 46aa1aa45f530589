"""Issue 13 in a real browser at phone width (390x844): an officer records a surveillance activity
with a file on a certification's page, sees that the outcome changed nothing and which moves it
may call for, then finds the certification on the cycle page under "needs a decision"; the
outbox page says that no mail server is configured. No page scrolls sideways. Screenshots go
to tests/artifacts/cycle_pages/ (git-ignored) for people to look at.
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
PHONE = {"width": 390, "height": 844}

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_browser()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
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
        yield it


def _fits(page: Any) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url} scrolls sideways: {scroll} > {inner}"


def test_an_officer_records_surveillance_and_the_cycle_page_lists_the_decision(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(site.url("/admin/login"))
    page.get_by_label("User name").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Certify", exact=True).click()
    page.get_by_label("Person's name (as on the certificate)").fill("Maja Kowalczyk")
    page.get_by_label("Scheme").select_option("CWI-2")
    page.get_by_label("Scope").fill("steel groups 1 and 2")
    page.get_by_label("Reason").fill("certification committee decision")
    page.get_by_role("button", name="Issue").click()
    assert page.get_by_role("heading", name="Surveillance").is_visible()
    number = page.locator("h1").inner_text().split()[-1]

    report = tmp_path / "site-visit.txt"
    report.write_text("Site visit: two welds re-inspected; one finding on documentation.\n")
    page.get_by_text("Record a surveillance activity").first.click()
    today = page.locator("#sv-date").get_attribute("max")  # the form allows nothing later
    page.get_by_label("Date").fill(today)
    page.get_by_label("Kind").select_option("assessment")
    page.get_by_label("Outcome").select_option("findings")
    page.get_by_label("Notes").fill("documentation of weld records incomplete")
    page.locator("#sv-files").set_input_files(str(report))
    page.get_by_role("button", name="Record", exact=True).click()

    follow_ups = page.locator("#follow-ups")
    assert "nothing has been changed" in follow_ups.inner_text()
    assert follow_ups.get_by_role("link").count() >= 2  # suspend, withdraw, reduce scope
    records = page.get_by_role("table").filter(has_text="Surveillance records")
    assert "findings" in records.inner_text() and "site-visit.txt" in records.inner_text()
    _fits(page)
    screenshot(page, "cycle_pages/1-surveillance-recorded.png", full_page=True)

    page.get_by_role("link", name="Cycle", exact=True).click()
    assert page.get_by_role("heading", name="Certification cycle").is_visible()
    decisions = page.get_by_role("table").filter(has_text="findings no move followed")
    assert number in decisions.inner_text() and "findings" in decisions.inner_text()
    _fits(page)
    screenshot(page, "cycle_pages/2-cycle.png", full_page=True)

    page.get_by_role("link", name="Outbox", exact=True).click()
    assert page.get_by_role("heading", name="Outbox").is_visible()
    assert "SMTP" in page.locator("main").inner_text()  # no mail server: the page says so
    _fits(page)
    screenshot(page, "cycle_pages/3-outbox.png", full_page=True)
