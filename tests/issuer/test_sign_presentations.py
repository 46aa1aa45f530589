"""``certvc sign --presentation``, ES384/ES512 vc+jwt, enveloped forms, ``certvc verify --key``.

Each test drives the command line as a user would (click's runner on ``issuer.cli.main``) and
checks the result with the W3C VC API endpoints of a stand-alone verifier
(``/presentations/verify``, ``/credentials/verify``) or with ``certvc verify``. Docstrings name
the normative statement each checks.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.cli import main
from keys.keypair import KeyPair, KeyType
from keys.suites import vc_jwt
from verifier.app import create_app

VC_V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CREATED = "2026-11-01T08:00:00Z"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("CERTVC_CONTEXTS_MANIFEST", raising=False)
    monkeypatch.setenv("CERTVC_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CERTVC_ALLOW_ORIGINS", "CERTVC_DEV_MODE", "CERTVC_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def verifier_client() -> Any:
    """A stand-alone verifier that accepts any issuer: these tests are about proofs."""
    app = create_app(
        {"VERIFIER_TRUST_ANY": True, "VERIFIER_CLOCK": lambda: NOW, "VERIFIER_RATE_PER_MINUTE": 0}
    )
    return app.test_client()


def _key(tmp_path: Path, key_type: KeyType, name: str = "key") -> tuple[Path, KeyPair]:
    pair = KeyPair.generate(key_type)
    path = tmp_path / f"{name}-{key_type.value}.json"
    path.write_text(
        json.dumps(
            {
                "publicKeyMultibase": pair.public_key.multibase,
                "secretKeyMultibase": pair.export_secret_multibase(),
            }
        )
    )
    return path, pair


def _b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2), to build forgeries."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _sign(runner: CliRunner, key: Path, suite: str, document: Path, *extra: str) -> Any:
    args = ["sign", "--plaintext", "--key", str(key), "--suite", suite, "--created", CREATED]
    done = runner.invoke(main, [*args, *extra, str(document)])
    assert done.exit_code == 0, done.output
    text = done.stdout.strip()
    return text if text.startswith("ey") else json.loads(text)


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "name": "Ada Lovelace"},
    }


def _signed_credential(runner: CliRunner, tmp_path: Path) -> dict[str, Any]:
    key, pair = _key(tmp_path, KeyType.ED25519, "issuer")
    unsigned = _write(tmp_path, "credential.json", _credential(pair.public_key.did_key))
    signed = _sign(runner, key, "eddsa-rdfc-2022", unsigned)
    assert isinstance(signed, dict)
    return signed


def _presentation(credentials: list[Any] | None = None) -> dict[str, Any]:
    vp: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if credentials is not None:
        vp["verifiableCredential"] = credentials
    return vp


def _verify_vp(client: Any, vp: Any, **options: str) -> Any:
    return client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )


# --- Data Integrity presentations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "key_type"),
    [
        ("eddsa-rdfc-2022", KeyType.ED25519),
        ("ecdsa-rdfc-2019", KeyType.P256),
        ("ecdsa-rdfc-2019", KeyType.P384),
    ],
)
def test_sign_presentation_data_integrity(
    runner, tmp_path, verifier_client, suite, key_type
) -> None:
    """VC Data Model 2.0 §4.13 and Data Integrity 1.0 §2.1/§4.2: the holder signs the
    presentation with proofPurpose "authentication" carrying the verifier's challenge and
    domain; /presentations/verify accepts it with the same challenge and domain and refuses
    another challenge (INVALID_CHALLENGE_ERROR) or domain (INVALID_DOMAIN_ERROR)."""
    inner = _signed_credential(runner, tmp_path)
    holder_key, holder = _key(tmp_path, key_type, "holder")
    path = _write(tmp_path, "vp.json", _presentation([inner]))
    vp = _sign(
        runner,
        holder_key,
        suite,
        path,
        "--presentation",
        "--challenge",
        "c-1",
        "--domain",
        "v.test",
    )
    proof = vp["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert (proof["challenge"], proof["domain"]) == ("c-1", "v.test")
    assert vp["holder"] == holder.public_key.did_key  # a missing holder is the signer's DID
    ok = _verify_vp(verifier_client, vp, challenge="c-1", domain="v.test")
    assert ok.status_code == 200, ok.json
    assert ok.json["verified"] is True and len(ok.json["credentialResults"]) == 1
    wrong = _verify_vp(verifier_client, vp, challenge="c-2", domain="v.test")
    assert wrong.status_code == 400
    assert "invalid_challenge" in [e["code"] for e in wrong.json["errors"]]
    wrong = _verify_vp(verifier_client, vp, challenge="c-1", domain="other.test")
    assert "invalid_domain" in [e["code"] for e in wrong.json["errors"]]


def test_signed_presentation_without_credentials(runner, tmp_path, verifier_client) -> None:
    """VC Data Model 2.0 §4.13: verifiableCredential MAY be present; an empty, signed
    presentation is signed and verifies on the holder's proof alone."""
    holder_key, _ = _key(tmp_path, KeyType.ED25519, "holder")
    path = _write(tmp_path, "vp.json", _presentation())
    vp = _sign(runner, holder_key, "eddsa-rdfc-2022", path, "--presentation", "--challenge", "n")
    reply = _verify_vp(verifier_client, vp, challenge="n")
    assert reply.status_code == 200, reply.json


