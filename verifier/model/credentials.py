"""Building the documents certvc issues (pure: no database, no clock, no keys): the one builder,
used by the issuer, by :mod:`verifier.samples` (hence the demo, the benchmarks and the tests)
and by anyone measuring what certvc really issues.

The certification credential is an Open Badges 3.0 ``OpenBadgeCredential`` under VC 2.0 that
shows what ISO/IEC 17024 requires of a certificate: the person's name, the unique certificate
number (``licenseNumber``), the body (the issuer ``Profile``), the scheme and the standard it
follows (``achievement`` with an ``alignment``), the scope, the effective date (``validFrom``)
and the expiry (``validUntil``). Keys are written in the order of the QR dictionary
(``verifier/qr_dictionary.py``), so the credential compresses as well as it can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contexts.errors import ShapeError
from contexts.urls import CREDENTIALS_V2, OPEN_BADGES_V3
from keys.dates import format_datetime_stamp

from .status_list import ENTRY_TYPE, LIST_CREDENTIAL_TYPE, LIST_SUBJECT_TYPE, StatusPurpose

VC_V2 = CREDENTIALS_V2
OB_V3 = OPEN_BADGES_V3


@dataclass(frozen=True)
class BodyProfile:
    """The issuer ``Profile`` (OB 3.0): ``accreditation`` is its description (the body's own
    words and its accreditation); ``address``: (part, value) pairs, part one of ``street``,
    ``postalCode``, ``locality``, ``region``; ``country``: ISO 3166-1 alpha-2."""

    did: str
    name: str
    url: str
    accreditation: str = ""
    logo_url: str | None = None
    email: str | None = None
    address: tuple[tuple[str, str], ...] = ()
    country: str | None = None


@dataclass(frozen=True)
class SchemeInfo:
    code: str
    url: str
    name: str
    description: str
    criteria: str
    standard_name: str
    standard_url: str | None
    achievement_type: str
    image_url: str | None = None  # OB 3.0 Achievement.image (an uploaded badge image)


@dataclass(frozen=True)
class StatusRef:
    """Where one status bit of a credential lives (Bitstring Status List 1.0 §2.1)."""

    purpose: StatusPurpose
    list_url: str
    index: int

    def to_json(self) -> dict[str, str]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": ENTRY_TYPE,
            "statusPurpose": self.purpose.value,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def issuer_profile(body: BodyProfile) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": body.did,
        "type": ["Profile"],
        "name": body.name,
        "url": body.url,
    }
    if body.email:
        profile["email"] = body.email
    if body.address or body.country:
        parts = dict(body.address)
        address: dict[str, Any] = {"type": ["Address"]}
        for part, term in _ADDRESS_TERMS:
            if parts.get(part):
                address[term] = parts[part]
        if body.country:
            address["addressCountryCode"] = body.country
        profile["address"] = address
    if body.accreditation:
        profile["description"] = body.accreditation
    if body.logo_url:
        profile["image"] = {"id": body.logo_url, "type": "Image"}
    return profile


#: Address parts and their OB 3.0 ``Address`` terms.
_ADDRESS_TERMS = (
    ("street", "streetAddress"),
    ("postalCode", "postalCode"),
    ("locality", "addressLocality"),
    ("region", "addressRegion"),
)


def certification_credential(
    *,
    credential_id: str,
    body: BodyProfile,
    scheme: SchemeInfo,
    person_name: str,
    number: str,
    scope: str,
    valid_from: datetime,
    valid_until: datetime,
    status: Sequence[StatusRef],
) -> dict[str, Any]:
    """The unsigned certification credential."""
    # targetUrl before targetType: the QR dictionary's order (a better-compressed QR code)
    alignment: dict[str, Any] = {"type": ["Alignment"], "targetName": scheme.standard_name}
    if scheme.standard_url:
        alignment["targetUrl"] = scheme.standard_url
    alignment["targetType"] = "ext:Standard"
    achievement: dict[str, Any] = {
        "id": scheme.url,
        "type": ["Achievement"],
        "achievementType": scheme.achievement_type,
        "humanCode": scheme.code,
        "name": scheme.name,
        "description": f"Scope: {scope}",
        "criteria": {"narrative": scheme.criteria},
        "alignment": [alignment],
    }
    if scheme.image_url:
        achievement["image"] = {"id": scheme.image_url, "type": "Image"}
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": scheme.name,
        "issuer": issuer_profile(body),
        "validFrom": format_datetime_stamp(valid_from),
        "validUntil": format_datetime_stamp(valid_until),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": person_name,
                }
            ],
            "licenseNumber": number,
            "achievement": achievement,
        },
        "credentialStatus": [ref.to_json() for ref in status],
    }
    check_own_credential(credential)
    return credential


def check_own_credential(credential: Mapping[str, Any]) -> None:
    """The stricter rules of what certvc issues as its own certification credential, beyond the
    generic shape rules (``verifier.model.shape``), which take any credential VC 2.0 or 1.1
    allows: VC Data Model 2.0 only, and every subject makes a claim besides its ``id`` (an
    ISO/IEC 17024 certificate names the person, the number and the scheme; VC 2.0 §4.8 would
    allow an id-only subject, which the generic signer and the VC API accept).

    :raises ShapeError: ``credential_malformed``, with the path of the first broken rule.
    """
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        raise ShapeError("certvc issues its own credentials in VC Data Model 2.0", path="/@context")
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    for position, item in enumerate(subjects):
        path = (
            f"/credentialSubject/{position}" if isinstance(subject, list) else "/credentialSubject"
        )
        if not isinstance(item, Mapping) or not set(item) - {"id"}:
            raise ShapeError(
                "a certification credential's subject makes claims besides its id", path=path
            )


def status_list_credential(
    *,
    list_url: str,
    issuer_did: str,
    purpose: StatusPurpose,
    encoded_list: str,
    valid_from: datetime,
    ttl_ms: int,
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential (BSL 2.2) for one list."""
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_did,
        "validFrom": format_datetime_stamp(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_SUBJECT_TYPE,
            "statusPurpose": purpose.value,
            "encodedList": encoded_list,
            "ttl": ttl_ms,
        },
    }
