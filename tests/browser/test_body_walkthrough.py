"""Must-show (issue 12): an admin sets up a body in a real browser (Debian's headless Chromium).

The first admin account comes from ``accounts.create_user`` (no page makes the first admin);
then, in the browser: the body's profile and accreditation, a new scheme, an officer account,
a certification in the new scheme (its credential names the body and its accreditation, and
the verifier says VALID), a bulk suspension by scheme as a dry run and then for real. Once at a
desktop width and once at a phone width (390x844), where no page may scroll sideways.
Screenshots go to tests/artifacts/ (git-ignored) for people to look at.
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
BODY_NAME = "Zertifizierungsstelle Schweißtechnik Nord GmbH"
ACCREDITATION_NUMBER = "D-ZP-12345-01-00"
SCHEME = "WLD-INSP-3"
PERSON = "Zoë Ångström-Ōtsuka"

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_browser()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh instance with one admin account, made the only way the first one can be."""
    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)
    with served_instance(tmp_path, now=NOW) as it:
        db.run_transaction(
            db.session_factory(it.engine),
            lambda s: accounts.create_user(
                s, username="ada", password=PASSWORD, role=Role.ADMIN, actor="t", now=NOW
            ),
        )
        yield it


def _field(page: Any, element_id: str) -> Any:
    return page.locator(f'[id="{element_id}"]')  # ids such as "address.street" hold dots


def _fits(page: Any, width: str) -> None:
    """At phone width the page itself never scrolls sideways (wide tables scroll in a box)."""
    if width == "phone":
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{page.url} scrolls sideways: {scroll} > {inner}"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_admin_sets_up_the_body_and_certifies_then_bulk_suspends(
    site: Any, browser: Any, width: str
) -> None:
    page = browser.new_context(viewport=VIEWPORTS[width]).new_page()
    page.goto(site.url("/admin/login"))
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Certifications").is_visible()

    # 1. The body's profile and its accreditation.
    page.get_by_role("link", name="Body", exact=True).click()
    assert page.get_by_role("heading", name="The certification body").is_visible()
    _fits(page, width)
    for element_id, value in {
        "name": BODY_NAME,
        "email": "zertifizierung@schweiss-nord.example",
        "address.street": "Schweißweg 1",
        "address.postalCode": "20095",
        "address.locality": "Hamburg",
        "country": "DE",
        "accreditedBy.body": "DAkkS",
        "accreditedBy.number": ACCREDITATION_NUMBER,
        "accreditedBy.validUntil": "2030-06-30",
        "reason": "accreditation certificate received",
    }.items():
        _field(page, element_id).fill(value)
    page.get_by_role("button", name="Save the body's profile").click()
    assert page.get_by_role("status").first.inner_text().startswith("Saved: ")
    assert _field(page, "name").input_value() == BODY_NAME
    statement = page.locator("#statement").inner_text()
    assert statement == (
        f"Accredited to ISO/IEC 17024:2012 by DAkkS, accreditation no. {ACCREDITATION_NUMBER}, "
        "valid until 2030-06-30."
    )
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_1_body.png", full_page=True)

    # 2. A scheme.
    page.get_by_role("link", name="Schemes", exact=True).click()
    _fits(page, width)
    new = page.locator("form", has=page.locator("#new-code"))
    for element_id, value in {
        "new-code": SCHEME,
        "new-name": "Welding Inspector, level 3",
        "new-criteria": "Five years of inspection practice; written and practical examination.",
        "new-standard": "ISO 9712:2021",
        "new-validityDays": "1825",
        "new-surveillanceMonths": "12",
        "new-reason": "scheme approved by the scheme committee",
    }.items():
        new.locator(f'[id="{element_id}"]').fill(value)
    new.get_by_role("button", name="Define the scheme").click()
    assert page.get_by_role("status").first.inner_text() == f"Scheme {SCHEME} defined."
    heading = page.get_by_role("heading", name=f"{SCHEME}: Welding Inspector, level 3")
    assert heading.is_visible()
    assert "ISO 9712:2021 · 1825 days · surveillance every 12 months" in page.inner_text("main")
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_2_scheme.png", full_page=True)

    # 3. An officer's account.
    page.get_by_role("link", name="Staff", exact=True).click()
    _fits(page, width)
    create = page.locator("form", has=page.locator("#new-username"))
    create.locator("#new-username").fill("olga")
    create.locator("#new-role").select_option("officer")
    create.locator("#new-password").fill("officer's own passphrase")
    create.locator("#new-reason").fill("new certification officer")
    create.get_by_role("button", name="Create account").click()
    row = page.locator("#row-olga").inner_text().lower()
    assert "officer" in row and "active" in row
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_3_staff.png", full_page=True)

    # 4. A certification in the new scheme; its credential states the new body.
    page.get_by_role("link", name="Certify", exact=True).click()
    page.get_by_label("Person's name (as on the certificate)").fill(PERSON)
    page.get_by_label("Scheme").select_option(SCHEME)
    page.get_by_label("Scope").fill("inspection of fusion welds, steel and aluminium")
    page.get_by_label("Reason").fill("certification committee decision")
    page.get_by_role("button", name="Issue").click()
    assert page.get_by_role("status").first.inner_text().endswith("issued.")
    assert page.locator("#state").inner_text().strip().lower() == "active"
    assert SCHEME in page.inner_text("main")
    certification_url = page.url
    number = certification_url.rstrip("/").rsplit("/", 1)[-1]
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_4_certified.png", full_page=True)

    href = page.get_by_role("link", name="download", exact=True).get_attribute("href")
    assert href.endswith(f"/{number}/credential.json")
    download = page.context.request.get(site.url(href))  # the signed-in session's cookie
    assert download.ok
    credential = download.json()
    assert credential["issuer"]["name"] == BODY_NAME
    assert ACCREDITATION_NUMBER in credential["issuer"]["description"]
    verified = page.context.request.post(site.url("/api/v1/verify"), data=credential)
    assert verified.status == 200, verified.text()
    assert verified.json()["verdict"] == "VALID"

    # 5. Bulk: suspend everything in the scheme, a dry run first.
    page.get_by_role("link", name="Bulk", exact=True).click()
    _fits(page, width)
    page.get_by_label("Scheme").select_option(SCHEME)
    page.get_by_label("Suspend", exact=True).check()
    page.get_by_label("Reason").fill("accreditation of the scheme under review")
    page.get_by_role("button", name="Dry run: show what would change").click()
    assert "1 selected, 1 would change, 0 would be refused" in page.inner_text("#summary")
    assert page.locator("#changed tbody").inner_text().strip() == number
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_5_bulk_dry_run.png", full_page=True)
    other = page.context.new_page()  # the dry run changed nothing
    other.goto(certification_url)
    assert other.locator("#state").inner_text().strip().lower() == "active"
    other.close()

    page.locator("#confirm").get_by_role("button", name="Suspend 1 certification").click()
    assert "1 selected, 1 changed, 0 refused" in page.inner_text("#summary")
    assert page.get_by_role("heading", name="Done").is_visible()
    page.locator("#changed").get_by_role("link", name=number).click()
    assert page.locator("#state").inner_text().strip().lower() == "suspended"
    assert "accreditation of the scheme under review" in page.inner_text("main")
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_6_suspended.png", full_page=True)
    # The register's list: counts per scheme and state, the search, the table (issue 19).
    page.goto(site.url("/admin/"))
    assert number in page.inner_text("main")
    _fits(page, width)
    screenshot(page, f"walkthrough_{width}_7_list.png", full_page=True)
    page.context.close()
