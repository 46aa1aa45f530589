"""What a person at a desk needs to read from a credential: name, certification, body, dates.

Pure. The values come from the *unverified* credential (STYLE §7): the page shows them next to
the verdict, and says "as stated in the credential" unless the verdict is VALID.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .trust import TrustPolicy


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value[:500]
    if isinstance(value, Mapping):
        text = value.get("@value")  # a language value object (VC 2.0 §11.1)
        return text[:500] if isinstance(text, str) else None
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _person(subject: Mapping[str, Any]) -> str | None:
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else [identifiers]:
        if (
            isinstance(item, Mapping)
            and item.get("identityType") == "name"
            and item.get("hashed") is False
        ):
            return _text(item.get("identityHash"))
    return _text(subject.get("name"))


def summarize(
    credential: Mapping[str, Any] | None, trust: TrustPolicy | None, *, vouched: bool = False
) -> dict[str, Any]:
    """The fields the verifier page shows (all may be None).

    ``trustedAs`` (the name the verifier knows the body by) is given only when the trust check
    passed (``vouched``): a forgery that names a trusted body's DID is not dressed in its name.
    """
    if not isinstance(credential, Mapping):
        return {}
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    subject = subject if isinstance(subject, Mapping) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    issuer_name = _text(issuer.get("name")) if isinstance(issuer, Mapping) else None
    known = vouched and trust is not None and isinstance(issuer_id, str)
    listed = trust.body(issuer_id) if known and trust is not None else None
    return {
        "person": _person(subject),
        "certification": _text(achievement.get("name")) or _text(credential.get("name")),
        "scheme": _text(achievement.get("humanCode")),
        "scope": _text(achievement.get("description")),
        "certificateNumber": _text(subject.get("licenseNumber")),
        "body": {
            "id": issuer_id if isinstance(issuer_id, str) else None,
            "name": issuer_name,
            "trustedAs": listed.name if listed is not None else None,
            "accreditation": str(listed.accreditation)
            if listed is not None and listed.accreditation
            else None,
        },
        "validFrom": _text(credential.get("validFrom")),
        "validUntil": _text(credential.get("validUntil")),
    }
