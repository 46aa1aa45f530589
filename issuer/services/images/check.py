"""Checking uploaded images (scheme badges, the body's logo) before they are stored.

Pure: bytes in, a :class:`CheckedImage` or a :class:`CertvcError` out. Uploads are attacker
data that the issuer later serves from its own origin and bakes credentials into, so:

- PNG is decoded with Pillow after its size and dimensions are checked (the header is read
  first, so a decompression bomb is refused before it inflates), then re-encoded from its
  pixels: text, EXIF and ICC chunks (metadata, a place to smuggle content) are dropped.
- SVG is parsed with defusedxml (no DTD, no entities, no external access) and kept byte for
  byte, but only when it is made of an allow-list: SVG-namespace drawing elements (no script,
  animation, links, foreignObject or anything from another namespace) and their presentation
  attributes; every ``href`` a local fragment (``#id``), or on ``<image>`` an inline raster image
  (``data:image/`` PNG, JPEG, GIF or WebP); CSS (``style`` attributes, ``<style>``, attribute
  values) without backslash escapes, at-rules (``@``), ``image-set`` or ``src(``, and with
  ``url(#id)`` only. A deny-list of dangerous names loses to CSS escapes and HTML parsers that
  inline the SVG; an allow-list does not. It must also take a baked credential (OB 3.0
  §5.3.2), which is tried on upload, so exports never fail later.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import Enum

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from PIL import Image, UnidentifiedImageError

from contexts.errors import CertvcError, ErrorCode
from wallet_export.errors import WalletCode

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 2 * 1024 * 1024
MAX_SVG_BYTES = 512 * 1024
MAX_SIDE = 2048
MIN_SIDE = 128
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

#: SVG elements an uploaded badge may use: shapes, text, paint servers, clipping, masking and
#: filter primitives. No script, animation (set/animate*), links (a), foreignObject, switch.
_ALLOWED_ELEMENTS = frozenset(
    {"svg", "g", "defs", "title", "desc", "symbol", "use", "image", "style"}
    | {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon"}
    | {"text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "pattern"}
    | {"clipPath", "mask", "marker", "filter", "feBlend", "feColorMatrix", "feComponentTransfer"}
    | {"feComposite", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR"}
    | {"feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset"}
)
#: Their attributes (geometry, presentation, text, paint servers, filters), without namespace.
_ALLOWED_ATTRIBUTES = frozenset(
    {"id", "class", "style", "transform", "version", "baseProfile", "viewBox", "lang"}
    | {"preserveAspectRatio", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry"}
    | {"fx", "fy", "fr", "width", "height", "d", "points", "pathLength", "href"}
    | {"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity"}
    | {"stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset"}
    | {"stroke-miterlimit", "opacity", "color", "display", "visibility", "overflow"}
    | {"vector-effect", "paint-order", "shape-rendering", "text-rendering", "image-rendering"}
    | {"mix-blend-mode", "isolation", "clip-path", "clip-rule", "clipPathUnits", "mask"}
    | {"maskUnits", "maskContentUnits", "filter", "filterUnits", "primitiveUnits"}
    | {"font-family", "font-size", "font-weight", "font-style", "font-variant", "text-anchor"}
    | {"dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing"}
    | {"word-spacing", "text-decoration", "writing-mode", "direction", "unicode-bidi", "dx"}
    | {"dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing"}
    | {"offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform"}
    | {"spreadMethod", "patternUnits", "patternContentUnits", "patternTransform"}
    | {"marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight", "refX"}
    | {"refY", "orient", "markerUnits", "in", "in2", "result", "stdDeviation", "mode"}
    | {"operator", "k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope"}
    | {"intercept", "amplitude", "exponent", "flood-color", "flood-opacity", "radius"}
    | {"color-interpolation-filters", "color-interpolation", "media"}
)
#: Namespaced attributes allowed (xlink:href is checked like href).
_ALLOWED_NAMESPACED = frozenset(
    {f"{{{XLINK_NAMESPACE}}}href", f"{{{XML_NAMESPACE}}}space", f"{{{XML_NAMESPACE}}}lang"}
)
_ALLOWED_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
#: CSS that could hide or fetch something: escapes (u\72l( is url(), at-rules, image sets.
_CSS_FORBIDDEN = re.compile(r"[\\@]|image-set|src\(|expression\(", re.IGNORECASE)
_CONTROLS = re.compile(r"[\x00-\x20]+")
#: Any processing instruction but the XML declaration (``<?xml-stylesheet href=...?>``).
_INSTRUCTION = re.compile(rb"<\?(?!xml[\s?])", re.IGNORECASE)
_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*['\"]([^'\"]+)['\"]", re.IGNORECASE)


class ImageType(Enum):
    """The media types an uploaded image may have."""

    PNG = "image/png"
    SVG = "image/svg+xml"

    @property
    def extension(self) -> str:
        return "png" if self is ImageType.PNG else "svg"


@dataclass(frozen=True)
class CheckedImage:
    """An image that passed the checks: the bytes to store (re-encoded PNG, or the SVG as
    uploaded), its media type and SHA-256 (hex), and its pixel size (PNG only)."""

    content: bytes
    media_type: ImageType
    sha256: str
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:
        return f"CheckedImage({self.media_type.value}, {len(self.content)} bytes, {self.sha256})"


def _invalid(message: str) -> CertvcError:
    return CertvcError(message, code=WalletCode.IMAGE_INVALID)


def _checked(content: bytes, media_type: ImageType, size: tuple[int, int] | None) -> CheckedImage:
    digest = hashlib.sha256(content).hexdigest()
    width, height = size if size is not None else (None, None)
    return CheckedImage(content, media_type, digest, width, height)


def check_image(data: bytes, *, allow_svg: bool = True) -> CheckedImage:
    """A PNG or (when ``allow_svg``) an SVG, told apart by content, never by file name.

    :raises CertvcError: ``unsupported_media_type`` for anything else; see the format checks.
    """
    if data.startswith(PNG_SIGNATURE):
        return check_png(data)
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if allow_svg and head.startswith(b"<") and b"<svg" in data[:8192]:
        return check_svg(data)
    kinds = "a PNG or SVG image" if allow_svg else "a PNG image"
    raise CertvcError(f"the upload is not {kinds}", code=ErrorCode.UNSUPPORTED_MEDIA_TYPE)


def check_png(data: bytes) -> CheckedImage:
    """Decode, bound and re-encode a PNG.

    :raises CertvcError: ``input_too_large`` (over 2 MiB or 2048 pixels a side),
        ``image_invalid`` (not a readable PNG, under 128 pixels a side).
    """
    if len(data) > MAX_PNG_BYTES:
        raise CertvcError(
            f"the PNG is {len(data):,} bytes; at most {MAX_PNG_BYTES:,}",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    if not data.startswith(PNG_SIGNATURE):
        raise _invalid("not a PNG image (bad signature)")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            width, height = image.size  # from the header: nothing inflated yet
            if width > MAX_SIDE or height > MAX_SIDE:
                raise CertvcError(
                    f"the image is {width}x{height} pixels; at most {MAX_SIDE}x{MAX_SIDE}",
                    code=ErrorCode.INPUT_TOO_LARGE,
                )
            if width < MIN_SIDE or height < MIN_SIDE:
                raise _invalid(
                    f"the image is {width}x{height} pixels; at least {MIN_SIDE}x{MIN_SIDE}"
                )
            image.load()
            mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
            if image.mode == "P" and "transparency" not in image.info:
                mode = "RGB"
            pixels = image.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as cause:
        raise _invalid("the PNG cannot be decoded") from cause
    except Image.DecompressionBombError as cause:  # pragma: no cover - the size check is first
        raise CertvcError("the PNG is too large", code=ErrorCode.INPUT_TOO_LARGE) from cause
    pixels.info = {}  # no text, EXIF or ICC chunks carried over
    out = io.BytesIO()
    pixels.save(out, format="PNG")
    return _checked(out.getvalue(), ImageType.PNG, (width, height))


def check_svg(data: bytes) -> CheckedImage:
    """Parse an SVG safely and refuse anything active or external in it.

    :raises CertvcError: ``input_too_large`` (over 512 KiB), ``image_invalid`` (not
        well-formed, not UTF-8, a DOCTYPE, a script, an event handler, an external reference,
        a credential already baked in).
    """
    if len(data) > MAX_SVG_BYTES:
        raise CertvcError(
            f"the SVG is {len(data):,} bytes; at most {MAX_SVG_BYTES:,}",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    declared = _ENCODING.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise _invalid("the SVG must be UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as cause:
        raise _invalid("the SVG must be UTF-8") from cause
    if _INSTRUCTION.search(data):
        raise _invalid("the SVG has a processing instruction (an external style sheet?)")
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as cause:
        kind = type(cause).__name__
        raise _invalid(f"the SVG is refused: {kind} (no DTD or entities)") from cause
    except ET.ParseError as cause:
        raise _invalid(f"the SVG is not well-formed XML: {cause}") from cause
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        raise _invalid("not an SVG image (the root element is not svg in the SVG namespace)")
    for element in root.iter():
        _check_element(element)
    # wallet_export's package import is heavy (fonts, PDF): only when an SVG is checked
    from wallet_export.badge import bake_svg  # noqa: PLC0415

    bake_svg(data, {"probe": "the upload must take a baked credential"})  # raises if not
    return _checked(data, ImageType.SVG, None)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _check_reference(value: str, where: str, *, image: bool = False) -> None:
    target = _CONTROLS.sub("", value)  # URL parsers drop tabs and newlines: so do we
    if target.startswith("#") or (image and _ALLOWED_DATA.match(target)):
        return
    allowed = "#fragments and inline images" if image else "#fragments"
    raise _invalid(f"{where} refers to {target[:80]!r}: only {allowed}")


def _check_css(text: str, where: str) -> None:
    found = _CSS_FORBIDDEN.search(text)
    if found is not None:
        raise _invalid(f"{where} has {found.group(0)!r} in its CSS (escapes, at-rules, image sets)")
    for match in _CSS_URL.finditer(text):
        _check_reference(match.group(2), where)
    if "javascript:" in _CONTROLS.sub("", text).lower():
        raise _invalid(f"{where} has a javascript: URL")


def _check_element(element: ET.Element) -> None:
    if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{SVG_NAMESPACE}}}"):
        raise _invalid(f"the SVG has an element outside the SVG namespace: {element.tag!r}")
    name = _local(element.tag)
    if name not in _ALLOWED_ELEMENTS:
        raise _invalid(f"the SVG has a <{name}> element (not on the allow-list)")
    for attribute, value in element.attrib.items():
        where = f"<{name} {_local(attribute)}>"
        if attribute.startswith("{"):
            if attribute not in _ALLOWED_NAMESPACED:
                raise _invalid(f"the SVG has a namespaced attribute {attribute!r} on <{name}>")
        elif attribute not in _ALLOWED_ATTRIBUTES:
            raise _invalid(f"the SVG has an attribute {where} (not on the allow-list)")
        if _local(attribute) == "href":
            _check_reference(value, where, image=name == "image")
        _check_css(value, where)
    if name == "style":
        _check_css("".join(element.itertext()), "<style>")