def test_tampered_presentation_fails(runner, tmp_path, verifier_client) -> None:
    """Data Integrity 1.0 §4.4 (verify proof): one changed value is a failed signature."""
    holder_key, _ = _key(tmp_path, KeyType.ED25519, "holder")
    path = _write(tmp_path, "vp.json", {**_presentation(), "id": "urn:uuid:1"})
    vp = _sign(runner, holder_key, "eddsa-rdfc-2022", path, "--presentation", "--challenge", "n")
    vp["id"] = "urn:uuid:2"
    reply = _verify_vp(verifier_client, vp, challenge="n")
    assert reply.status_code == 400
    assert "signature_invalid" in [e["code"] for e in reply.json["errors"]]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"@context": [VC_V2], "type": ["VerifiableCredential"]}, "/type"),
        ({"@context": ["https://example.org/x"], "type": ["VerifiablePresentation"]}, "/@context"),
        (
            {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": "{}"},
            "/verifiableCredential",
        ),
        (
            {
                "@context": [VC_V2],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [{"@context": [VC_V2], "type": ["VerifiableCredential"]}],
            },
            "/verifiableCredential/0",
        ),
        ({"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": 5}, "/holder"),
    ],
)
def test_sign_presentation_refuses_what_is_not_one(runner, tmp_path, document, pointer) -> None:
    """VC Data Model 2.0 §4.13: type includes VerifiablePresentation, @context starts with the
    v2 context, verifiableCredential items are secured credential objects (a JSON string is not
    one), holder is a URL: anything else is refused before signing, exit 2."""
    holder_key, _ = _key(tmp_path, KeyType.ED25519, "holder")
    path = _write(tmp_path, "vp.json", document)
    args = ["sign", "--plaintext", "--key", str(holder_key), "--suite", "eddsa-rdfc-2022"]
    done = runner.invoke(main, [*args, "--presentation", str(path)])
    assert done.exit_code == 2, done.output
    assert "credential_malformed" in done.output


def test_challenge_and_domain_go_with_presentation(runner, tmp_path) -> None:
    key, _ = _key(tmp_path, KeyType.ED25519)
    path = _write(tmp_path, "c.json", _credential("did:example:x"))
    args = ["sign", "--plaintext", "--key", str(key), "--suite", "eddsa-rdfc-2022"]
    done = runner.invoke(main, [*args, "--challenge", "x", str(path)])
    assert done.exit_code == 2 and "--presentation" in done.output
    done = runner.invoke(main, [*args, "--enveloped", str(path)])
    assert done.exit_code == 2 and "vc+jwt" in done.output


