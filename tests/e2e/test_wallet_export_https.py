"""Issue 7's must-shows, end to end against the running issuer app over real HTTPS.

The issuer (``issuer.app:create_app``) is served by werkzeug on 127.0.0.1 with a certificate
from a CA made in the test; its public URL is that https origin, so its did:web DID is
``did:web:localhost%3A<port>`` and OpenID4VCI is on. Everything is checked by certvc's
production verifier (``verifier.service.Verifier``) with its safe fetcher: the did:web
document and every status list are fetched from the running app over HTTPS (its origins
allow-listed, the test CA trusted), each list is verified before its bit is read.

- every export, from the API and from the CLI, verified back: the PDF rendered to an image by
  pdftoppm whose QR code decodes to a VALID credential, the baked PNG and SVG unbaked to a
  credential that verifies, the QR images, the JSON and vc+jwt downloads; link-mode QR codes
  lead to the credential the app serves at its id;
- the OpenID4VCI pre-authorized code flow run by a wallet library (@openid4vc/openid4vci with
  node) from an offer made by the API and by the CLI; the credential verifies, is bound to the
  holder's key, and follows the certification's lifecycle; the error codes OpenID4VCI 1.0
  names for a reused or expired pre-authorized code, a wrong transaction code, a stale nonce
  and a proof signed by another key;
- the PDFs and badges rendered to PNG under tests/artifacts/e2e_wallet_export/ for the names
  "Zoë Ångström-Ōtsuka", "李小龍" and "محمد".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import ssl
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from contexts.loader import default_store
from issuer import db
from issuer.app import create_app
from issuer.cli import main as certvc_main
from issuer.db.models import Action, AuditEvent, Scope
from issuer.services import accounts, catalog
from keys.did_jwk import did_jwk
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST
from tests.issuer.support import BACKENDS, app_config, fresh_database, init
from tests.issuer.test_wallet_export import _decode_svg
from tests.wallet_export.https import (
    Reply,
    call,
    make_tls,
    run_wallet,
    server_context,
    wallet_node,
)
from tests.wallet_export.wallet import Clock, key_proof
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.qr_image import read_qr_texts
from verifier.result import Check, CheckStatus, Verdict, VerificationResult
from verifier.service import Verifier
from verifier.status import StatusPolicy
from verifier.trust import TrustedBody, TrustList
from wallet_export.badge import unbake_png, unbake_svg
from wallet_export.oid4vci import PRE_AUTHORIZED_GRANT
from wallet_export.pdf_extract import decode_qr, pdftoppm_first_page

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e_wallet_export"
PEOPLE = {
    "latin": ("Zoë Ångström-Ōtsuka", "CWI-2"),  # eddsa-rdfc-2022
    "cjk": ("李小龍", "JWT-1"),  # vc+jwt
    "arabic": ("محمد", "EC-1"),  # ecdsa-rdfc-2019
}
#: Schemes with non-Latin names too: the badge shows the scheme's name.
SCHEMES = {
    "JWT-1": ("焊接检验员 — 二级", "vc+jwt"),
    "EC-1": ("مفتش اللحام المعتمد", "ecdsa-rdfc-2019"),
}
FORMATS = ("pdf", "badge-png", "badge-svg", "qr-png", "qr-svg", "json", "jwt")
LDP, JWT = "CertificationCredential_ldp_vc", "CertificationCredential_jwt_vc_json"


@dataclass
class Site:
    base_url: str
    ca: Path
    token: str
    db_url: str
    instance: Path
    clock: Clock
    factory: Any

    def call(self, method: str, path: str, *, auth: bool = False, **kwargs: Any) -> Reply:
        if auth:
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                "Authorization": f"Bearer {self.token}",
            }
        return call(self.ca, method, f"{self.base_url}{path}", **kwargs)

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(
            click_group(),
            [args[0], "--instance", str(self.instance), *args[1:]],
            env={"CERTVC_DATABASE_URL": self.db_url},
        )
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.stdout


def click_group() -> click.Group:
    return certvc_main


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory, pg_database) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("https-issuer")
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
    clock = Clock(lambda: dt.datetime.now(dt.UTC))
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        with fresh_database(request.param, folder, pg_database) as url:
            instance = folder / "instance"
            init(instance, url, public_url=base_url)
            holder["app"] = app = create_app(app_config(instance, url, CLOCK=clock))
            engine = db.make_engine(url)
            factory = db.session_factory(engine)
            token = db.run_transaction(
                factory,
                lambda s: accounts.create_token(
                    s, name="e2e", scopes=frozenset({Scope.ADMIN}), actor="t", now=clock()
                )[1],
            )
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            site = Site(base_url, ca, token, url, instance, clock, factory)
            for code, (scheme_name, suite) in SCHEMES.items():
                scheme = {
                    "code": code,
                    "name": scheme_name,
                    "criteria": "examination and experience",
                    "standard": "ISO 9712:2021",
                    "validityDays": 365,
                    "suite": suite,
                }
                assert site.call("POST", "/api/v1/schemes", auth=True, json=scheme).status == 201
            try:
                yield site
            finally:
                server.shutdown()
                thread.join(timeout=10)
                server.server_close()
                app.extensions["certvc.db"].engine.dispose()
                engine.dispose()


@pytest.fixture(scope="module")
def verifier(site: Site) -> Verifier:
    """The production verifier, pointed at the running app (loopback allow-listed)."""

    def loopback(host: str, port: int) -> list[str]:
        if host not in ("127.0.0.1", "localhost"):
            raise OSError(f"the test resolves loopback names only, not {host}")
        return ["127.0.0.1"]

    origins = {site.base_url, site.base_url.replace("127.0.0.1", "localhost")}
    fetcher = SafeFetcher(
        FetchPolicy(allow_origins=frozenset(origins)),
        resolver=loopback,
        ssl_context=ssl.create_default_context(cafile=str(site.ca)),
    )
    with site.factory() as session:
        body = catalog.get_body(session)
        trusted = TrustList([TrustedBody(body.did, body.name)])  # an employer's trust list
    return Verifier(
        store=default_store(),
        fetcher=fetcher,
        clock=lambda: dt.datetime.now(dt.UTC),
        status_policy=StatusPolicy(refresh=True),
        trust=trusted,
        canonicalizer=FAST,
    )


@pytest.fixture(scope="module")
def poppler() -> None:
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: install the Debian package poppler-utils")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _certify(site: Site, tag: str) -> dict[str, Any]:
    name, scheme = PEOPLE[tag]
    body = {
        "scheme": scheme,
        "scope": "visual testing of welds, steel groups 1 and 2",
        "person": {"name": name},
        "reason": "certification committee decision",
    }
    reply = site.call("POST", "/api/v1/certifications", auth=True, json=body)
    assert reply.status == 201, reply.body
    return reply.body


def _valid(result: VerificationResult) -> None:
    assert result.verdict is Verdict.VALID, result.to_json()
    status = result.check(Check.STATUS)
    assert status.status is CheckStatus.PASSED and "revocation: unset" in status.message


def _plain(text: str) -> str:
    """pdftotext marks right-to-left runs with bidi controls; compare without them."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _export(site: Site, channel: str, number: str, form: str, tmp: Path, **extra: str) -> bytes:
    if channel == "api":
        query = "&".join(f"{k}={v}" for k, v in {"format": form, **extra}.items())
        reply = site.call("GET", f"/api/v1/certifications/{number}/export?{query}", auth=True)
        assert reply.status == 200, reply.raw[:300]
        return reply.raw
    out = tmp / f"{number}.{form}"
    options = [item for key, value in extra.items() for item in (f"--{key}", value)]
    site.cli("export", number, "--format", form, *options, "--out", str(out))
    return out.read_bytes()


