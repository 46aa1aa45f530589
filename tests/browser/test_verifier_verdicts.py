"""Issue 11 must-show: the four headline states of the body's own verifier page, in Chromium.

A body's instance (the issuer app, served on 127.0.0.1) and its page at /v: its own certificate
(VALID), a throwaway did:key credential that copies the body's name (UNTRUSTED_ISSUER), its own
withdrawn certificate (REVOKED) and a credential of a did:web body that cannot be reached
(ISSUER_UNAVAILABLE), each opened from a QR deep link, on a desktop window and on a 390×844
phone. The headline region shows the person, the certification and its scope, the number and
the dates in plain words: no format, suite or DID in it. Screenshots: tests/artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from issuer import db
from issuer.db.models import Scope
from issuer.services import accounts
from keys.keypair import KeyPair, KeyType
from verifier import qr

from ..issuer.support import NOW
from ..verifier.world import closed_port, resigned
from .chromium import launched_browser, needs_chromium, screenshot, served_instance

SCOPE = "VT-2, steel groups 1 and 2"
#: What an employer must never have to read in the headline.
JARGON = ("did:", "vc+jwt", "jwt", "eddsa", "ecdsa", "rdfc", "proof", "credentialstatus")
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("CERTVC_")}
    unreachable = closed_port()
    config = {"VERIFIER_ALLOW_ORIGINS": f"https://localhost:{unreachable}"}
    try:
        with served_instance(tmp_path_factory.mktemp("verdicts"), now=NOW, config=config) as it:
            token = db.run_transaction(
                db.session_factory(it.engine),
                lambda s: accounts.create_token(
                    s,
                    name="desk",
                    scopes=frozenset({Scope.ISSUE, Scope.STATUS}),
                    actor="t",
                    now=NOW,
                )[1],
            )
            client = it.app.test_client()
            headers = {"Authorization": f"Bearer {token}"}

            def certify(name: str) -> dict[str, Any]:
                body = {"person": {"name": name}, "scheme": "CWI-2", "scope": SCOPE}
                body["reason"] = "exam"
                reply = client.post("/api/v1/certifications", json=body, headers=headers)
                assert reply.status_code == 201, reply.json
                return reply.json

            valid = certify("Zoë Ångström-Ōtsuka")["verifiableCredential"]
            withdrawn = certify("Jean-Luc Picard")
            reply = client.post(
                f"/api/v1/certifications/{withdrawn['certification']['number']}/withdraw",
                json={"reason": "fraud found"},
                headers=headers,
            )
            assert reply.status_code == 200, reply.json
            forger = KeyPair.generate(KeyType.ED25519)
            did = f"did:web:localhost%3A{unreachable}"
            yield {
                "url": it.base_url,
                "VALID": valid,
                "REVOKED": withdrawn["verifiableCredential"],
                "UNTRUSTED_ISSUER": resigned(valid, forger, keep_status=False),
                "ISSUER_UNAVAILABLE": resigned(
                    valid, forger, issuer=did, method=f"{did}#key-1", keep_status=False
                ),
                "body": valid["issuer"]["name"],
            }
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_browser()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(
    ("verdict", "title", "person"),
    [
        ("VALID", "Valid certificate", "Zoë Ångström-Ōtsuka"),
        ("UNTRUSTED_ISSUER", "Not vouched for", "Zoë Ångström-Ōtsuka"),
        ("REVOKED", "Withdrawn", "Jean-Luc Picard"),
        ("ISSUER_UNAVAILABLE", "Cannot be checked right now", "Zoë Ångström-Ōtsuka"),
    ],
)
def test_the_four_headline_states(
    browser: Any, site: dict[str, Any], viewport: str, verdict: str, title: str, person: str
) -> None:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        payload = qr.encode_credential(site[verdict])
        page.goto(f"{site['url']}/v#{payload}")
        page.locator(f'#verdict[data-verdict="{verdict}"]').wait_for(timeout=20_000)
        headline = page.locator("#headline")
        text = headline.inner_text()
        assert title in text
        # the certificate in plain words, the scope included
        assert person in text and SCOPE in text and "Welding" in text
        assert page.locator('[data-field="scope"]').is_visible()
        number = site[verdict]["credentialSubject"]["licenseNumber"]
        assert page.locator('[data-field="certificateNumber"]').inner_text() == number
        lowered = text.lower()
        assert not [word for word in JARGON if word in lowered], text
        # whose verifier this is
        assert f"The verifier of {site['body']}" in page.locator("#operator").inner_text()
        # the technical checks are folded away, not gone
        assert page.locator("#how").get_attribute("open") is None
        assert page.locator("#checks li").count() == 7
        if verdict == "UNTRUSTED_ISSUER":
            signer = page.locator("#signer").inner_text()
            assert signer.startswith("Signed by did:key:") and site["body"] in signer
            assert page.locator("#unverified-note").is_hidden()  # the signature did verify
        if verdict == "VALID":
            assert page.locator("#freshness").inner_text() == "Status checked just now."
        if verdict == "ISSUER_UNAVAILABLE":
            assert page.locator("#unverified-note").is_visible()
            assert "says nothing against the certificate" in text
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"verdict-{verdict.lower()}-{viewport}.png")
    finally:
        context.close()
