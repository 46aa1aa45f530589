"""The verifier web app: the page, the W3C VC API endpoints and ``/api/v1/verify``.

Status lists are served by a real HTTP server on 127.0.0.1 that the app's fetcher allow-lists.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from fpdf import FPDF

import verifier.app as verifier_app
from contexts.loader import default_store
from keys.suites import FAST, REGISTRY, ProofOptions, create_proof
from verifier import qr
from verifier.app import create_app, init_verifier
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.qr_symbol import make_symbol, render_png
from verifier.result import Verdict
from verifier.samples import VC_V2
from verifier.web.rate_limits import per_window
from wallet_export import pdf_extract

from .world import NOW, Served, credential, new_pair, serve_lists, status_server, trust_file

VERIFIER = "https://verify.example-body.org/v"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    body = new_pair()
    trust = trust_file(tmp_path_factory.mktemp("trust"), body)
    with status_server() as server:
        serve_lists(server, body)
        serve_lists(server, body, prefix="/revoked", revoked=True)
        signed = credential(body, server.url)
        server.routes["/credentials/hosted"] = Served(json.dumps(signed).encode(), "application/vc")
        yield {
            "server": server,
            "body": body,
            "trust": trust,
            "signed": signed,
            "token": credential(body, server.url, suite="vc+jwt"),
            "revoked": credential(body, server.url + "/revoked"),
        }


def _config(world, **extra) -> dict:
    """A stand-alone verifier that vouches for the world's body through a trust list."""
    server = world["server"]
    fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True))
    return {
        "VERIFIER_FETCHER": fetcher,
        "VERIFIER_TRUST_FILE": str(world["trust"]),
        "VERIFIER_CLOCK": lambda: NOW,
        "VERIFIER_RATE_PER_MINUTE": 0,
        **extra,
    }


@pytest.fixture(scope="module")
def client(world):
    return create_app(_config(world)).test_client()


def _png(secured) -> bytes:
    return render_png(make_symbol(qr.deep_link(VERIFIER, qr.encode_credential(secured))))


# --- the page -------------------------------------------------------------------------------


def test_page_is_self_contained_and_locked_down(client) -> None:
    page = client.get("/v")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
    html = page.get_data(as_text=True)
    assert 'role="status"' in html and 'aria-live="polite"' in html
    assert 'name="viewport"' in html and "<script>" not in html  # no inline script
    for src in ("/v/static/vendor/jsQR.js", "/v/static/verifier.js", "/v/static/verifier.css"):
        assert src in html
        with client.get(src) as served:
            assert served.status_code == 200
    assert client.get("/").headers["Location"].endswith("/v")


@pytest.mark.parametrize(
    "options",
    [
        [],
        "proof",
        {"checks": "proof"},
        {"checks": ["proof", "nonsense"]},
        {"checks": [None]},
        {"checks": ["proof"] * 100},
        {"checks": [{"check": "proof"}]},
    ],
)
def test_vc_api_options_that_are_not_what_the_api_allows_are_400(client, world, options) -> None:
    for route, field in (
        ("/credentials/verify", "verifiableCredential"),
        ("/presentations/verify", "verifiablePresentation"),
    ):
        reply = client.post(route, json={field: world["signed"], "options": options})
        assert reply.status_code == 400, reply.json
        assert reply.json["verified"] is False
        assert reply.json["error"]["code"] == "input_unusable"


def test_vc_api_checks_name_what_counts(client, world) -> None:
    """Checks not asked for are reported, not enforced; aliases of other implementations."""
    revoked = world["revoked"]
    reply = client.post("/credentials/verify", json={"verifiableCredential": revoked})
    assert reply.status_code == 400 and reply.json["verdict"] == "REVOKED"
    assert [e["code"] for e in reply.json["errors"]] == ["status_revoked"]
    only_proof = {"verifiableCredential": revoked, "options": {"checks": ["proof"]}}
    reply = client.post("/credentials/verify", json=only_proof)
    assert reply.status_code == 200 and reply.json["verified"] is True
    assert reply.json["verdict"] == "REVOKED"  # the true verdict, whatever was asked
    assert "status_revoked" in [w["code"] for w in reply.json["warnings"]]
    aliased = {"verifiableCredential": revoked, "options": {"checks": ["credentialStatus"]}}
    assert client.post("/credentials/verify", json=aliased).status_code == 400


