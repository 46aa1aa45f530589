"""Issue 11: the verdicts the body's own verifier (mounted at /v) gives an employer.

It trusts its own body without configuration and nobody else; a throwaway did:key that copies
the body's name is UNTRUSTED_ISSUER on /api/v1/verify and in the VC API's verdict; a withdrawal
or suspension shows on the very next request (the status is read from the database); every
status answer says how fresh it is; a credential whose issuer cannot be reached is
ISSUER_UNAVAILABLE, never INVALID_SIGNATURE; the VC API refuses a credential sent as JSON text.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image, ImageFilter

from keys.keypair import KeyPair, KeyType
from verifier import qr
from verifier.qr_symbol import make_symbol, render_png

from ..verifier.world import closed_port, resigned
from .conftest import AppEnv

CERTIFY = {
    "person": {"name": "Zoë Ångström-Ōtsuka", "reference": "P-1"},
    "scheme": "CWI-2",
    "scope": "VT-2, steel groups 1 and 2",
    "reason": "examination passed",
}


def _certify(site: AppEnv) -> dict[str, Any]:
    reply = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    assert reply.status_code == 201, reply.json
    return reply.json


def _verify(site: AppEnv, credential: Any) -> dict[str, Any]:
    reply = site.client.post("/api/v1/verify", json=credential)
    assert reply.status_code == 200, reply.json
    return reply.json


def _forge(genuine: dict[str, Any], *, keep_status: bool = True) -> dict[str, Any]:
    """The body's credential re-signed with a throwaway did:key: same person, number, body
    name, scope; only the issuer's id is the forger's (it has to be, to sign)."""
    return resigned(genuine, KeyPair.generate(KeyType.ED25519), keep_status=keep_status)


def _action(site: AppEnv, number: str, action: str) -> None:
    reply = site.client.post(
        f"/api/v1/certifications/{number}/{action}",
        json={"reason": f"because {action}"},
        headers=site.auth("status"),
    )
    assert reply.status_code == 200, reply.json


def test_the_bodys_own_credential_is_valid_with_no_configuration(app_env: AppEnv) -> None:
    genuine = _certify(app_env)["verifiableCredential"]
    result = _verify(app_env, genuine)
    assert result["verdict"] == "VALID" and result["verified"] is True
    trust = next(c for c in result["checks"] if c["check"] == "trust")
    assert trust["status"] == "passed"
    assert "the body this verifier belongs to" in trust["message"]
    body = result["credential"]["body"]
    assert body["trustedAs"] == genuine["issuer"]["name"] and body["id"] == genuine["issuer"]["id"]
    assert result["credential"]["scope"].endswith("VT-2, steel groups 1 and 2")
    assert result["status"]["source"] == "live"  # read from the instance's own records
    assert result["status"]["ageSeconds"] == 0 and result["status"]["listValidFrom"]


def test_a_forged_did_key_credential_with_the_bodys_name_is_untrusted(app_env: AppEnv) -> None:
    genuine = _certify(app_env)["verifiableCredential"]
    forged = _forge(genuine)
    result = _verify(app_env, forged)
    assert result["verdict"] == "UNTRUSTED_ISSUER" and result["verified"] is False
    checks = {c["check"]: c for c in result["checks"]}
    assert checks["proof"]["status"] == "passed"  # a correct signature, by the wrong key
    assert checks["trust"]["code"] == "issuer_not_trusted"
    # the issuer it actually names, shown plainly; the body's name is only what it claims
    body = result["credential"]["body"]
    assert body["id"] == forged["issuer"]["id"] and body["id"].startswith("did:key:")
    assert body["name"] == genuine["issuer"]["name"] and body["trustedAs"] is None


def test_the_vc_api_keeps_its_meaning_and_tells_the_true_verdict(app_env: AppEnv) -> None:
    """VC API: ``verified`` reflects ``options.checks`` (proof, status, validity by default);
    the verdict and the trust result are always there; naming "trust" enforces it."""
    genuine = _certify(app_env)["verifiableCredential"]
    forged = _forge(genuine, keep_status=False)
    relaxed = app_env.client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert relaxed.status_code == 200, relaxed.json
    assert relaxed.json["verified"] is True and relaxed.json["verdict"] == "UNTRUSTED_ISSUER"
    assert relaxed.json["trust"]["code"] == "issuer_not_trusted"
    assert [w["code"] for w in relaxed.json["warnings"]] == ["issuer_not_trusted", None]
    strict = app_env.client.post(
        "/credentials/verify",
        json={"verifiableCredential": forged, "options": {"checks": ["proof", "trust"]}},
    )
    assert strict.status_code == 400 and strict.json["verified"] is False
    assert strict.json["verdict"] == "UNTRUSTED_ISSUER"
    assert [e["code"] for e in strict.json["errors"]] == ["issuer_not_trusted"]
    own = app_env.client.post(
        "/credentials/verify",
        json={"verifiableCredential": genuine, "options": {"checks": ["proof", "trust"]}},
    )
    assert own.status_code == 200 and own.json["verdict"] == "VALID"
    unknown = app_env.client.post(
        "/credentials/verify", json={"verifiableCredential": genuine, "options": {"checks": [7]}}
    )
    assert unknown.status_code == 400 and unknown.json["error"]["code"] == "input_unusable"


def test_an_operator_can_enforce_trust_on_the_vc_api(
    database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CERTVC_VC_API_ENFORCE_TRUST", "true")
    site = AppEnv(tmp_path / "instance", database_url)
    try:
        forged = _forge(_certify(site)["verifiableCredential"], keep_status=False)
        reply = site.client.post("/credentials/verify", json={"verifiableCredential": forged})
        assert reply.status_code == 400 and reply.json["verified"] is False
        assert reply.json["verdict"] == "UNTRUSTED_ISSUER"
        presentation = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [forged],
        }
        reply = site.client.post(
            "/presentations/verify", json={"verifiablePresentation": presentation}
        )
        assert reply.status_code == 400 and reply.json["verified"] is False
        assert reply.json["credentialResults"][0]["verdict"] == "UNTRUSTED_ISSUER"
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()


def test_a_status_change_shows_on_the_very_next_request(app_env: AppEnv) -> None:
    created = _certify(app_env)
    genuine, number = created["verifiableCredential"], created["certification"]["number"]
    assert _verify(app_env, genuine)["verdict"] == "VALID"
    _action(app_env, number, "suspend")
    assert _verify(app_env, genuine)["verdict"] == "SUSPENDED"
    _action(app_env, number, "reinstate")
    assert _verify(app_env, genuine)["verdict"] == "VALID"
    _action(app_env, number, "withdraw")
    withdrawn = _verify(app_env, genuine)
    assert withdrawn["verdict"] == "REVOKED" and withdrawn["status"]["source"] == "live"


def test_a_link_mode_code_resolves_from_the_instance_even_without_a_public_page(
    app_env: AppEnv,
) -> None:
    """``#1L<credential id>``: the body's own verifier reads the credential from its records
    (the public page is off by default), with its current status."""
    created = _certify(app_env)
    genuine, number = created["verifiableCredential"], created["certification"]["number"]
    link = qr.encode_link(genuine["id"])
    assert (
        app_env.client.get(genuine["id"].removeprefix("http://127.0.0.1:8000")).status_code == 404
    )
    first = _verify(app_env, {"input": link})
    assert first["verdict"] == "VALID" and first["input"]["source"] == "link"
    _action(app_env, number, "withdraw")
    assert _verify(app_env, {"input": link})["verdict"] == "REVOKED"
    unknown = app_env.client.post(
        "/api/v1/verify", json={"input": qr.encode_link("http://127.0.0.1:8000/credentials/nope")}
    )
    assert unknown.status_code == 400 and unknown.json["error"]["code"] == "fetch_failed"


def test_an_issuer_that_cannot_be_reached_is_unavailable_not_forged(
    database_url: str, tmp_path: Any
) -> None:
    """A did:web body whose document cannot be fetched (nothing listens at its address): the
    verdict is ISSUER_UNAVAILABLE, and no status URL of it is fetched."""
    port = closed_port()
    origin = f"https://localhost:{port}"
    site = AppEnv(tmp_path / "instance", database_url, VERIFIER_ALLOW_ORIGINS=origin)
    try:
        did = f"did:web:localhost%3A{port}"
        signed = resigned(
            _certify(site)["verifiableCredential"],
            KeyPair.generate(KeyType.ED25519),
            issuer=did,
            method=f"{did}#key-1",
        )
        result = _verify(site, signed)
        assert result["verdict"] == "ISSUER_UNAVAILABLE", result["checks"]
        assert result["verified"] is False
        proof = next(c for c in result["checks"] if c["check"] == "proof")
        assert proof["code"] == "did_unavailable" and "fetch_failed" in proof["message"]
        status = next(c for c in result["checks"] if c["check"] == "status")
        assert status["status"] == "skipped"
        assert "status" not in result  # nothing was read
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()


def test_a_blurred_photo_without_a_readable_code_is_unreadable_not_fake(app_env: AppEnv) -> None:
    genuine = _certify(app_env)["verifiableCredential"]
    text = qr.deep_link("http://127.0.0.1:8000/v", qr.encode_credential(genuine))
    sharp = Image.open(io.BytesIO(render_png(make_symbol(text), module_px=3)))
    blurred = sharp.convert("L").filter(ImageFilter.GaussianBlur(6))
    photo = io.BytesIO()
    blurred.convert("RGB").save(photo, format="JPEG", quality=60)
    reply = app_env.client.post(
        "/api/v1/verify",
        data={"image": (io.BytesIO(photo.getvalue()), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400
    assert reply.json["error"]["code"] == "qr_not_found"
    assert reply.json["verdict"] == "UNREADABLE" and reply.json["verified"] is False


@pytest.mark.parametrize(
    "value",
    [
        "json-text",
        "null-proof",
        "not-a-jwt",
    ],
)
def test_the_vc_api_refuses_what_is_not_a_credential(app_env: AppEnv, value: str) -> None:
    genuine = _certify(app_env)["verifiableCredential"]
    sent: Any = {
        "json-text": json.dumps(genuine),
        "null-proof": {**genuine, "proof": None},
        "not-a-jwt": qr.encode_credential(genuine),
    }[value]
    reply = app_env.client.post("/credentials/verify", json={"verifiableCredential": sent})
    assert reply.status_code == 400, reply.json
    assert reply.json["verified"] is False