def _check_export(
    form: str, data: bytes, verifier: Verifier, artifacts: Path, stem: str, name: str
) -> None:
    """Give the credential back from ``data`` the way a relying party would and verify it."""
    if form == "pdf":
        png = pdftoppm_first_page(data)
        (artifacts / f"{stem}-certificate.png").write_bytes(png)
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
        assert name in [_plain(line).strip() for line in text.stdout.decode().splitlines()]
        scanned = decode_qr(png)
        assert scanned is not None and "/v#1" in scanned
        _valid(verifier.verify(scanned).result)
    elif form == "badge-png":
        (artifacts / f"{stem}-badge.png").write_bytes(data)
        _valid(verifier.verify(unbake_png(data)).result)
    elif form == "badge-svg":
        (artifacts / f"{stem}-badge.svg").write_bytes(data)
        _valid(verifier.verify(unbake_svg(data)).result)
    elif form == "qr-png":
        outcome = verifier.verify(data)  # the image itself, as a phone photo would be
        _valid(outcome.result)
    elif form == "qr-svg":
        _valid(verifier.verify(_decode_svg(data)).result)
    else:
        _valid(verifier.verify(data).result)


@pytest.mark.parametrize(
    ("channel", "tag", "paper"),
    [("api", "latin", "a4"), ("cli", "cjk", "a4"), ("api", "arabic", "letter")],
    ids=["api-latin-eddsa", "cli-cjk-vc+jwt", "api-arabic-ecdsa-letter"],
)
def test_every_export_verifies_back(
    site, verifier, artifacts, tmp_path, poppler, channel, tag, paper
) -> None:
    """Every format from the API and from the CLI, each verified by the production verifier
    with the status lists served by the running app; the PDF's QR code read from pdftoppm's
    rendering; the renderings saved for a person to look at."""
    created = _certify(site, tag)
    number = created["certification"]["number"]
    for form in FORMATS:
        extra = {"paper": paper} if form == "pdf" else {}
        data = _export(site, channel, number, form, tmp_path, **extra)
        _check_export(form, data, verifier, artifacts, f"{channel}-{tag}", PEOPLE[tag][0])


