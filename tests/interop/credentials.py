"""Test keys and credentials shared by the interop tests.

The keys are the W3C vectors' published test keys (never real keys). Validity dates are fixed so
the tests do not rot, and far enough out that "now" is inside them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from verifier.model.credentials import (
    BodyProfile,
    SchemeInfo,
    StatusRef,
    certification_credential,
)
from verifier.model.status_list import StatusPurpose

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VALID_FROM = "2024-01-01T00:00:00Z"
VALID_UNTIL = "2099-12-31T23:59:59Z"
CREATED = "2024-05-01T12:00:00Z"


@dataclass(frozen=True)
class InteropKey:
    """A Multikey key pair with the cryptosuite that uses it."""

    name: str
    suite: str
    public_multibase: str
    secret_multibase: str

    def __repr__(self) -> str:  # no secret in test output either
        return f"InteropKey({self.name})"

    @property
    def did(self) -> str:
        return f"did:key:{self.public_multibase}"

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.public_multibase}"

    def key_pair(self) -> dict[str, str]:
        """Plain Multikey key-pair JSON (Controlled Identifiers 1.0, 2.2.2 Multikey)."""
        return {
            "publicKeyMultibase": self.public_multibase,
            "secretKeyMultibase": self.secret_multibase,
        }


def _load_key(name: str, suite: str, relpath: str) -> InteropKey:
    data = json.loads((VECTORS / relpath).read_text(encoding="utf-8"))
    # the eddsa vector file says privateKeyMultibase, the ecdsa ones secretKeyMultibase
    secret = data.get("secretKeyMultibase") or data["privateKeyMultibase"]
    return InteropKey(name, suite, data["publicKeyMultibase"], secret)


ED25519 = _load_key("ed25519", "eddsa-rdfc-2022", "eddsa-rdfc-2022/keyPair.json")
P256 = _load_key("p256", "ecdsa-rdfc-2019", "ecdsa-rdfc-2019/p256KeyPair.json")
P384 = _load_key("p384", "ecdsa-rdfc-2019", "ecdsa-rdfc-2019/p384KeyPair.json")
KEYS = (ED25519, P256, P384)

# Strings that break naive escaping (RDFC-1.0 / N-Quads ECHAR and UCHAR rules, JSON escapes),
# normalisation (NFC vs NFD) or bidi handling. Each must survive sign -> verify unchanged.
AWKWARD = {
    "controls": "a\u0001b\u0008c\u000cd\u001fe\u007ff",
    "whitespace": "tab\there newline\nhere cr\rhere crlf\r\nend",
    "quotes": "say \"hi\" and 'bye'",
    "backslashes": "C:\\path\\to\\\\share \\u0041 \\n",
    "non_bmp": "\U0001f393 graduate \U0001d11e clef \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "combining": "e\u0301 (NFD) vs \u00e9 (NFC), A\u030a\u0323",
    "bidi": "\u05e2\u05d1\u05e8\u05d9\u05ea and \u0627\u0644\u0639\u0631\u0628\u064a\u0629 "
    "\u202eoverride\u202c \u2067isolate\u2069",
    "separators": "line\u2028para\u2029nbsp\u00a0zwsp\u200bbom\ufeff",
}


def awkward_text() -> str:
    """All the awkward strings in one value."""
    return " | ".join(AWKWARD.values())


def open_badge(issuer_did: str, *, text: dict[str, str] | None = None) -> dict[str, Any]:
    """An Open Badges 3.0 certification credential (OB 3.0, 8.1 OpenBadgeCredential).

    ``text`` overrides the human-readable strings (to inject awkward ones).
    """
    t = {
        "credential_name": "Certified Welding Inspector",
        "credential_description": "ISO/IEC 17024 personnel certification.",
        "issuer_name": "Example Certification Body",
        "achievement_name": "Welding Inspector, level 2",
        "achievement_description": "Inspects welds to EN ISO 5817.",
        "narrative": "Passed the written and practical examinations.",
        **(text or {}),
    }
    return {
        "@context": [VC_V2, OB_V3P0_303],
        "id": "urn:uuid:2f1e9c4a-8d61-4c0b-9a3e-5b7d2e4f6a10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": t["credential_name"],
        "description": t["credential_description"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": t["issuer_name"]},
        "validFrom": VALID_FROM,
        "validUntil": VALID_UNTIL,
        "credentialSubject": {
            "id": "did:example:holder-4711",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://certs.example/achievements/cwi-2",
                "type": ["Achievement"],
                "name": t["achievement_name"],
                "description": t["achievement_description"],
                "criteria": {"narrative": t["narrative"]},
            },
        },
    }


def plain_vc(issuer_did: str) -> dict[str, Any]:
    """A VC 2.0 credential using only the base context (VC-DATA-MODEL-2.0, 4)."""
    return {
        "@context": [VC_V2],
        "id": "urn:uuid:0b8c3f7e-5a2d-4e91-b6c4-1d9f8a7e3c25",
        "type": ["VerifiableCredential"],
        "name": "Plain credential",
        "description": "A credential with no extension context.",
        "issuer": issuer_did,
        "validFrom": VALID_FROM,
        "validUntil": VALID_UNTIL,
        "credentialSubject": {"id": "did:example:holder-4711", "name": "Ada Lovelace"},
    }


def awkward_open_badge(issuer_did: str) -> dict[str, Any]:
    """The OB credential with every awkward string in every human-readable value."""
    every = awkward_text()
    return open_badge(
        issuer_did,
        text={
            "credential_name": AWKWARD["controls"] + AWKWARD["whitespace"],
            "credential_description": every,
            "issuer_name": AWKWARD["bidi"],
            "achievement_name": AWKWARD["non_bmp"] + AWKWARD["combining"],
            "achievement_description": AWKWARD["quotes"] + AWKWARD["backslashes"],
            "narrative": every + AWKWARD["separators"],
        },
    )


def certification(issuer_did: str) -> dict[str, Any]:
    """What certvc issues, by its own builder: a body with its full issuer profile (e-mail,
    address, accreditation statement; issue 12), a scheme, a person (no status entries)."""
    body = BodyProfile(
        did=issuer_did,
        name="ACME Welding Certification GmbH",
        url="https://acme-welding.example",
        accreditation=(
            "Accredited to ISO/IEC 17024:2012 by DAkkS, accreditation no. D-ZP-12345-01-00, "
            "valid until 2029-06-30."
        ),
        email="certification@acme-welding.example",
        address=(("locality", "Berlin"), ("postalCode", "10115"), ("street", "Schweißweg 1")),
        country="DE",
    )
    scheme = SchemeInfo(
        code="WI-1",
        url="https://certs.acme-welding.example/schemes/WI-1",
        name="Welding Inspector",
        description="",
        criteria="Passed the examinations",
        standard_name="ISO 9712:2021",
        standard_url="https://www.iso.org/standard/74831.html",
        achievement_type="Certification",
    )
    lists = "https://certs.acme-welding.example/status/"
    credential = certification_credential(
        credential_id="https://certs.acme-welding.example/credentials/3b0f6c1e-7d2a-4f5e-9c8b",
        body=body,
        scheme=scheme,
        person_name="Zoë Ångström",
        number="WI-1-2026-004217",
        scope="visual testing of welds",
        valid_from=datetime.fromisoformat(VALID_FROM),
        valid_until=datetime.fromisoformat(VALID_UNTIL),
        status=[
            StatusRef(StatusPurpose.REVOCATION, f"{lists}1", 94567),
            StatusRef(StatusPurpose.SUSPENSION, f"{lists}2", 31337),
        ],
    )
    del credential["credentialStatus"]  # the lists are not served here: proofs are the point
    return credential


CREDENTIALS = {
    "open_badge": open_badge,
    "plain_vc": plain_vc,
    "awkward": awkward_open_badge,
    "certification": certification,
}
