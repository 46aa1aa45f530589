"""The issuer's W3C VC API and status lists against the specifications (issue 14).

``POST /credentials/issue`` with the vc+jwt suite answers an EnvelopedVerifiableCredential,
which ``/credentials/verify`` (the verifier the issuer mounts) accepts; ``id: null``, unknown
options and caller-supplied status are refused with Problem Details; ``options.credentialId``
names the credential; status lists are served by content negotiation; an instance set up with
P-384 signs ecdsa-rdfc-2019 and vc+jwt (ES384) with it. Docstrings cite what each checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer import db
from issuer.app import create_app
from issuer.cli import main
from issuer.db.models import Scope
from issuer.services import accounts, instance
from keys.suites import vc_jwt

from .conftest import AppEnv
from .support import NOW, app_config

VC_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL = {
    "@context": [VC_V2],
    "type": ["VerifiableCredential"],
    "name": "Membership",
    "credentialSubject": {"id": "did:example:123", "name": "Ada"},
}
VCDM = "https://www.w3.org/TR/vc-data-model#"


@pytest.fixture
def jwt_env(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    """An instance whose VC API issues with the vc+jwt suite."""
    environment = AppEnv(tmp_path / "instance", database_url, VC_API_SUITE="vc+jwt")
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _issue(env: AppEnv, body: dict[str, Any]) -> Any:
    return env.client.post("/credentials/issue", json=body, headers=env.auth("issue"))


def _is_problem(reply: Any, code: str, kind: str = "MALFORMED_VALUE_ERROR") -> None:
    """VC API errors: certvc's error object plus Problem Details (VC Data Model 2.0 §7.1)."""
    assert reply.status_code == 400, reply.json
    assert reply.json["error"]["code"] == code
    assert reply.json["type"] == VCDM + kind
    assert reply.json["detail"] == reply.json["error"]["message"]
    assert isinstance(reply.json["title"], str) and isinstance(reply.json["code"], int)


def test_vc_jwt_issue_answers_an_enveloped_credential(jwt_env) -> None:
    """VC Data Model 2.0 §4.13.1 (EnvelopedVerifiableCredential: @context, type, a
    data:application/vc+jwt URL) and VC-JOSE-COSE §3.1.1; /credentials/verify accepts the
    object as it came, and a changed token is not verified."""
    reply = _issue(jwt_env, {"credential": CREDENTIAL})
    assert reply.status_code == 201, reply.json
    envelope = reply.json["verifiableCredential"]
    assert set(envelope) == {"@context", "type", "id"}
    assert envelope["@context"] == [VC_V2]
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["id"].startswith("data:application/vc+jwt,ey")
    token = vc_jwt.parse(vc_jwt.unenvelope(envelope))
    assert token.header["typ"] == "vc+jwt"
    assert token.unverified_payload["issuer"] == jwt_env.ctx.did
    verified = jwt_env.client.post("/credentials/verify", json={"verifiableCredential": envelope})
    assert verified.status_code == 200, verified.json
    assert verified.json["verified"] is True
    head, payload, signature = token.token.split(".")
    forged = {**envelope, "id": f"data:application/vc+jwt,{head}.{payload}.{signature[:-4]}AAAA"}
    refused = jwt_env.client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert refused.status_code == 400 and refused.json["verified"] is False


def test_null_id_is_refused(app_env) -> None:
    """VC Data Model 2.0 §4.4: id, where present, MUST be a single URL: "id": null is refused
    (it was issued under a generated id before issue 14)."""
    _is_problem(_issue(app_env, {"credential": {**CREDENTIAL, "id": None}}), "field_invalid")
    _is_problem(_issue(app_env, {"credential": {**CREDENTIAL, "id": ""}}), "field_invalid")


def test_options_credential_id(app_env) -> None:
    """VC API IssueCredentialOptions.credentialId: the credential is issued under that id (and
    /credentials/status finds it by it); one that disagrees with credential.id is refused."""
    wanted = "urn:uuid:6a6f7c6e-5b9a-4a1e-9c59-2d9f4c1e0a11"
    reply = _issue(app_env, {"credential": CREDENTIAL, "options": {"credentialId": wanted}})
    assert reply.status_code == 201, reply.json
    assert reply.json["verifiableCredential"]["id"] == wanted
    status = {
        "credentialId": wanted,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}],
    }
    done = app_env.client.post("/credentials/status", json=status, headers=app_env.auth("status"))
    assert done.status_code == 200 and done.json["state"] == "suspended"
    clash = {"credential": {**CREDENTIAL, "id": "urn:uuid:1"}, "options": {"credentialId": "x:2"}}
    _is_problem(_issue(app_env, clash), "field_invalid")