def test_page_names_whose_verifier_it_is_and_whom_it_vouches_for(client, world) -> None:
    html = client.get("/v").get_data(as_text=True)
    assert "Independent certificate verifier" in html and "operator-note" not in html
    # the file picker takes PDF certificates and badge images too, not only photos
    assert 'accept="image/*,application/pdf,.pdf,.png,.jpg,.jpeg,.svg"' in html
    bare = create_app({"VERIFIER_RATE_PER_MINUTE": 0, "VERIFIER_OPERATOR": "Acme HR desk"})
    html = bare.test_client().get("/v").get_data(as_text=True)
    assert "Acme HR desk" in html
    assert "No trust list is configured: this verifier vouches for no certification body" in html
    loose = create_app({"VERIFIER_RATE_PER_MINUTE": 0, "VERIFIER_TRUST_ANY": "true"})
    html = loose.test_client().get("/v").get_data(as_text=True)
    assert "Development setting: any issuer is accepted" in html


def test_vendored_decoder_matches_its_record() -> None:
    static = Path(__file__).resolve().parents[2] / "verifier/web/static/vendor"
    digest = hashlib.sha256((static / "jsQR.js").read_bytes()).hexdigest()
    assert digest in (static / "README.md").read_text()
    assert "Apache License" in (static / "jsQR.LICENSE").read_text()


# --- W3C VC API -----------------------------------------------------------------------------


def test_credentials_verify_valid(client, world) -> None:
    for secured in (world["signed"], world["token"]):
        reply = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert reply.status_code == 200, reply.json
        assert reply.json["verified"] is True and reply.json["errors"] == []
        assert {"proof", "status", "validity", "trust"} <= set(reply.json["checks"])
        assert reply.json["warnings"] == [] and reply.json["verdict"] == "VALID"
        assert reply.json["trust"]["status"] == "passed"
        assert reply.json["status"]["source"] in ("live", "cache")


def test_credentials_verify_failures_are_400(client, world) -> None:
    tampered = json.loads(json.dumps(world["signed"]))
    tampered["credentialSubject"]["licenseNumber"] = "FORGED"
    for secured, code in ((tampered, "signature_invalid"), (world["revoked"], "status_revoked")):
        reply = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert reply.status_code == 400
        assert reply.json["verified"] is False
        assert code in [e["code"] for e in reply.json["errors"]]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{}", "application/json", 400, "input_unusable"),
        (b"[]", "application/json", 400, "input_unusable"),
        (b"{", "application/json", 400, "input_unusable"),
        (b"[" * 5000, "application/json", 400, "input_too_deep"),
        (b'{"verifiableCredential": 5}', "application/json", 400, "input_unusable"),
        (b"<x/>", "application/xml", 415, "unsupported_media_type"),
    ],
)
def test_credentials_verify_bad_requests(client, body, content_type, status, code) -> None:
    reply = client.post("/credentials/verify", data=body, content_type=content_type)
    assert reply.status_code == status
    assert reply.json["error"]["code"] == code


# --- /api/v1/verify -------------------------------------------------------------------------


def test_api_takes_an_uploaded_qr_photo(client, world) -> None:
    reply = client.post(
        "/api/v1/verify",
        data={"image": (io.BytesIO(_png(world["signed"])), "qr.png")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200, reply.json
    data = reply.json
    assert data["verdict"] == "VALID" and data["input"]["source"] == "qr-image"
    assert data["credential"]["person"] == "Zoë Ångström-Ōtsuka"
    assert data["credential"]["certification"] == "Certified Welding Inspector — Level 2"
    assert data["credential"]["body"]["name"] == "Example Personnel Certification Body"
    assert [c["check"] for c in data["checks"]][-1] == "status"


@pytest.mark.parametrize("form", ["png-body", "json-input", "text", "credential-json"])
def test_api_takes_every_input(client, world, form) -> None:
    deep_link = qr.deep_link(VERIFIER, qr.encode_credential(world["signed"]))
    request = {
        "png-body": {"data": _png(world["signed"]), "content_type": "image/png"},
        "json-input": {"json": {"input": deep_link}},
        "text": {"data": world["token"], "content_type": "text/plain"},
        "credential-json": {"json": world["signed"]},
    }[form]
    reply = client.post("/api/v1/verify", **request)
    assert reply.status_code == 200 and reply.json["verdict"] == "VALID", reply.json


def test_api_follows_a_link_payload(client, world) -> None:
    hosted = world["server"].url + "/credentials/hosted"
    reply = client.post(
        "/api/v1/verify", json={"input": qr.deep_link(VERIFIER, qr.encode_link(hosted))}
    )
    assert reply.status_code == 200 and reply.json["verdict"] == "VALID"
    assert reply.json["input"]["source"] == "link"


def test_api_link_to_a_forbidden_place_is_refused(client) -> None:
    link = qr.deep_link(VERIFIER, qr.encode_link("https://169.254.169.254/latest/meta-data"))
    reply = client.post("/api/v1/verify", json={"input": link})
    assert reply.status_code == 400 and reply.json["verdict"] == "MALFORMED"
    assert reply.json["error"]["code"] == "fetch_refused"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"input": "hello"}}, 400, "input_unusable"),
        ({"json": {"input": 5}}, 400, "input_unusable"),
        ({"data": b"\x89PNG\r\n\x1a\nxx", "content_type": "image/png"}, 400, "image_unsupported"),
        ({"data": {}, "content_type": "multipart/form-data"}, 400, "input_unusable"),
        ({"data": b"a", "content_type": "application/octet-stream"}, 415, "unsupported_media_type"),
    ],
)
def test_api_unusable_input(client, kwargs, status, code) -> None:
    reply = client.post("/api/v1/verify", **kwargs)
    assert reply.status_code == status
    assert reply.json["error"]["code"] == code


