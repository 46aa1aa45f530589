"""Uploaded images: a scheme's badge (PNG or SVG) and the body's logo (PNG).

Each upload is checked (:mod:`issuer.services.images.check`), stored with its media type and
SHA-256, and audited (the digest, never the bytes) in the caller's one transaction; a new upload
replaces the old one. The images are served at stable public URLs
(:func:`issuer.services.catalog.scheme_image_url`,
:func:`issuer.services.catalog.body_logo_url`) that new credentials name as
``Achievement.image`` and as the issuer profile's ``image`` (OB 3.0 ``Image``); credentials
already issued keep what they say.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...db.models import Action, StoredImage
from ...errors import NotFound
from .. import audit, catalog
from .check import CheckedImage, ImageType, check_image


def _store(current: StoredImage | None, checked: CheckedImage, now: datetime) -> StoredImage:
    image = current or StoredImage()
    image.media_type = checked.media_type
    image.content = checked.content
    image.sha256 = checked.sha256
    image.updated_at = now
    return image


def _details(checked: CheckedImage, previous: StoredImage | None) -> dict[str, object]:
    details: dict[str, object] = {
        "sha256": checked.sha256,
        "mediaType": checked.media_type.value,
        "bytes": len(checked.content),
        "replaces": previous.sha256 if previous is not None else None,
    }
    if checked.width is not None:
        details["pixels"] = f"{checked.width}x{checked.height}"
    return details


def set_scheme_image(
    session: Session, code: str, data: bytes, *, reason: str, actor: str, now: datetime
) -> StoredImage:
    """Store ``data`` (PNG or SVG) as the badge image of scheme ``code``.

    :raises NotFound: no such scheme. :raises ReasonRequired:
    :raises CertvcError: ``image_invalid``, ``input_too_large``, ``unsupported_media_type``,
        ``badge_already_baked`` (see :func:`issuer.services.images.check.check_image`).
    """
    reason = audit.check_reason(reason)
    scheme = catalog.get_scheme(session, code)
    checked = check_image(data)
    previous = scheme.image
    details = _details(checked, previous)
    scheme.image = _store(previous, checked, now)
    session.flush()
    audit.record(
        session,
        action=Action.SCHEME_IMAGE,
        actor=actor,
        subject=scheme.code,
        reason=reason,
        now=now,
        details=details,
    )
    return scheme.image


def set_body_logo(
    session: Session, data: bytes, *, reason: str, actor: str, now: datetime
) -> StoredImage:
    """Store ``data`` (PNG only: the PDF certificate prints it) as the body's logo.

    :raises InstanceNotReady: no body. :raises ReasonRequired:
    :raises CertvcError: ``image_invalid``, ``input_too_large``, ``unsupported_media_type``.
    """
    reason = audit.check_reason(reason)
    body = catalog.get_body(session)
    checked = check_image(data, allow_svg=False)
    assert checked.media_type is ImageType.PNG
    previous = body.logo
    details = _details(checked, previous)
    body.logo = _store(previous, checked, now)
    session.flush()
    audit.record(
        session,
        action=Action.BODY_LOGO,
        actor=actor,
        subject=body.did,
        reason=reason,
        now=now,
        details=details,
    )
    return body.logo


def scheme_image(session: Session, code: str, kind: ImageType) -> StoredImage:
    """The badge image of scheme ``code`` if it is of type ``kind``.

    :raises NotFound: no such scheme, no image, or one of the other type.
    """
    image = catalog.get_scheme(session, code).image
    if image is None or image.media_type is not kind:
        raise NotFound(f"scheme {code!r} has no {kind.extension.upper()} badge image")
    return image


def body_logo(session: Session) -> StoredImage:
    """:raises NotFound: no logo uploaded."""
    logo = catalog.get_body(session).logo
    if logo is None:
        raise NotFound("the certification body has no uploaded logo")
    return logo