# --- vp+jwt and the enveloped forms -------------------------------------------------------------


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P256, KeyType.P384, KeyType.P521])
def test_vp_jwt_enveloped_presentation(runner, tmp_path, verifier_client, key_type) -> None:
    """VC-JOSE-COSE §3.2.1 (vp+jwt, typ "vp+jwt", the holder's key) and VC Data Model 2.0
    §4.13.2 (EnvelopedVerifiablePresentation, a data:application/vp+jwt URL): verified on
    /presentations/verify with the challenge and domain as nonce and aud; a vc+jwt inside as an
    EnvelopedVerifiableCredential (§4.13.1) verifies too; another nonce fails."""
    issuer_key, issuer = _key(tmp_path, KeyType.P521, "issuer")
    unsigned = _write(tmp_path, "credential.json", _credential(issuer.public_key.did_key))
    envelope = _sign(runner, issuer_key, "vc+jwt", unsigned, "--enveloped")
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["id"].startswith("data:application/vc+jwt,ey")
    holder_key, holder = _key(tmp_path, key_type, "holder")
    path = _write(tmp_path, "vp.json", _presentation([envelope]))
    vp = _sign(
        runner,
        holder_key,
        "vc+jwt",
        path,
        "--presentation",
        "--challenge",
        "c-1",
        "--domain",
        "v.test",
        "--enveloped",
    )
    assert vp == {
        "@context": [VC_V2],
        "type": "EnvelopedVerifiablePresentation",
        "id": vp["id"],
    }
    token = vc_jwt.parse(vc_jwt.unenvelope(vp, presentation=True))
    assert token.header["typ"] == "vp+jwt" and token.header["alg"] == key_type.jose_alg
    assert token.unverified_payload["holder"] == holder.public_key.did_key
    assert (token.unverified_payload["nonce"], token.unverified_payload["aud"]) == ("c-1", "v.test")
    ok = _verify_vp(verifier_client, vp, challenge="c-1", domain="v.test")
    assert ok.status_code == 200, ok.json
    assert ok.json["verified"] is True and ok.json["credentialResults"][0]["verified"] is True
    wrong = _verify_vp(verifier_client, vp, challenge="c-2")
    assert wrong.status_code == 400
    assert [e["code"] for e in wrong.json["errors"]] == ["invalid_challenge"]
    assert wrong.json["credentialResults"] == []  # nothing inside a bad token is believed


def test_tampered_vp_jwt_and_wrong_media_type_fail(runner, tmp_path, verifier_client) -> None:
    """RFC 7515 §5.2: a changed payload does not verify; VC Data Model 2.0 §4.13.2: the envelope
    carries data:application/vp+jwt (a vc+jwt URL is refused)."""
    holder_key, _ = _key(tmp_path, KeyType.P384, "holder")
    path = _write(tmp_path, "vp.json", _presentation())
    vp = _sign(runner, holder_key, "vc+jwt", path, "--presentation", "--enveloped")
    header, payload, signature = vp["id"].split(",", 1)[1].split(".")
    forged = vc_jwt.parse(f"{header}.{payload}.{signature}").unverified_payload
    forged = {**forged, "holder": "did:example:someone-else"}
    body = _b64url(json.dumps(forged).encode())
    tampered = {**vp, "id": f"data:application/vp+jwt,{header}.{body}.{signature}"}
    reply = _verify_vp(verifier_client, tampered)
    assert reply.status_code == 400
    assert [e["code"] for e in reply.json["errors"]] == ["signature_invalid"]
    wrong_type = {**vp, "id": vp["id"].replace("application/vp+jwt", "application/vc+jwt")}
    reply = _verify_vp(verifier_client, wrong_type)
    assert reply.status_code == 400
    assert [e["code"] for e in reply.json["errors"]] == ["jwt_malformed"]


def test_credentials_verify_takes_the_enveloped_credential(
    runner, tmp_path, verifier_client
) -> None:
    """VC Data Model 2.0 §4.13.1: /credentials/verify accepts an EnvelopedVerifiableCredential
    (ES384 and ES512, RFC 7518 §3.4); a malformed envelope is refused with a code."""
    for key_type in (KeyType.P384, KeyType.P521):
        key, pair = _key(tmp_path, key_type, "issuer")
        unsigned = _write(tmp_path, "credential.json", _credential(pair.public_key.did_key))
        envelope = _sign(runner, key, "vc+jwt", unsigned, "--enveloped")
        reply = verifier_client.post("/credentials/verify", json={"verifiableCredential": envelope})
        assert reply.status_code == 200, reply.json
        assert f"vc+jwt {key_type.jose_alg}" in json.dumps(reply.json) or reply.json["verified"]
    bad = {**envelope, "id": "data:text/plain,hello"}
    reply = verifier_client.post("/credentials/verify", json={"verifiableCredential": bad})
    assert reply.status_code == 400 and reply.json["error"]["code"] == "credential_malformed"


