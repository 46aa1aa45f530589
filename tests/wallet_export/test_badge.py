"""Open Badges 3.0 baking (OB 3.0 §5.3 "Baked Badge"): PNG iTXt ``openbadgecredential`` and SVG
``<openbadges:credential>``; unbaking gives back exactly what was baked; hostile images refused."""

from __future__ import annotations

import struct
import zlib

import pytest
from lxml import etree

from contexts.errors import CertvcError
from verifier.result import Verdict
from wallet_export.badge import (
    KEYWORD,
    OB_NAMESPACE,
    PNG_SIGNATURE,
    bake,
    bake_png,
    bake_svg,
    credential_text,
    unbake,
    unbake_png,
    unbake_svg,
)
from wallet_export.badge_image import default_badge_png, default_badge_svg
from wallet_export.errors import WalletCode

SVG = (
    b'<?xml version="1.0"?>\n<!-- a badge -->\n<svg xmlns="http://www.w3.org/2000/svg" '
    b'viewBox="0 0 10 10" data-x="a>b"><circle r="4"/></svg>\n'
)


@pytest.fixture(scope="module")
def png() -> bytes:
    return default_badge_png("Certified Welding Inspector", "CWI-2", size=128)


def _chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    out, offset = [], len(PNG_SIGNATURE)
    while offset < len(image):
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        out.append((image[offset + 4 : offset + 8], image[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return out


def test_png_chunk_is_itxt_uncompressed_before_iend(png: bytes, sign) -> None:
    """OB 3.0 §5.3.1.1: keyword openbadgecredential, compression 0, empty language tag and
    translated keyword; the text is the credential JSON. Other chunks are left byte for byte."""
    signed = sign()
    baked = bake_png(png, signed)
    chunks = _chunks(baked)
    assert [kind for kind, _ in chunks][-2:] == [b"iTXt", b"IEND"]
    data = chunks[-2][1]
    assert data.startswith(KEYWORD + b"\0\0\0\0\0")
    assert data[len(KEYWORD) + 5 :].decode() == credential_text(signed)
    assert _chunks(png) == [c for c in chunks if c[0] != b"iTXt"]


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "vc+jwt"])
def test_unbaking_returns_exactly_what_was_baked_and_it_verifies(png, sign, verify, suite) -> None:
    secured = sign(suite=suite)
    text = credential_text(secured)
    for baked in (bake_png(png, secured), bake_svg(SVG, secured)):
        assert unbake(baked) == text
        assert verify(unbake(baked)).verdict is Verdict.VALID


def test_svg_element_follows_the_svg_tag_in_its_namespace(sign) -> None:
    """OB 3.0 §5.3.2.1: xmlns:openbadges on <svg>, <openbadges:credential> directly after it,
    the JSON in CDATA, or a verify attribute holding the JWS."""
    signed, token = sign(), sign(suite="vc+jwt")
    baked = bake_svg(SVG, signed)
    root = etree.fromstring(baked)
    assert root.nsmap["openbadges"] == OB_NAMESPACE
    first = root[0]
    assert first.tag == f"{{{OB_NAMESPACE}}}credential"
    assert b"<openbadges:credential><![CDATA[{" in baked
    assert b'data-x="a>b"' in baked and b"<!-- a badge -->" in baked  # the rest is untouched
    jws = etree.fromstring(bake_svg(SVG, token))[0]
    assert jws.get("verify") == token and not (jws.text or "")


def test_cdata_end_marker_inside_the_credential_survives() -> None:
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "a]]>b]]>"}
    assert unbake_svg(bake_svg(SVG, credential)) == credential_text(credential)


def test_self_closing_svg_root_is_baked() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    baked = bake_svg(svg, {"@context": [], "type": ["VerifiableCredential"]})
    assert baked.endswith(b"</openbadges:credential></svg>")
    assert unbake(baked) == '{"@context":[],"type":["VerifiableCredential"]}'


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_baking_twice_is_refused(png: bytes, kind: str) -> None:
    """Only one credential per image (OB 3.0 §5.3): the second bake is refused."""
    image = png if kind == "png" else SVG
    once = bake(image, {"@context": [], "type": ["VerifiableCredential"]})
    with pytest.raises(CertvcError) as caught:
        bake(once, {"@context": [], "type": ["VerifiableCredential"]})
    assert caught.value.code is WalletCode.BADGE_ALREADY_BAKED


def test_a_png_with_a_bad_crc_or_signature_is_refused(png: bytes) -> None:
    broken = bytearray(png)
    broken[len(PNG_SIGNATURE) + 10] ^= 0xFF  # inside IHDR's data
    for image in (bytes(broken), b"\x89PNX" + png[4:], png + b"trailing", png[:-12]):
        with pytest.raises(CertvcError) as caught:
            bake_png(image, {"@context": []})
        assert caught.value.code is WalletCode.IMAGE_INVALID


def test_unbaking_an_unbaked_or_ob2_image_says_so(png: bytes) -> None:
    with pytest.raises(CertvcError) as caught:
        unbake_png(png)
    assert caught.value.code is WalletCode.BADGE_NOT_BAKED
    ob2 = b"openbadges\0\0\0\0\0" + b'{"type":"Assertion"}'
    chunk = (
        struct.pack(">I", len(ob2)) + b"iTXt" + ob2 + struct.pack(">I", zlib.crc32(b"iTXt" + ob2))
    )
    with pytest.raises(CertvcError) as caught:
        unbake_png(png[:-12] + chunk + png[-12:])
    assert "2.0" in caught.value.message


def test_compressed_credential_chunk_is_refused(png: bytes) -> None:
    data = KEYWORD + b"\0\x01\0\0\0" + zlib.compress(b"{}")
    chunk = (
        struct.pack(">I", len(data))
        + b"iTXt"
        + data
        + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    )
    with pytest.raises(CertvcError) as caught:
        unbake_png(png[:-12] + chunk + png[-12:])
    assert caught.value.code is WalletCode.IMAGE_INVALID


@pytest.mark.parametrize(
    "svg",
    [
        # billion laughs and external entities: a DOCTYPE is refused outright
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
        b"<html><body/></html>",
        b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>",
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="urn:other"/>',
    ],
    ids=["entities", "external-entity", "not-svg", "malformed", "prefix-taken"],
)
def test_hostile_or_wrong_svg_is_refused(svg: bytes) -> None:
    with pytest.raises(CertvcError) as caught:
        bake_svg(svg, {"@context": []})
    assert caught.value.code is WalletCode.IMAGE_INVALID


def test_text_that_is_neither_json_nor_jws_is_not_baked(png: bytes) -> None:
    for text in ("not json", "[1, 2]", 'eyJ.x"><script>.y'):
        with pytest.raises(CertvcError):
            bake_png(png, text)


def test_default_svg_badge_is_bakeable() -> None:
    svg = default_badge_svg("Certified Welding Inspector — Level 2 & <more>", "CWI-2")
    root = etree.fromstring(svg)
    assert root.find("{http://www.w3.org/2000/svg}title").text.startswith("CWI-2: ")
    assert unbake(bake(svg, {"@context": []})) == '{"@context":[]}'