@pytest.mark.parametrize(
    "options",
    [
        {"mandatoryPointers": ["/issuer"]},
        {"credentialStatus": {"type": "StatusList2021Entry"}},
        {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "message"}},
        {"proofPurpose": "assertionMethod"},
    ],
)
def test_unknown_or_unsupported_options_are_refused(app_env, options) -> None:
    """VC API "Handling Unknown Options and Data": an option the issuer does not implement is
    an error, not ignored; options.credentialStatus may name only BitstringStatusListEntry
    (Bitstring Status List 1.0 §2.1), certvc adding its revocation and suspension entries."""
    _is_problem(_issue(app_env, {"credential": CREDENTIAL, "options": options}), "field_invalid")


def test_status_option_adds_both_entries(app_env) -> None:
    """VC API options.credentialStatus {type: BitstringStatusListEntry}: honoured; entries per
    Bitstring Status List 1.0 §2.1 (revocation and suspension, each with its list)."""
    options = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    reply = _issue(app_env, {"credential": CREDENTIAL, "options": options})
    assert reply.status_code == 201, reply.json
    entries = reply.json["verifiableCredential"]["credentialStatus"]
    assert [e["type"] for e in entries] == ["BitstringStatusListEntry"] * 2
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]


def test_caller_supplied_status_is_refused_with_problem_details(app_env) -> None:
    """Decision (docs/vc-api.md): a credentialStatus in the credential is refused (the issuer
    assigns status entries from its own lists), with the VC API's error shape."""
    entry = {
        "id": "https://elsewhere.example/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://elsewhere.example/status/1",
    }
    _is_problem(
        _issue(app_env, {"credential": {**CREDENTIAL, "credentialStatus": entry}}), "field_invalid"
    )


def test_malformed_request_is_a_parsing_error(app_env) -> None:
    """VC Data Model 2.0 §7.1 PARSING_ERROR (-64) for a body that is not JSON."""
    reply = app_env.client.post(
        "/credentials/issue",
        data=b'{"credential": ',
        content_type="application/json",
        headers=app_env.auth("issue"),
    )
    assert reply.status_code == 400
    assert reply.json["type"] == VCDM + "PARSING_ERROR" and reply.json["code"] == -64


def test_auth_errors_keep_the_shape(app_env) -> None:
    reply = app_env.client.post("/credentials/issue", json={"credential": CREDENTIAL})
    assert reply.status_code == 401
    assert reply.json["error"]["code"] == "auth_required"
    assert reply.json["type"] == "about:blank" and reply.json["title"] == "Unauthorized"


# --- status lists -------------------------------------------------------------------------------


def _status_path(env: AppEnv) -> str:
    reply = _issue(env, {"credential": CREDENTIAL})
    url = reply.json["verifiableCredential"]["credentialStatus"][0]["statusListCredential"]
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/vc"),
        ("*/*", "application/vc"),
        ("application/vc", "application/vc"),
        ("application/json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.9, */*;q=0.1", "application/ld+json"),
        ("text/html", "application/vc"),
    ],
)
def test_status_list_content_negotiation(app_env, accept, media_type) -> None:
    """Bitstring Status List 1.0 §3 (the list is a credential; VC Data Model 2.0 §6.3
    application/vc) with RFC 9110 §12.5.1 content negotiation: the same bytes under the type
    asked for, application/vc by default, Vary: Accept, an ETag per representation, and a
    conditional GET answered 304 only for that representation's ETag."""
    path = _status_path(app_env)
    plain = app_env.client.get(path)
    headers = {} if accept is None else {"Accept": accept}
    reply = app_env.client.get(path, headers=headers)
    assert reply.status_code == 200
    assert reply.mimetype == media_type
    assert reply.data == plain.data
    assert "Accept" in reply.headers["Vary"]
    etag = reply.headers["ETag"]
    assert (etag == plain.headers["ETag"]) is (media_type == "application/vc")
    again = app_env.client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    if media_type != "application/vc":
        other = app_env.client.get(path, headers={"If-None-Match": etag})
        assert other.status_code == 200 and other.mimetype == "application/vc"