# --- ES384 / ES512 credentials and certvc verify --key -----------------------------------------


def _verify(runner: CliRunner, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = runner.invoke(main, ["verify", "--json", "--trust-any", *extra, str(path)])
    try:
        return done.exit_code, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.exit_code, {"output": done.output}


def _checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["status"] for c in report.get("checks", [])}


@pytest.mark.parametrize(
    ("key_type", "alg"), [(KeyType.P256, "ES256"), (KeyType.P384, "ES384"), (KeyType.P521, "ES512")]
)
def test_vc_jwt_signs_and_verifies_with_each_curve(runner, tmp_path, key_type, alg) -> None:
    """VC-JOSE-COSE §3.1.1 with RFC 7518 §3.4's ES256/ES384/ES512: certvc sign writes the
    token with the curve's alg, certvc verify accepts it, one changed payload byte fails."""
    key, pair = _key(tmp_path, key_type, "issuer")
    unsigned = _write(tmp_path, "credential.json", _credential(pair.public_key.did_key))
    token = _sign(runner, key, "vc+jwt", unsigned)
    assert vc_jwt.parse(token).header["alg"] == alg
    path = _write(tmp_path, "credential.jwt", token)
    code, report = _verify(runner, path)
    assert code == 0 and report["verdict"] == "VALID", report
    header, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["credentialSubject"]["name"] = "Ada Lovelacf"
    body = _b64url(json.dumps(forged).encode())
    path = _write(tmp_path, "forged.jwt", f"{header}.{body}.{signature}")
    code, report = _verify(runner, path)
    assert code == 1 and report["verdict"] == "INVALID_SIGNATURE"


def _jwt_for_https_issuer(
    runner: CliRunner, tmp_path: Path, key_type: KeyType
) -> tuple[Path, KeyPair]:
    pair = KeyPair.generate(key_type)
    private = {**pair.export_private_jwk(), "kid": "https://issuer.example#key-1"}
    key = _write(tmp_path, "issuer.jwk", private)
    unsigned = _write(tmp_path, "credential.json", _credential("https://issuer.example"))
    token = _sign(
        runner, key, "vc+jwt", unsigned, "--verification-method", "https://issuer.example#key-1"
    )
    return _write(tmp_path, "credential.jwt", token), pair


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P384, KeyType.P521])
def test_verify_key_takes_a_jwk_for_an_https_issuer(runner, tmp_path, key_type) -> None:
    """VC-JOSE-COSE §3.1.1 (kid names the key) with a key the verifier supplies: an issuer
    identified by an https URL whose JWK the desk holds verifies offline; without --key the
    key cannot be had; another key fails; a private JWK is refused (exit 2)."""
    token, pair = _jwt_for_https_issuer(runner, tmp_path, key_type)
    public = {**pair.public_key.to_jwk(), "kid": "https://issuer.example#key-1"}
    key = _write(tmp_path, "public.jwk", public)
    code, report = _verify(runner, token, "--offline", "--key", str(key))
    assert code == 0 and report["verdict"] == "VALID", report
    assert _checks(report)["issuer"] == "passed"
    code, report = _verify(runner, token, "--offline")
    assert code == 1 and _checks(report)["proof"] == "failed"
    assert report["verdict"] == "ISSUER_UNAVAILABLE"  # no key to be had: cannot check, not forged
    other = {**KeyPair.generate(key_type).public_key.to_jwk(), "kid": public["kid"]}
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "other.jwk", other)))
    assert code == 1 and report["verdict"] == "INVALID_SIGNATURE"
    private = {**pair.export_private_jwk(), "kid": public["kid"]}
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "private.jwk", private)))
    assert code == 2 and "key_invalid" in report["output"]


