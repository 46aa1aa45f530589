"""VC 1.1 credentials and id-only subjects through ``certvc sign`` and ``/credentials/issue``.

These depend on the credential model accepting them (branch h14v: the generic shape rules take
an id-only subject and VC Data Model 1.1): run them after that branch is merged. The signing
side they check is this branch's: a 1.1 credential gets the Data Integrity context added
(as the reference implementation's ``addSuiteContext``), is refused as vc+jwt, and on the VC
API gets Bitstring Status List entries with the status context and its 1.1 dates recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.cli import main
from keys.keypair import KeyPair, KeyType

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("CERTVC_CONTEXTS_MANIFEST", raising=False)
    monkeypatch.setenv("CERTVC_CACHE_DIR", str(tmp_path / "cache"))
    return CliRunner()


def _key(tmp_path: Path, key_type: KeyType = KeyType.ED25519) -> tuple[Path, KeyPair]:
    pair = KeyPair.generate(key_type)
    path = tmp_path / f"{key_type.value}.json"
    secret = pair.export_secret_multibase()
    path.write_text(
        json.dumps({"publicKeyMultibase": pair.public_key.multibase, "secretKeyMultibase": secret})
    )
    return path, pair


def _v1(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V1],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder"},
    }


def _sign(runner: CliRunner, key: Path, suite: str, path: Path) -> Any:
    args = ["sign", "--plaintext", "--key", str(key), "--suite", suite, str(path)]
    return runner.invoke(main, args)


@pytest.mark.parametrize(
    ("suite", "key_type"),
    [("eddsa-rdfc-2022", KeyType.ED25519), ("ecdsa-rdfc-2019", KeyType.P384)],
)
def test_v1_credential_signs_and_verifies(runner, tmp_path, suite, key_type) -> None:
    """VC Data Model 1.1 §4 (issuanceDate, the v1 context) signed with Data Integrity (the
    data-integrity/v2 context added, Data Integrity 1.0 §2.1), then VALID for certvc verify;
    an id-only subject (VC Data Model 2.0 §4.8 allows it) is signed as given."""
    key, pair = _key(tmp_path, key_type)
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(_v1(pair.public_key.did_key)))
    done = _sign(runner, key, suite, path)
    assert done.exit_code == 0, done.output
    signed = json.loads(done.stdout)
    assert signed["@context"] == [VC_V1, DI_V2]
    assert signed["credentialSubject"] == {"id": "did:example:holder"}
    out = tmp_path / "signed.json"
    out.write_text(json.dumps(signed))
    verified = runner.invoke(main, ["verify", "--json", "--trust-any", str(out)])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["verdict"] == "VALID"


def test_v1_credential_is_not_a_vc_jwt(runner, tmp_path) -> None:
    """VC-JOSE-COSE §3.1.1 secures VC Data Model 2.0 documents: a 1.1 credential is refused as
    vc+jwt (exit 2, credential_malformed), whatever the model accepts."""
    key, pair = _key(tmp_path)
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(_v1(pair.public_key.did_key)))
    done = _sign(runner, key, "vc+jwt", path)
    assert done.exit_code == 2 and "credential_malformed" in done.output


def test_id_only_subject_signs_as_vc2(runner, tmp_path) -> None:
    """VC Data Model 2.0 §4.8: credentialSubject may hold only an id; the generic signer signs
    it with every suite."""
    for suite, key_type in (("eddsa-rdfc-2022", KeyType.ED25519), ("vc+jwt", KeyType.P521)):
        key, pair = _key(tmp_path, key_type)
        credential = {
            "@context": [VC_V2],
            "type": ["VerifiableCredential"],
            "issuer": pair.public_key.did_key,
            "credentialSubject": {"id": "did:example:holder"},
        }
        path = tmp_path / "v2.json"
        path.write_text(json.dumps(credential))
        done = _sign(runner, key, suite, path)
        assert done.exit_code == 0, done.output


def test_vc_api_issues_v1_and_id_only(app_env) -> None:
    """/credentials/issue with a VC 1.1 credential: signed with Data Integrity, its
    Bitstring Status List entries defined by the status context (Bitstring Status List 1.0
    §2.1), its issuanceDate/expirationDate recorded; and a 2.0 id-only subject."""
    credential = _v1(app_env.ctx.did)
    credential["expirationDate"] = "2030-01-01T00:00:00Z"
    reply = app_env.client.post(
        "/credentials/issue", json={"credential": credential}, headers=app_env.auth("issue")
    )
    assert reply.status_code == 201, reply.json
    issued = reply.json["verifiableCredential"]
    assert issued["@context"][0] == VC_V1
    assert STATUS_V1 in issued["@context"] and DI_V2 in issued["@context"]
    assert len(issued["credentialStatus"]) == 2
    verified = app_env.client.post("/credentials/verify", json={"verifiableCredential": issued})
    assert verified.status_code == 200, verified.json
    id_only = {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:holder"},
    }
    reply = app_env.client.post(
        "/credentials/issue", json={"credential": id_only}, headers=app_env.auth("issue")
    )
    assert reply.status_code == 201, reply.json