def test_link_mode_qr_codes_lead_to_the_hosted_credential(site, verifier, tmp_path) -> None:
    """With the public page on, a link-mode QR code holds the credential's id URL: the
    verifier fetches it from the app (application/vc) and verifies it; a withdrawal shows."""
    number = _certify(site, "latin")["certification"]["number"]
    page = {"enabled": True, "reason": "the holder asked for it"}
    assert (
        site.call(
            "POST", f"/api/v1/certifications/{number}/public-page", auth=True, json=page
        ).status
        == 200
    )
    png = _export(site, "api", number, "qr-png", tmp_path, mode="link")
    outcome = verifier.verify(png)
    _valid(outcome.result)
    assert outcome.item is not None and outcome.item.source.value == "link"
    # the printed certificate: a link code to scan and the whole credential beside it
    pdf = _export(site, "cli", number, "pdf", tmp_path, mode="link")
    printed = read_qr_texts(pdftoppm_first_page(pdf))
    assert sorted(text.split("#", 1)[1][:2] for text in printed) == ["1C", "1L"]
    for scanned in printed:
        _valid(verifier.verify(scanned).result)
    embedded = _export(site, "api", number, "qr-png", tmp_path)
    withdraw = {"reason": "certificate misused"}
    assert (
        site.call(
            "POST", f"/api/v1/certifications/{number}/withdraw", auth=True, json=withdraw
        ).status
        == 200
    )
    for image in (png, embedded):
        assert verifier.verify(image).result.verdict is Verdict.REVOKED


# --- OpenID4VCI -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    return wallet_node()


def _copies(site: Site, number: str) -> list[tuple[str | None, int]]:
    """(holder DID, number of status entries) of each wallet copy of the certification."""
    with site.factory() as session:
        cert = catalog.get_certification(session, number)
        return [(c.holder_did, len(c.status_entries)) for c in cert.credentials if c.is_copy]


