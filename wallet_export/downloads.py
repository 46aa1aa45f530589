"""The credential as a file to download: JSON (``application/vc``) or vc+jwt.

VC 2.0 §6.1 and VC-JOSE-COSE §6.1.1 give the media types; the file is named after the
certificate number, reduced to characters every file system and ``Content-Disposition``
accepts. Adapters send ``content`` with ``media_type`` and ``filename`` as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from contexts.errors import CertvcError
from keys.suites import vc_jwt

JSON_MEDIA_TYPE = "application/vc"
JWT_MEDIA_TYPE = "application/vc+jwt"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Download(NamedTuple):
    """``(content, media_type, filename)``, ready for an HTTP response or a file."""

    content: bytes
    media_type: str
    filename: str


def _number(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    number = subject.get("licenseNumber") if isinstance(subject, Mapping) else None
    return number if isinstance(number, str) else None


def file_stem(credential: Mapping[str, Any]) -> str:
    """The certificate number made safe for a file name (``credential`` without one)."""
    stem = _UNSAFE.sub("-", _number(credential) or "").strip("-.")[:100]
    return stem or "credential"


def json_download(credential: Mapping[str, Any]) -> Download:
    """A signed credential object as ``<certificate-number>.json``, UTF-8, indented.

    Whitespace does not matter to a Data Integrity proof: the proof covers the canonical RDF.
    """
    if not isinstance(credential, Mapping) or "@context" not in credential:
        raise CertvcError("a JSON download needs a credential object")
    text = json.dumps(credential, ensure_ascii=False, indent=2) + "\n"
    return Download(text.encode("utf-8"), JSON_MEDIA_TYPE, f"{file_stem(credential)}.json")


def jwt_download(token: str) -> Download:
    """A vc+jwt compact JWS as ``<certificate-number>.jwt`` (the token, nothing else)."""
    token = token.strip() if isinstance(token, str) else ""
    if not vc_jwt.looks_like_jwt(token):
        raise CertvcError("a vc+jwt download needs a compact JWS")
    stem = file_stem(vc_jwt.parse(token).unverified_payload)
    return Download(token.encode("ascii"), JWT_MEDIA_TYPE, f"{stem}.jwt")


def credential_download(secured: Mapping[str, Any] | str) -> Download:
    """JSON for a Data Integrity credential object, vc+jwt for a compact JWS."""
    if isinstance(secured, str):
        return jwt_download(secured)
    return json_download(secured)
