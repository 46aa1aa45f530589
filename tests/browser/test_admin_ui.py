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


def test_bulk_withdraw_dry_run_then_confirmed_final(tmp_path: Path, monkeypatch) -> None:
    """Bulk page in a browser without JavaScript: the dry run lists what would change and
    what would be refused, the confirmation carries the selection (numbers on several lines)
    and cannot be sent until "I understand this is final" is ticked; the single Withdraw form
    needs its own box."""
    from sqlalchemy import select

    from issuer.db.models import Certification, State
    from issuer.services import lifecycle

    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)
    with served_instance(tmp_path, now=NOW) as it:
        factory = db.session_factory(it.engine)
        ctx = it.app.extensions["certvc.issuer"]
        db.run_transaction(
            factory,
            lambda s: accounts.create_user(
                s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
            ),
        )
        for number in ("BR-1", "BR-2", "BR-3"):
            request = lifecycle.IssueRequest(
                scheme_code="CWI-2", scope="VT", person_name=f"Person {number}", number=number
            )
            db.run_transaction(
                factory,
                lambda s, r=request: lifecycle.issue(s, ctx, r, reason="exam", actor="t", now=NOW),
            )

        def states() -> dict[str, State]:
            with factory() as session:
                rows = session.execute(select(Certification.number, Certification.state))
                return {number: state for number, state in rows}

        for browser in launched_browser():
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(it.url("/admin/login"))
            page.get_by_label("User name").fill("olga")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Bulk").click()
            page.get_by_label("Certificate numbers").fill("BR-1\nBR-2\n# the end\nNOPE-1\n")
            page.get_by_label("Withdraw (final)").check()
            page.get_by_label("Reason").fill("fraud ring")
            page.get_by_role("button", name="Dry run").click()
            summary = page.locator("#summary").inner_text()
            assert "3 selected" not in summary and "2 selected, 2 would change, 1 would" in summary
            assert "no certification with number NOPE-1" in page.locator("#refused").inner_text()
            assert states()["BR-1"] is State.ACTIVE
            confirm = page.locator("#confirm")
            confirm.get_by_role("button", name="Withdraw 2 certifications").click()
            assert page.locator("#confirm").is_visible()  # the box is required: not sent
            assert states()["BR-1"] is State.ACTIVE
            confirm.get_by_label("I understand this is final").check()
            confirm.get_by_role("button", name="Withdraw 2 certifications").click()
            assert "2 selected, 2 changed, 1 refused" in page.locator("#summary").inner_text()
            screenshot(page, "admin_bulk_done.png", full_page=True)
            assert states()["BR-1"] is State.WITHDRAWN and states()["BR-2"] is State.WITHDRAWN

            page.goto(it.url("/admin/certifications/BR-3"))
            withdraw = page.locator("form", has=page.get_by_role("heading", name="Withdraw"))
            withdraw.get_by_label("Reason").fill("fraud")
            assert "every verifier then says REVOKED" in withdraw.inner_text()
            withdraw.get_by_role("button", name="Withdraw (final)").click()
            assert states()["BR-3"] is State.ACTIVE  # the box is required
            withdraw.get_by_label("Withdrawal is final").check()
            withdraw.get_by_role("button", name="Withdraw (final)").click()
            assert page.locator("#state").inner_text().strip().lower() == "withdrawn"