@pytest.mark.parametrize(
    ("channel", "key_type", "alg", "configuration", "by_jwk"),
    [
        ("api", KeyType.ED25519, "EdDSA", LDP, False),
        ("cli", KeyType.P256, "ES256", JWT, True),
    ],
    ids=["api-offer-ldp_vc-did:key", "cli-offer-tx_code-by-reference-jwt_vc_json-did:jwk"],
)
def test_a_wallet_library_pulls_the_credential(
    site, verifier, node, channel, key_type, alg, configuration, by_jwk
) -> None:
    """Offer -> metadata -> token -> nonce -> credential with the holder's proof, by a
    standard wallet library, against the running app; the credential verifies, is bound to
    the holder's key, was recorded with its own status entries and an audit event, and
    follows the certification: suspended, the wallet's credential is SUSPENDED too."""
    number = _certify(site, "latin")["certification"]["number"]
    if channel == "api":
        reply = site.call("POST", f"/api/v1/certifications/{number}/offer", auth=True, json={})
        assert reply.status == 201
        offer = reply.body
    else:
        offer = json.loads(site.cli("offer", number, "--tx-code", "--by-reference", "--json"))
        assert offer["txCode"] and offer["offerUri"].startswith(site.base_url)
    holder = KeyPair.generate(key_type)
    kid = None if by_jwk else holder.public_key.did_key_method_id
    result = run_wallet(
        node,
        site.ca,
        offer=offer["link"],
        txCode=offer["txCode"],
        configurationId=configuration,
        holder={"privateJwk": holder.export_private_jwk(), "kid": kid, "alg": alg},
    )
    assert result["metadata"]["credential_issuer"] == site.base_url
    credential = result["credential"]
    assert isinstance(credential, str) is (configuration == JWT)
    outcome = verifier.verify(credential)
    _valid(outcome.result)
    bound = outcome.result.credential["credentialSubject"]["id"]
    assert bound == (did_jwk(holder.public_key) if by_jwk else holder.public_key.did_key)
    assert _copies(site, number) == [(bound, 2)]
    with site.factory() as session:
        events = (
            session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.subject == number)
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
    assert events == [Action.ISSUE, Action.OFFER_CREATE, Action.CREDENTIAL_WALLET]

    suspend = {"reason": "surveillance audit pending"}
    assert (
        site.call(
            "POST", f"/api/v1/certifications/{number}/suspend", auth=True, json=suspend
        ).status
        == 200
    )
    assert verifier.verify(credential).result.verdict is Verdict.SUSPENDED


def _code(site: Site, **body: Any) -> tuple[dict[str, Any], str]:
    number = _certify(site, "latin")["certification"]["number"]
    reply = site.call("POST", f"/api/v1/certifications/{number}/offer", auth=True, json=body)
    assert reply.status == 201
    return reply.body, reply.body["offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]


def _token(site: Site, code: str, **extra: str) -> Reply:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, **extra}
    return site.call("POST", "/oid4vci/token", form=form)


def _credential(site: Site, token: str, proof: str) -> Reply:
    body = {"credential_configuration_id": LDP, "proofs": {"jwt": [proof]}}
    return site.call(
        "POST", "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def _proof(site: Site, holder: KeyPair, nonce: str, **kwargs: Any) -> str:
    iat = dt.datetime.now(dt.UTC).timestamp()
    return key_proof(holder, audience=site.base_url, nonce=nonce, iat=iat, **kwargs)


def _error(reply: Reply) -> tuple[int, str]:
    return reply.status, reply.body["error"]


def test_openid4vci_error_codes_from_the_running_app(site) -> None:
    """OpenID4VCI 1.0 §6.3 / §8.3.1.2 codes: invalid_grant for a reused or expired
    pre-authorized code and a wrong transaction code (invalid_request when it is missing),
    invalid_nonce for a nonce used before, invalid_proof for a proof signed by another key."""
    _, reused = _code(site)
    assert _token(site, reused).status == 200
    assert _error(_token(site, reused)) == (400, "invalid_grant")

    _, expired = _code(site)
    site.clock.offset = dt.timedelta(minutes=10)  # the code's lifetime
    try:
        assert _error(_token(site, expired)) == (400, "invalid_grant")
    finally:
        site.clock.offset = dt.timedelta()

    offer, guarded = _code(site, txCode=True)
    wrong = str((int(offer["txCode"]) + 1) % 10**6).zfill(6)
    assert _error(_token(site, guarded, tx_code=wrong)) == (400, "invalid_grant")
    assert _error(_token(site, guarded)) == (400, "invalid_request")
    assert _token(site, guarded, tx_code=offer["txCode"]).status == 200  # still usable

    holder = KeyPair.generate(KeyType.ED25519)
    _, code = _code(site)
    access = _token(site, code).body["access_token"]
    nonce = site.call("POST", "/oid4vci/nonce").body["c_nonce"]
    assert _credential(site, access, _proof(site, holder, nonce)).status == 200
    assert _error(_credential(site, access, _proof(site, holder, nonce))) == (400, "invalid_nonce")

    fresh = site.call("POST", "/oid4vci/nonce").body["c_nonce"]
    other = KeyPair.generate(KeyType.ED25519)
    forged = _proof(site, holder, fresh, signed_by=other)
    assert _error(_credential(site, access, forged)) == (400, "invalid_proof")
