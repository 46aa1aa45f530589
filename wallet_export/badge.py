"""Open Badges 3.0 baking: the credential inside the badge image (OB 3.0 §5.3 "Baked Badge").

PNG: an ``iTXt`` chunk with keyword ``openbadgecredential``, no compression, empty language
tag and translated keyword, whose text is the credential JSON (embedded proof) or the compact
JWS (VC-JWT); inserted just before ``IEND``, every other chunk left byte for byte. SVG: an
``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` declaration on the ``<svg>`` tag
and, directly after it, ``<openbadges:credential>`` holding the JSON in CDATA, or a ``verify``
attribute holding the JWS; the rest of the file is left as it was.

There MUST be only one credential in an image: baking an image that has one is refused
(``badge_already_baked``). Unbaking returns exactly the text that was baked. Images are
untrusted: PNG signature, chunk lengths and CRCs are checked, SVG is parsed with entity
resolution, DTD loading and network access off, and any DOCTYPE is refused.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lxml import etree

from contexts.errors import CertvcError, ErrorCode

from .errors import WalletCode

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
OB2_KEYWORD = b"openbadges"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 1024 * 1024
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class BadgeFormat(Enum):
    PNG = "image/png"
    SVG = "image/svg+xml"


def _invalid(message: str) -> CertvcError:
    return CertvcError(message, code=WalletCode.IMAGE_INVALID)


def credential_text(credential: Mapping[str, Any] | str) -> str:
    """The text to bake: compact JSON of a credential object, or a JSON/JWS text as given.

    :raises CertvcError: ``input_unusable`` for text that is neither a JWS nor a JSON object.
    """
    if isinstance(credential, Mapping):
        return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
    text = credential
    if text.startswith("ey"):
        if not _COMPACT_JWS.fullmatch(text):
            raise CertvcError("the credential to bake is not a well-formed compact JWS")
        return text
    try:
        value = json.loads(text)
    except ValueError as cause:
        raise CertvcError("the credential to bake is neither JSON nor a compact JWS") from cause
    if not isinstance(value, dict):
        raise CertvcError("the credential to bake must be a JSON object")
    return text


def _size_check(text: str) -> None:
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise CertvcError("the credential is too large to bake", code=ErrorCode.INPUT_TOO_LARGE)


# --- PNG ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    kind: bytes
    data: bytes
    start: int  # offset of the length field
    end: int  # offset after the CRC


def _chunks(image: bytes) -> Iterator[_Chunk]:
    """Every chunk, CRCs checked; stops after IEND, which must end the file (PNG §5.6)."""
    if len(image) > MAX_IMAGE_BYTES:
        raise CertvcError("the image is too large", code=ErrorCode.INPUT_TOO_LARGE)
    if not image.startswith(PNG_SIGNATURE):
        raise _invalid("not a PNG image (bad signature)")
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + 12 > len(image):
            raise _invalid("the PNG is truncated (no IEND chunk)")
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        kind = image[offset + 4 : offset + 8]
        end = offset + 12 + length
        if length > 0x7FFFFFFF or end > len(image) or not kind.isalpha():
            raise _invalid("the PNG has a malformed chunk")
        data = image[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", image[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise _invalid(f"the PNG chunk {kind.decode('latin-1')} fails its CRC")
        yield _Chunk(kind, data, offset, end)
        if kind == b"IEND":
            if end != len(image):
                raise _invalid("the PNG has data after IEND")
            return
        offset = end


def _itxt(data: bytes) -> tuple[bytes, int, str]:
    """Keyword, compression flag and text of an iTXt chunk (PNG §11.3.4.5)."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or len(rest) < 2:
        raise _invalid("malformed iTXt chunk")
    flag = rest[0]
    _language, sep1, rest = rest[2:].partition(b"\0")
    _translated, sep2, text = rest.partition(b"\0")
    if not (sep1 and sep2):
        raise _invalid("malformed iTXt chunk")
    if flag:
        return keyword, flag, ""
    try:
        return keyword, flag, text.decode("utf-8")
    except UnicodeDecodeError as cause:
        raise _invalid("the iTXt text is not UTF-8") from cause


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bake_png(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """The PNG with the credential baked in an ``iTXt`` chunk before ``IEND``.

    :raises CertvcError: ``image_invalid`` (not a sound PNG), ``badge_already_baked``.
    """
    text = credential_text(credential)
    _size_check(text)
    iend = None
    for chunk in _chunks(image):
        if chunk.kind == b"iTXt" and _itxt(chunk.data)[0] == KEYWORD:
            raise CertvcError(
                "the image already carries a credential", code=WalletCode.BADGE_ALREADY_BAKED
            )
        if chunk.kind == b"IEND":
            iend = chunk
    assert iend is not None  # _chunks raises without IEND
    # keyword, compression flag 0, method 0, empty language tag, empty translated keyword
    data = KEYWORD + b"\0\0\0" + b"\0" + b"\0" + text.encode("utf-8")
    return image[: iend.start] + _png_chunk(b"iTXt", data) + image[iend.start :]


def unbake_png(image: bytes) -> str:
    """The credential text of the first ``openbadgecredential`` iTXt chunk (OB 3.0 §5.3.1.2).

    :raises CertvcError: ``badge_not_baked``, ``image_invalid``.
    """
    for chunk in _chunks(image):
        if chunk.kind != b"iTXt":
            continue
        keyword, flag, text = _itxt(chunk.data)
        if keyword == OB2_KEYWORD:
            raise CertvcError(
                "the image carries an Open Badges 2.0 assertion, not a 3.0 credential",
                code=WalletCode.BADGE_NOT_BAKED,
            )
        if keyword == KEYWORD:
            if flag:
                raise _invalid("the baked credential is compressed (OB 3.0 forbids it)")
            return text
    raise CertvcError("the PNG carries no baked credential", code=WalletCode.BADGE_NOT_BAKED)


# --- SVG ------------------------------------------------------------------------------------


def _parse_svg(image: bytes) -> etree._Element:
    if len(image) > MAX_IMAGE_BYTES:
        raise CertvcError("the image is too large", code=ErrorCode.INPUT_TOO_LARGE)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(image, parser)
    except etree.XMLSyntaxError as cause:
        raise _invalid(f"not well-formed XML: {cause.msg}") from cause
    if root.getroottree().docinfo.doctype:
        raise _invalid("SVG with a DOCTYPE is refused (entities are not expanded)")
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise _invalid("not an SVG image (the root element is not svg)")
    return root


def _credential_elements(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{{{OB_NAMESPACE}}}credential"))


_ROOT_START = re.compile(rb"<svg(?=[\s/>])")


def _root_tag_end(image: bytes) -> tuple[int, int]:
    """Offsets of the root ``<svg`` and of the ``>`` closing its start tag.

    The prolog before it holds only the XML declaration, comments and processing
    instructions (no DOCTYPE, checked by the parser), so the first ``<svg`` is the root.
    """
    match = _ROOT_START.search(image)
    if match is None:
        raise _invalid("the SVG root tag must be written <svg ...> without a prefix")
    quote = None
    for index in range(match.end(), len(image)):
        char = image[index : index + 1]
        if quote:
            if char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif char == b">":
            return match.start(), index
    raise _invalid("the SVG root tag is not closed")


def _cdata(text: str) -> str:
    # "]]>" cannot appear in a CDATA section: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def bake_svg(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """The SVG with ``<openbadges:credential>`` directly after the ``<svg>`` tag.

    :raises CertvcError: ``image_invalid`` (not a safe SVG), ``badge_already_baked``.
    """
    text = credential_text(credential)
    _size_check(text)
    if "\r" in text or any(ord(c) < 0x20 and c not in "\t\n" for c in text):
        raise CertvcError("the credential text has characters XML cannot carry unchanged")
    root = _parse_svg(image)
    if _credential_elements(root):
        raise CertvcError(
            "the image already carries a credential", code=WalletCode.BADGE_ALREADY_BAKED
        )
    declared = root.nsmap.get("openbadges")
    if declared is not None and declared != OB_NAMESPACE:
        raise _invalid("the SVG binds the prefix 'openbadges' to another namespace")
    start, close = _root_tag_end(image)
    self_closing = image[close - 1 : close] == b"/"
    tag_end = close - 1 if self_closing else close
    declaration = b"" if declared else f' xmlns:openbadges="{OB_NAMESPACE}"'.encode("ascii")
    if _COMPACT_JWS.fullmatch(text):
        element = f'<openbadges:credential verify="{text}"></openbadges:credential>'
    else:
        element = f"<openbadges:credential>{_cdata(text)}</openbadges:credential>"
    baked = (
        image[:tag_end]
        + declaration
        + b">"
        + element.encode("utf-8")
        + (b"</svg>" if self_closing else b"")
        + image[close + 1 :]
    )
    if unbake_svg(baked) != text:  # the splice must round-trip; never hand out a bad badge
        raise _invalid("the SVG could not be baked")
    return baked


def unbake_svg(image: bytes) -> str:
    """The credential of the first ``<openbadges:credential>`` (OB 3.0 §5.3.2.2): its
    ``verify`` attribute (a JWS) or its text (JSON).

    :raises CertvcError: ``badge_not_baked``, ``image_invalid``.
    """
    root = _parse_svg(image)
    found = _credential_elements(root)
    if not found:
        raise CertvcError("the SVG carries no baked credential", code=WalletCode.BADGE_NOT_BAKED)
    element = found[0]
    verify = element.get("verify")
    if verify is not None:
        return verify
    return "".join(element.itertext()).strip()


# --- either ---------------------------------------------------------------------------------


def badge_format(image: bytes) -> BadgeFormat | None:
    """PNG by its signature, SVG by an ``<svg`` root near the start; else None."""
    if image.startswith(PNG_SIGNATURE):
        return BadgeFormat.PNG
    head = image[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in head:
        return BadgeFormat.SVG
    return None


def bake(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """Bake a PNG or an SVG badge (by content).

    :raises CertvcError: ``image_invalid`` for another format, and as the format's baker.
    """
    kind = badge_format(image)
    if kind is BadgeFormat.PNG:
        return bake_png(image, credential)
    if kind is BadgeFormat.SVG:
        return bake_svg(image, credential)
    raise _invalid("badges are baked into PNG or SVG images")


def unbake(image: bytes) -> str:
    """The credential baked into a PNG or SVG badge (JSON text or compact JWS).

    :raises CertvcError: ``badge_not_baked``, ``image_invalid``.
    """
    kind = badge_format(image)
    if kind is BadgeFormat.PNG:
        return unbake_png(image)
    if kind is BadgeFormat.SVG:
        return unbake_svg(image)
    raise _invalid("not a PNG or SVG image")
