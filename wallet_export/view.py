"""What a certificate shows, read from the credential (Open Badges 3.0 shape of verifier.samples).

The renderers (PDF, LinkedIn link, badge) take this small value instead of the credential, so
they never dig through JSON-LD themselves. Reading is lenient about optional fields and strict
about the ISO/IEC 17024 essentials: the person's name, the certificate number, the
certification's name and the body's name must be there, or the view is refused.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from contexts.errors import CertvcError, ErrorCode, InputError
from keys.dates import parse_datetime_stamp
from keys.suites import vc_jwt


@dataclass(frozen=True)
class CertificateView:
    """The certificate content ISO/IEC 17024 asks for, as plain text and dates."""

    person_name: str
    certificate_number: str
    certification_name: str
    body_name: str
    scheme_code: str | None = None
    standards: tuple[str, ...] = ()
    scope: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    body_description: str | None = None
    credential_id: str | None = None


@dataclass(frozen=True)
class Branding:
    """What the body adds to its certificates: a logo (PNG or JPEG bytes) and its
    accreditation statement (defaults to the issuer's description in the credential)."""

    logo: bytes | None = None
    accreditation: str | None = None

    def __repr__(self) -> str:
        logo = f"{len(self.logo)} bytes" if self.logo else None
        return f"Branding(logo={logo}, accreditation={self.accreditation!r})"


def _text(value: object) -> str | None:
    """A plain string, or the first language value object's ``@value`` (VC 2.0 §11.1)."""
    if isinstance(value, list):
        value = next((v for v in value if _text(v)), None)
    if isinstance(value, Mapping):
        value = value.get("@value")
    if isinstance(value, str) and value.strip():
        return unicodedata.normalize("NFC", value.strip())
    return None


def _required(value: object, what: str) -> str:
    text = _text(value)
    if text is None:
        raise CertvcError(
            f"the credential has no {what} to print", code=ErrorCode.CREDENTIAL_MALFORMED
        )
    return text


def _date(value: object, what: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_datetime_stamp(value).date()  # the date where the issuer wrote it
    except CertvcError as cause:
        raise CertvcError(f"{what} is not a dateTimeStamp", code=cause.code) from cause


def _person_name(subject: Mapping[str, Any]) -> str:
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else [identifiers]:
        if (
            isinstance(item, Mapping)
            and item.get("identityType") == "name"
            and item.get("hashed") is not True
        ):
            name = _text(item.get("identityHash"))
            if name:
                return name
    return _required(subject.get("name"), "person's name (identifier of identityType 'name')")


def unverified_credential(credential: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """The credential object of JSON or of a vc+jwt's payload (not verified here).

    :raises InputError: neither a credential object nor a compact JWS.
    """
    if isinstance(credential, str):
        if not vc_jwt.looks_like_jwt(credential):
            raise InputError("expected a credential object or a vc+jwt compact JWS")
        return vc_jwt.parse(credential).unverified_payload
    if not isinstance(credential, Mapping):
        raise InputError("expected a credential object or a vc+jwt compact JWS")
    return credential


def certificate_view(credential: Mapping[str, Any] | str) -> CertificateView:
    """Read what a certificate shows from an Open Badges 3.0 certification credential.

    The issuer renders credentials it signed itself; anyone else must verify first, since
    nothing here checks a proof.

    :raises CertvcError: ``credential_malformed`` when an essential field is missing.
    """
    document = unverified_credential(credential)
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        raise CertvcError("the credential has no subject", code=ErrorCode.CREDENTIAL_MALFORMED)
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    issuer = document.get("issuer")
    issuer = issuer if isinstance(issuer, Mapping) else {}
    alignments = achievement.get("alignment")
    standards = tuple(
        name
        for item in (alignments if isinstance(alignments, list) else [])
        if isinstance(item, Mapping) and (name := _text(item.get("targetName")))
    )
    credential_id = document.get("id")
    return CertificateView(
        person_name=_person_name(subject),
        certificate_number=_required(subject.get("licenseNumber"), "certificate number"),
        certification_name=_required(
            achievement.get("name") or document.get("name"), "certification name"
        ),
        body_name=_required(issuer.get("name"), "certification body name (issuer.name)"),
        scheme_code=_text(achievement.get("humanCode")),
        standards=standards,
        scope=_text(achievement.get("description")),
        valid_from=_date(document.get("validFrom"), "validFrom"),
        valid_until=_date(document.get("validUntil"), "validUntil"),
        body_description=_text(issuer.get("description")),
        credential_id=credential_id if isinstance(credential_id, str) else None,
    )