def test_request_size_is_capped(world) -> None:
    app = create_app(_config(world, VERIFIER_MAX_JSON_BYTES=1000, VERIFIER_MAX_UPLOAD_BYTES=2000))
    client = app.test_client()
    reply = client.post("/api/v1/verify", json={"input": "x" * 2000})
    assert reply.status_code == 413 and reply.json["error"]["code"] == "input_too_large"
    reply = client.post("/api/v1/verify", data=b"\x89PNG" + b"0" * 5000, content_type="image/png")
    assert reply.status_code == 413


def test_rate_limit_per_client(world) -> None:
    """Flask-Limiter per client address on the POST endpoints: the burst, then 429
    ``rate_limited`` with Retry-After; other clients and the page are not affected. (The
    window's recovery is Flask-Limiter's own, tested there: no clock to move here.)"""
    app = create_app(_config(world, VERIFIER_RATE_PER_MINUTE=1, VERIFIER_RATE_BURST=2))
    client = app.test_client()

    def post(address: str = "198.51.100.7") -> object:
        return client.post(
            "/api/v1/verify", json={"input": "x"}, environ_base={"REMOTE_ADDR": address}
        )

    assert [post().status_code for _ in range(2)] == [400, 400]
    limited = post()
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert limited.json["verified"] is False
    assert 1 <= int(limited.headers["Retry-After"]) <= 121  # "2 per 120 second", rounded up
    assert post("198.51.100.8").status_code == 400  # another client has its own count
    assert client.get("/v").status_code == 200  # the page itself is not limited


def test_rate_limit_settings_become_a_sliding_window() -> None:
    assert per_window(60, 20) == "20 per 20 second"
    assert per_window(1, 2) == "2 per 120 second"
    assert per_window(6000, 1) == "1 per 1 second"
    with pytest.raises(ValueError):
        per_window(0, 20)


# --- presentations --------------------------------------------------------------------------


def _presentation(holder, credentials, **options) -> dict:
    vp = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": credentials,
    }
    if holder is None:
        return vp
    vp["holder"] = holder.public_key.did_key
    return create_proof(
        REGISTRY["eddsa-rdfc-2022"].cryptosuite,
        vp,
        holder.signer(),
        ProofOptions(created=NOW, proof_purpose="authentication", **options),
        default_store(),
        canonicalizer=FAST,
    )


def test_presentations_verify(client, world) -> None:
    holder = new_pair()
    envelope = {
        "@context": [VC_V2],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt," + world["token"],
    }
    signed = _presentation(holder, [world["signed"], envelope], challenge="c-1", domain="v.test")
    ok = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": signed,
            "options": {"challenge": "c-1", "domain": "v.test"},
        },
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["verified"] is True and len(ok.json["credentialResults"]) == 2
    wrong = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": signed,
            "options": {"challenge": "c-2", "domain": "v.test"},
        },
    )
    assert wrong.status_code == 400
    assert "invalid_challenge" in [e["code"] for e in wrong.json["errors"]]


def test_a_signed_presentation_without_credentials_is_valid(client) -> None:
    """VC 2.0 §4.13: verifiableCredential MAY be present; the holder's proof is what verifies
    (an unsigned, empty presentation stays refused: test_bad_presentations)."""
    holder = new_pair()
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    vp["holder"] = holder.public_key.did_key
    vp = create_proof(
        REGISTRY["eddsa-rdfc-2022"].cryptosuite,
        vp,
        holder.signer(),
        ProofOptions(created=NOW, proof_purpose="authentication", challenge="c-1"),
        default_store(),
        canonicalizer=FAST,
    )
    reply = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": "c-1"}},
    )
    assert reply.status_code == 200, reply.json
    assert reply.json["verified"] is True and reply.json["credentialResults"] == []


