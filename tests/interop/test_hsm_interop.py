"""What an instance signs through a PKCS#11 token verifies with the reference implementation
(issue 18): eddsa-rdfc-2022 (Ed25519 in the token, CKM_EDDSA) and ecdsa-rdfc-2019 (P-256,
CKM_ECDSA giving r||s), the status list credentials the token signed, and after a rotation both
the retired key's and the new key's credentials, against the instance's did:web document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.cli import main
from issuer.services import instance
from tests.interop.harness import Reference

pytestmark = pytest.mark.interop

URL = "https://certs.hsm-interop.example"
SUITES = {"ED": "eddsa-rdfc-2022", "EC": "ecdsa-rdfc-2019"}


def _run(env: dict[str, str], *args: str) -> Any:
    done = CliRunner().invoke(main, [*args, "--json"], env=env)
    assert done.exit_code == 0, (args, done.output, done.stderr)
    return json.loads(done.stdout)


def test_credentials_signed_in_the_token_verify_with_the_reference(
    reference: Reference, softhsm: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "instance"
    env = {
        "CERTVC_INSTANCE": str(folder),
        "CERTVC_DATABASE_URL": "",
        "CERTVC_PKCS11_PIN": softhsm.pin,
    }
    _run(env, "init", "--no-demo", "--public-url", URL, *softhsm.init_args())
    for code, suite in SUITES.items():
        _run(
            env,
            "schemes",
            "create",
            "--code",
            code,
            "--name",
            f"Inspector ({suite})",
            "--criteria",
            "Passed the examinations",
            "--standard",
            "ISO 9712:2021",
            "--validity-days",
            "365",
            "--suite",
            suite,
            "--reason",
            "scheme for the HSM interop test",
        )

    def issue(code: str, name: str) -> dict[str, Any]:
        return _run(
            env,
            "issue",
            "--scheme",
            code,
            "--scope",
            "visual testing",
            "--name",
            name,
            "--reason",
            "examination passed",
        )["verifiableCredential"]

    credentials = [issue(code, f"Before {code}") for code in SUITES]
    for key_type in ("ed25519", "p-256"):
        _run(env, "keys", "rotate", "--type", key_type, "--reason", "rotation")
    credentials += [issue(code, f"After {code}") for code in SUITES]
    methods = {c["proof"]["verificationMethod"].split("#")[1] for c in credentials}
    assert methods == {"ed25519-1", "p-256-1", "ed25519-2", "p-256-2"}

    published = tmp_path / "published"
    _run(env, "status", "publish", "--to", str(published))
    lists = [
        json.loads(path.read_text())
        for path in sorted(published.rglob("*"))
        if path.is_file() and path.suffix in ("", ".json") and path.name != "did.json"
    ]
    status_lists = [doc for doc in lists if "BitstringStatusListCredential" in doc.get("type", [])]
    assert status_lists, sorted(p.name for p in published.rglob("*"))

    settings = instance.read_settings(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CERTVC_PKCS11_PIN", softhsm.pin)
        did_document = instance.public_keyring(
            folder, settings, now=datetime.now(UTC)
        ).did_document()
    results = reference.run(
        "verify.mjs",
        [
            {
                "credential": credential,
                "checkIssuer": False,  # vc.verifyCredential needs a checkStatus for its lists
                "didDocuments": {did_document["id"]: did_document},
            }
            for credential in [*credentials, *status_lists]
        ],
    )
    assert results == [{"verified": True}] * len(results), results

    # One changed character and the reference refuses the token's signature.
    forged = json.loads(json.dumps(credentials[1]))
    forged["credentialSubject"]["name"] = "Mallory"
    (verdict,) = reference.run(
        "verify.mjs",
        [
            {
                "credential": forged,
                "checkIssuer": False,
                "didDocuments": {did_document["id"]: did_document},
            }
        ],
    )
    assert verdict["verified"] is False
