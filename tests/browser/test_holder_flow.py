"""Must-show (issue 13): the certified person's flow in Chromium at a phone's size.

A real chain: the issuer app served over HTTPS on 127.0.0.1 (a CA made in the test, so
OpenID4VCI is on), a certification issued through the API for a person with an e-mail address,
the claim message sent by the worker through a real SMTP server (aiosmtpd with STARTTLS and
AUTH), and the link taken from that e-mail. In the browser (390 x 844, touch): open the claim
link, download the PDF, turn the public page on, start a wallet offer (its deep link and the
transaction code on the same page). Screenshots under tests/artifacts/holder_flow/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from issuer import db
from issuer.app import create_app
from issuer.db.models import Scope
from issuer.services import accounts
from issuer.worker import Worker
from tests.issuer.smtp import smtp_server
from tests.issuer.support import NOW, app_config, init
from tests.wallet_export.https import make_tls, server_context

from .chromium import ARTIFACTS, launched_browser, needs_chromium

pytestmark = needs_chromium

SHOTS = ARTIFACTS / "holder_flow"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("holder")
    ca, cert, key = make_tls(folder)
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1",
        0,
        lambda environ, start: holder["app"](environ, start),
        threaded=True,
        ssl_context=server_context(cert, key),
    )
    base_url = f"https://127.0.0.1:{server.server_port}"
    url = db.sqlite_url(folder)
    with (
        pytest.MonkeyPatch.context() as patch,
        smtp_server(folder / "smtp") as smtp,
    ):
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        init(folder / "instance", url, public_url=base_url)
        app = holder["app"] = create_app(app_config(folder / "instance", url, **smtp.config()))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"app": app, "smtp": smtp, "base_url": base_url}
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["certvc.db"].engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_browser()


def _claim_link(site: dict[str, Any]) -> str:
    """Issue through the API, let the worker send the e-mail, read the link from it."""
    app = site["app"]
    state = app.extensions["certvc.db"]
    token = db.run_transaction(
        state.writer,
        lambda s: accounts.create_token(
            s, name="t", scopes=frozenset({Scope.ISSUE}), actor="t", now=NOW
        )[1],
    )
    reply = app.test_client().post(
        "/api/v1/certifications",
        json={
            "scheme": "CWI-2",
            "scope": "VT-2, steel groups 1 and 2",
            "person": {"name": "Zoë Ångström-Ōtsuka", "email": "zoe@example.org"},
            "reason": "exam board 2026-11",
        },
        headers={"Authorization": f"Bearer {token}"},
        base_url=site["base_url"],
    )
    assert reply.status_code == 201, reply.json
    ctx = app.extensions["certvc.issuer"]
    worker = Worker(writer=state.writer, context=lambda: ctx, mail=app.extensions["certvc.mail"])
    assert worker.send_mail() == 1
    (text,) = site["smtp"].inbox.texts()
    match = re.search(re.escape(site["base_url"]) + r"/claim/[A-Za-z0-9_-]{43}", text)
    assert match, text
    return match.group(0)


def test_the_holder_claims_downloads_publishes_and_starts_a_wallet_offer(
    browser: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    link = _claim_link(site)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        ignore_https_errors=True,  # the test's own CA
    )
    page = context.new_page()
    page.goto(link)
    assert page.locator("#verdict").inner_text() == "VALID"
    assert "Zoë Ångström-Ōtsuka" in page.locator("#person").inner_text()
    # one explanatory line under each download
    assert page.locator(".claim-downloads li .hint").count() == 5
    page.screenshot(path=str(SHOTS / "1-claim-page.png"), full_page=True)

    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    saved = tmp_path / "certificate.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert download_info.value.suggested_filename.endswith(".pdf")

    assert page.locator("#public-state").inner_text() == "Off"
    page.locator("#toggle-public").click()
    page.wait_for_load_state()
    assert page.locator("#public-state").inner_text().startswith("On")
    public_url = page.locator("#public-page").get_attribute("href")
    assert public_url and public_url.startswith(site["base_url"] + "/credentials/")
    page.screenshot(path=str(SHOTS / "2-public-page-on.png"), full_page=True)
    other = context.new_page()
    other.goto(public_url)
    assert other.locator("#verdict").inner_text() == "VALID"
    other.close()

    page.locator("#start-offer").click()
    page.wait_for_load_state()
    deep_link = page.locator("#offer-link").get_attribute("href")
    assert deep_link and deep_link.startswith("openid-credential-offer://")
    assert re.fullmatch(r"[0-9]{4,8}", page.locator("#tx-code").inner_text().strip())
    page.locator("#offer").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "3-wallet-offer.png"), full_page=True)
    context.close()
