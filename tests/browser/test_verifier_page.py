"""Must-show (issue 6): the verifier page in a real browser (Debian's headless Chromium).

Upload a photo of a QR code and read the verdict; open a QR deep link and read the verdict; at
a 360 px phone width. Screenshots go to tests/artifacts/ (git-ignored) for people to look at.
The page's own JavaScript and the vendored decoder run; the status lists come from a real HTTP
server on 127.0.0.1.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from werkzeug.serving import make_server

from verifier import qr
from verifier.app import create_app
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.qr_symbol import make_symbol, render_png

from ..verifier.world import NOW, credential, new_pair, serve_lists, status_server, trust_file
from .chromium import launched_browser, needs_chromium, screenshot

pytestmark = needs_chromium


class _Recorder:
    """WSGI middleware keeping every path and query the server saw (the fragment must not)."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[str] = []

    def __call__(self, environ, start_response):
        self.seen.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    body = new_pair()
    trust = trust_file(tmp_path_factory.mktemp("trust"), body)
    with status_server() as lists:
        serve_lists(lists, body)
        serve_lists(lists, body, prefix="/revoked", revoked=True)
        fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({lists.url}), dev_mode=True))
        app = create_app(
            {
                "VERIFIER_FETCHER": fetcher,
                "VERIFIER_TRUST_FILE": str(trust),
                "VERIFIER_CLOCK": lambda: NOW,
                "VERIFIER_RATE_PER_MINUTE": 0,
            }
        )
        recorder = _Recorder(app)
        server = make_server("127.0.0.1", 0, recorder, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {
                "url": f"http://127.0.0.1:{server.server_port}",
                "valid": credential(body, lists.url),
                "revoked": credential(body, lists.url + "/revoked"),
                "recorder": recorder,
            }
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_browser()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=2)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def _photo(secured, site, tmp_path: Path) -> Path:
    """A QR code 'photographed': drawn, shrunk, slightly rotated, saved as JPEG."""
    text = qr.deep_link(site["url"] + qr.VERIFIER_PATH, qr.encode_credential(secured))
    image = Image.open(io.BytesIO(render_png(make_symbol(text), module_px=6))).convert("L")
    image = image.rotate(3, expand=True, fillcolor=255)
    path = tmp_path / "qr-photo.jpg"
    image.convert("RGB").save(path, format="JPEG", quality=85)
    return path


def test_upload_a_qr_photo_and_read_the_verdict(page, site, tmp_path) -> None:
    page.goto(site["url"] + "/v")
    assert page.title() == "Check a certificate"
    page.set_input_files("#photo", str(_photo(site["valid"], site, tmp_path)))
    verdict = page.locator('#verdict[data-verdict="VALID"]')
    verdict.wait_for(timeout=20_000)
    assert "Valid certificate" in verdict.inner_text()
    assert page.locator('[data-field="person"]').inner_text() == "Zoë Ångström-Ōtsuka"
    assert (
        "Example Personnel Certification Body" in page.locator('[data-field="body"]').inner_text()
    )
    assert page.locator("#checks li.passed").count() >= 5
    # a phone-width page: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "verifier-upload-valid.png", full_page=True)


def test_open_a_deep_link_and_read_the_verdict(page, site) -> None:
    payload = qr.encode_credential(site["revoked"])
    page.goto(f"{site['url']}/v#{payload}")
    verdict = page.locator('#verdict[data-verdict="REVOKED"]')
    verdict.wait_for(timeout=20_000)
    assert "Withdrawn" in verdict.inner_text()
    assert verdict.get_attribute("role") == "status"
    page.get_by_text("How this was checked").click()  # the technical checks, folded away
    assert page.locator("#checks li.failed").inner_text().count("status_revoked") == 1
    screenshot(page, "verifier-deep-link-revoked.png", full_page=True)
    # the credential travelled in the request body, never in a URL the server saw
    assert not any(payload[:40] in seen for seen in site["recorder"].seen)


def test_paste_garbage_shows_a_clear_answer(page, site) -> None:
    page.goto(site["url"] + "/v")
    page.fill("#text", "this is not a certificate")
    page.click("#paste button[type=submit]")
    verdict = page.locator('#verdict[data-verdict="MALFORMED"]')
    verdict.wait_for(timeout=20_000)
    assert "Not a readable certificate" in verdict.inner_text()
    screenshot(page, "verifier-paste-malformed.png", full_page=True)
