"""A real body set up entirely from the CLI issues what the reference verifies (issue 12).

``certvc init --no-demo`` for https://certs.acme-welding.example, then ``body set`` (name,
address, accreditation), ``schemes create``, ``users create`` and ``issue``: the credential's
issuer profile carries the body's name, e-mail, address and accreditation, and Digital Bazaar's
reference implementation verifies its proof against the instance's did:web document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli import main
from issuer.services import instance
from tests.interop.harness import Reference

pytestmark = pytest.mark.interop

URL = "https://certs.acme-welding.example"


def _run(env: dict[str, str], *args: str) -> dict:
    done = CliRunner().invoke(main, [*args, "--json"], env=env)
    assert done.exit_code == 0, (args, done.output, done.stderr)
    return json.loads(done.stdout)


def test_a_no_demo_instance_set_up_from_the_cli_issues_what_the_reference_verifies(
    reference: Reference, tmp_path: Path
) -> None:
    folder = tmp_path / "instance"
    env = {"CERTVC_INSTANCE": str(folder), "CERTVC_DATABASE_URL": ""}
    _run(env, "init", "--dev", "--no-demo", "--public-url", URL)
    assert _run(env, "schemes", "list") == {"schemes": []}
    body = _run(
        env,
        "body",
        "set",
        "--name",
        "ACME Welding Certification GmbH",
        "--url",
        "https://acme-welding.example",
        "--email",
        "certification@acme-welding.example",
        "--street",
        "Schweißweg 1",
        "--postal-code",
        "10115",
        "--locality",
        "Berlin",
        "--country",
        "de",
        "--accredited-by",
        "DAkkS",
        "--accreditation-number",
        "D-ZP-12345-01-00",
        "--accredited-until",
        "2029-06-30",
        "--reason",
        "the body's identity, from its accreditation certificate",
    )
    assert "accreditation_number" in body["changed"]
    _run(
        env,
        "schemes",
        "create",
        "--code",
        "WI-1",
        "--name",
        "Welding Inspector",
        "--criteria",
        "Passed the written and practical examinations",
        "--standard",
        "ISO 9712:2021",
        "--validity-days",
        "1095",
        "--surveillance-months",
        "12",
        "--reason",
        "scheme approved by the scheme committee",
    )
    secret = tmp_path / "password.txt"
    secret.write_text("correct horse battery\n", encoding="utf-8")
    _run(env, "users", "create", "olga", "--role", "officer", "--password-file", str(secret))
    issued = _run(
        env,
        "issue",
        "--scheme",
        "WI-1",
        "--scope",
        "visual testing of welds",
        "--name",
        "Zoë Ångström",
        "--reason",
        "examination passed",
    )
    credential = issued["verifiableCredential"]
    profile = credential["issuer"]
    assert profile["name"] == "ACME Welding Certification GmbH"
    assert profile["email"] == "certification@acme-welding.example"
    assert profile["address"]["addressCountryCode"] == "DE"
    assert "DAkkS" in profile["description"] and "D-ZP-12345-01-00" in profile["description"]

    settings = instance.read_settings(folder)
    did_document = instance.open_keyring(
        folder, settings, None, now=datetime.now(UTC)
    ).did_document()
    (result,) = reference.run(
        "verify.mjs",
        [
            {
                "credential": credential,
                "checkIssuer": False,  # vc.verifyCredential needs a checkStatus for its lists
                "didDocuments": {did_document["id"]: did_document},
            }
        ],
    )
    assert result == {"verified": True}, result