def test_verify_key_takes_a_verification_method(runner, tmp_path) -> None:
    """CID 1.0 §2.2 (Multikey and JsonWebKey verification methods): --key FILE holding a method
    object with id and controller; the controller must be the credential's issuer (Data
    Integrity policy, VC Data Model 2.0 §4.7) and the method id must be <controller>#..."""
    token, pair = _jwt_for_https_issuer(runner, tmp_path, KeyType.P384)
    multikey = {
        "id": "https://issuer.example#key-1",
        "type": "Multikey",
        "controller": "https://issuer.example",
        "publicKeyMultibase": pair.public_key.multibase,
    }
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "m.json", multikey)))
    assert code == 0 and report["verdict"] == "VALID", report
    jwk_method = {**multikey, "type": "JsonWebKey", "publicKeyJwk": pair.public_key.to_jwk()}
    del jwk_method["publicKeyMultibase"]
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "j.json", jwk_method)))
    assert code == 0, report
    foreign = {
        **multikey,
        "id": "https://other.example#key-1",
        "controller": "https://other.example",
    }
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "f.json", foreign)))
    assert code == 1 and _checks(report)["proof"] == "failed"
    assert report["verdict"] == "ISSUER_UNAVAILABLE"  # no key to be had: cannot check, not forged
    mismatched = {**multikey, "controller": "https://other.example"}
    code, report = _verify(runner, token, "--key", str(_write(tmp_path, "x.json", mismatched)))
    assert code == 2 and "key_invalid" in report["output"]


def test_verify_key_works_for_data_integrity_too(runner, tmp_path) -> None:
    """Data Integrity 1.0 §4.4 (retrieve the verification method): a did:web issuer's
    ecdsa-rdfc-2019 P-384 proof verifies offline with its Multikey method given by --key."""
    key, pair = _key(tmp_path, KeyType.P384, "issuer")
    method_id = "did:web:issuer.example#key-1"
    unsigned = _write(tmp_path, "credential.json", _credential("did:web:issuer.example"))
    signed = _sign(runner, key, "ecdsa-rdfc-2019", unsigned, "--verification-method", method_id)
    path = _write(tmp_path, "signed.json", signed)
    method = {
        "id": method_id,
        "type": "Multikey",
        "controller": "did:web:issuer.example",
        "publicKeyMultibase": pair.public_key.multibase,
    }
    code, report = _verify(
        runner, path, "--offline", "--key", str(_write(tmp_path, "m.json", method))
    )
    assert code == 0 and report["verdict"] == "VALID", report


WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"


def test_verify_did_document_stands_in_for_resolving_the_did(runner, tmp_path) -> None:
    """DID Core §7.1 (resolution gives the DID document; how is the verifier's business): an
    offline desk holding a did:web issuer's did.json checks the proof and the issuer with
    ``--did-document FILE`` (a public DCC credential, tests/fixtures/wild); without it the key
    cannot be had (ISSUER_UNAVAILABLE, never INVALID_SIGNATURE); a changed claim fails; a file
    that is no DID document is refused (exit 2)."""
    credential = WILD / "v2-did-web-ed25519-2020-bsl-status.json"
    document = WILD / "documents" / "dcc-did-web.did.json"
    code, report = _verify(runner, credential, "--offline", "--did-document", str(document))
    checks = _checks(report)
    assert checks["proof"] == "passed" and checks["issuer"] == "passed", report
    assert report["verdict"] == "STATUS_UNAVAILABLE"  # its status list is online only
    code, report = _verify(runner, credential, "--offline")
    assert report["verdict"] == "ISSUER_UNAVAILABLE"
    changed = json.loads(credential.read_text(encoding="utf-8"))
    changed["credentialSubject"]["achievement"]["name"] += "!"
    forged = _write(tmp_path, "forged.json", changed)
    code, report = _verify(runner, forged, "--offline", "--did-document", str(document))
    assert code == 1 and report["verdict"] == "INVALID_SIGNATURE"
    bad = _write(tmp_path, "bad.json", {"id": "https://not-a-did.example"})
    code, report = _verify(runner, credential, "--did-document", str(bad))
    assert code == 2 and "not a DID document" in report["output"]