# --- an instance that signs with P-384 ----------------------------------------------------------


@pytest.fixture
def p384_env(database_url: str, tmp_path: Path) -> Iterator[Any]:
    folder = tmp_path / "instance"
    engine = db.make_engine(database_url)
    try:
        report = instance.init_instance(
            folder,
            engine=engine,
            database=database_url,
            public_url="http://127.0.0.1:8000",
            dev_mode=True,
            passphrase=None,
            now=NOW,
            suite_keys={"ecdsa-rdfc-2019": "p-384", "vc+jwt": "p-384"},
        )
        factory = db.session_factory(engine)
        token = db.run_transaction(
            factory,
            lambda s: accounts.create_token(
                s, name="t", scopes=frozenset({Scope.ISSUE}), actor="t", now=NOW
            )[1],
        )
    finally:
        engine.dispose()
    apps = {
        suite: create_app(app_config(folder, database_url, VC_API_SUITE=suite))
        for suite in ("ecdsa-rdfc-2019", "vc+jwt")
    }
    yield report, apps, {"Authorization": f"Bearer {token}"}, folder
    for app in apps.values():
        app.extensions["certvc.db"].engine.dispose()


def test_instance_signs_with_p384(p384_env, database_url) -> None:
    """VC-DI-ECDSA §3 (ecdsa-rdfc-2019 with P-384 and SHA-384) and RFC 7518 §3.4 (ES384), as
    an instance setting (certvc init --suite-key): the proofs name the P-384 key, did.json
    lists it, both verify on the instance's /credentials/verify; re-init with another choice
    is refused, not applied."""
    report, apps, auth, folder = p384_env
    assert any(key.endswith("#p-384-1") for key in report.keys)
    assert not any(key.endswith("#p-256-1") for key in report.keys)
    did = report.settings.did
    for suite, app in apps.items():
        client = app.test_client()
        reply = client.post("/credentials/issue", json={"credential": CREDENTIAL}, headers=auth)
        assert reply.status_code == 201, reply.json
        secured = reply.json["verifiableCredential"]
        if suite == "vc+jwt":
            header = vc_jwt.parse(vc_jwt.unenvelope(secured)).header
            assert (header["alg"], header["kid"]) == ("ES384", f"{did}#p-384-1")
        else:
            assert secured["proof"]["verificationMethod"] == f"{did}#p-384-1"
            assert secured["proof"]["proofValue"].startswith("z")
        verified = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert verified.status_code == 200, verified.json
        methods = client.get("/.well-known/did.json").json["verificationMethod"]
        assert f"{did}#p-384-1" in [m["id"] for m in methods]
    engine = db.make_engine(database_url)
    try:
        with pytest.raises(instance.InstanceNotReady):
            instance.init_instance(
                folder,
                engine=engine,
                database=database_url,
                public_url=None,
                dev_mode=True,
                passphrase=None,
                now=NOW,
                suite_keys={"ecdsa-rdfc-2019": "p-256"},
            )
    finally:
        engine.dispose()
    assert instance.read_settings(folder).suite_keys == {
        "ecdsa-rdfc-2019": "p-384",
        "vc+jwt": "p-384",
    }


def test_init_suite_key_choices_are_checked(tmp_path, monkeypatch) -> None:
    """certvc init --suite-key: a suite/key type pair the suite cannot sign with is refused
    before anything is written (VC-DI-EdDSA takes Ed25519 only; VC-DI-ECDSA P-256 and P-384);
    keys rotate takes only the key types the instance signs with."""
    for name in ("CERTVC_DATABASE_URL", "CERTVC_KEY_PASSPHRASE", "CERTVC_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    folder = tmp_path / "instance"
    for bad in ("eddsa-rdfc-2022=p-384", "ecdsa-rdfc-2019=p-521", "nope=p-256", "vc+jwt"):
        done = runner.invoke(main, ["init", "--instance", str(folder), "--dev", "--suite-key", bad])
        assert done.exit_code == 2 and "field_invalid" in done.output, done.output
        assert not folder.exists()
    done = runner.invoke(main, ["init", "--instance", str(folder), "--dev", "--no-demo"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(
        main,
        ["keys", "rotate", "--instance", str(folder), "--type", "p-521", "--reason", "test"],
    )
    assert done.exit_code == 2 and "field_invalid" in done.output, done.output