def test_unsigned_presentation(client, world) -> None:
    unsigned = _presentation(None, [world["signed"]])
    plain = client.post("/presentations/verify", json={"verifiablePresentation": unsigned})
    assert plain.status_code == 200 and plain.json["warnings"][0]["check"] == "proof"
    challenged = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": unsigned, "options": {"challenge": "c"}},
    )
    assert challenged.status_code == 400


def test_presentation_with_a_revoked_credential_fails(client, world) -> None:
    reply = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": _presentation(None, [world["revoked"]])},
    )
    assert reply.status_code == 400
    assert reply.json["credentialResults"][0]["verdict"] == "REVOKED"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"verifiablePresentation": []},
        {"verifiablePresentation": {"@context": [VC_V2], "type": "Other"}},
        {"verifiablePresentation": {"type": "VerifiablePresentation"}},
        {"verifiablePresentation": {"@context": [VC_V2], "type": "VerifiablePresentation"}},
        {"verifiablePresentation": {}, "options": []},
        {"verifiablePresentation": {}, "options": {"challenge": 5}},
    ],
)
def test_bad_presentations(client, body) -> None:
    reply = client.post("/presentations/verify", json=body)
    assert reply.status_code == 400 and reply.json["verified"] is False


# --- mounting on another app ------------------------------------------------------------------


def test_init_verifier_mounts_on_an_existing_app(world) -> None:
    app = Flask("issuer_like")
    app.config.update(_config(world))

    @app.get("/")
    def home() -> str:
        return "the issuer's home"

    init_verifier(app)
    client = app.test_client()
    assert client.get("/").get_data(as_text=True) == "the issuer's home"
    assert client.get("/v").status_code == 200
    reply = client.post("/credentials/verify", json={"verifiableCredential": world["signed"]})
    assert reply.status_code == 200
    assert client.get("/nothing-here").status_code == 404  # the issuer's own handler


def test_public_url_is_allow_listed(world) -> None:
    """A development instance verifies its own credentials: PUBLIC_URL passes the fetch rules."""
    server = world["server"]
    app = create_app(
        {
            "PUBLIC_URL": server.url,
            "DEV_MODE": True,
            "VERIFIER_TRUST_FILE": str(world["trust"]),
            "VERIFIER_CLOCK": lambda: NOW,
            "VERIFIER_RATE_PER_MINUTE": 0,
        }
    )
    reply = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": world["signed"]}
    )
    assert reply.status_code == 200, reply.json
    other = create_app(
        {
            "VERIFIER_TRUST_FILE": str(world["trust"]),
            "VERIFIER_CLOCK": lambda: NOW,
            "VERIFIER_RATE_PER_MINUTE": 0,
        }
    )
    reply = other.test_client().post(
        "/credentials/verify", json={"verifiableCredential": world["signed"]}
    )
    assert reply.status_code == 400 and reply.json["verdict"] == "STATUS_UNAVAILABLE"


def test_api_answers_429_when_every_pdf_render_slot_is_busy(client, monkeypatch) -> None:
    """A PDF without an attached credential is rendered to find its QR code; with every render
    slot taken the API says so (429 rate_limited) rather than queueing more processes."""
    blank = FPDF()
    blank.add_page()
    monkeypatch.setattr(pdf_extract, "RENDER_WAIT_S", 0.05)
    taken = [pdf_extract._RENDERS.acquire(blocking=False) for _ in range(8)].count(True)
    try:
        reply = client.post(
            "/api/v1/verify",
            data={"file": (io.BytesIO(bytes(blank.output())), "certificate.pdf")},
            content_type="multipart/form-data",
        )
    finally:
        for _ in range(taken):
            pdf_extract._RENDERS.release()
    assert reply.status_code == 429, reply.json
    assert reply.json["error"]["code"] == "rate_limited"
    assert reply.headers["Retry-After"] == "5"


def test_the_page_words_every_verdict() -> None:
    """Each verdict the API can give has its title and sentence on the page (an unknown one
    would be shown as "Not a readable certificate")."""
    script = (Path(verifier_app.__file__).parent / "web" / "static" / "verifier.js").read_text()
    table = script[
        script.index("var VERDICTS = {") : script.index("};", script.index("var VERDICTS"))
    ]
    worded = set(re.findall(r"^\s+([A-Z_]+): \[", table, flags=re.MULTILINE))
    assert worded == {verdict.value for verdict in Verdict}
