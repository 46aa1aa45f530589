"""The QR payload format (docs/qr-format.md): encoding, decoding, caps and the QR symbol."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib

import pytest
import qrcode
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, QRData

from contexts.errors import ErrorCode, InputError
from keys.keypair import KeyPair, KeyType
from verifier import qr
from verifier.errors import VerifierCode
from verifier.qr_dictionary import DICTIONARIES, V1
from verifier.qr_image import read_qr_texts
from verifier.qr_symbol import ErrorCorrection, make_symbol, render_png
from verifier.samples import certification_credential

from .world import NOW, credential, new_pair, sign

VERIFIER = "https://verify.example-body.org/v"


@pytest.fixture(scope="module")
def pair():
    return new_pair()


@pytest.fixture(scope="module")
def signed(pair):
    return credential(pair, "https://certs.example-body.org")


@pytest.fixture(scope="module")
def token(pair):
    return credential(pair, "https://certs.example-body.org", suite="vc+jwt")


def test_dictionary_v1_is_frozen() -> None:
    """Printed QR codes must decode for years: dictionary 1 never changes (a new one is v2)."""
    assert hashlib.sha256(V1).hexdigest() == (
        "9191a247035b999c5bb9182f7f509a0aab6f99178926dc3ea33d1b267ffe4078"
    )
    assert DICTIONARIES["1"] is V1 and qr.VERSION == "1"


def test_credential_round_trip(signed) -> None:
    payload = qr.encode_credential(signed)
    assert payload.startswith("1C")
    decoded = qr.decode_payload(qr.deep_link(VERIFIER, payload))
    assert decoded.kind is qr.PayloadKind.CREDENTIAL
    assert json.loads(decoded.unverified_text) == signed


def test_jwt_round_trip_is_byte_exact(token) -> None:
    """vc+jwt parts travel as raw bytes and come back as the very same compact JWS."""
    payload = qr.encode_credential(token)
    assert payload.startswith("1J")
    assert qr.decode_payload(payload).unverified_text == token


def test_payload_is_qr_alphanumeric_and_compressed(signed) -> None:
    payload = qr.encode_credential(signed)
    assert set(payload) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    plain = qr.compact_json(signed)
    # The dictionary pays: over half the credential is boilerplate it already holds.
    without = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    bare = without.compress(plain) + without.flush()
    body = base64.b32decode(payload[2:] + "=" * (-len(payload[2:]) % 8))
    assert len(body) < 0.6 * len(bare)


def test_sample_fits_a_small_qr(signed, token) -> None:
    """Issue 6 goal: a ~2 KB Data Integrity credential in a QR that prints at 3 cm."""
    for secured in (signed, token):
        symbol = make_symbol(qr.deep_link(VERIFIER, qr.encode_credential(secured)))
        assert symbol.version <= 16, symbol.version
        assert symbol.module_mm(30) >= 0.35


def test_payload_goes_in_an_alphanumeric_segment(signed) -> None:
    """'#' is not alphanumeric: the URL is a byte segment, the payload an alphanumeric one."""
    text = qr.deep_link(VERIFIER, qr.encode_credential(signed))
    assert qr.qr_segments(text) == [(VERIFIER + "#", False), (text.split("#")[1], True)]
    byte_mode = qrcode.QRCode(error_correction=ErrorCorrection.L.value)
    byte_mode.add_data(QRData(text.encode(), mode=MODE_8BIT_BYTE), optimize=0)
    byte_mode.make(fit=True)
    assert make_symbol(text).version < byte_mode.version


def test_link_mode() -> None:
    url = "https://certs.example-body.org/credentials/CB-2026-004217"
    text = qr.deep_link(VERIFIER, qr.encode_link(url))
    decoded = qr.decode_payload(text)
    assert decoded == qr.QrPayload(qr.PayloadKind.LINK, url)
    assert make_symbol(text, ErrorCorrection.M).version <= 6
    for bad in ("https://x.example/c#frag", "file:///etc/passwd", "https://"):
        with pytest.raises(InputError) as caught:
            qr.encode_link(bad)
        assert caught.value.code is VerifierCode.QR_PAYLOAD_INVALID


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=V1)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("9C" + _b32(_deflate(b"{}")), "version"),
        ("1X" + _b32(_deflate(b"{}")), "kind"),
        ("1C" + "A1B", "base32"),
        ("1C" + "AB", "canonical"),  # non-zero padding bits
        ("1C" + _b32(_deflate(b'{"a": 1}')[:-3]), "truncated"),
        ("1C" + _b32(_deflate(b"{}") + b"junk"), "trailing"),
        ("1C" + _b32(b"\xff\xff\xff\xff"), "not deflate"),
        ("1C" + _b32(_deflate(b"\xff\xfe")), "not UTF-8"),
        ("1J" + _b32(_deflate(b"only one part")), "jwt parts"),
        ("1Lftp://example.org/x", "link scheme"),
    ],
)
def test_bad_payloads_are_refused_with_a_code(text, why) -> None:
    with pytest.raises(InputError) as caught:
        qr.decode_payload(text)
    assert caught.value.code is VerifierCode.QR_PAYLOAD_INVALID, why


def test_inflation_is_capped() -> None:
    """A hand-made payload that inflates 1000-fold is refused as it inflates (a DEFLATE bomb)."""
    bomb = "1C" + _b32(_deflate(b" " * 2_000_000))
    assert len(bomb) < 4000
    with pytest.raises(InputError, match="inflates past"):
        qr.decode_payload(bomb)


def test_text_length_is_capped() -> None:
    with pytest.raises(InputError):
        qr.decode_payload("1C" + "A" * qr.MAX_QR_TEXT)


def test_what_is_not_a_payload() -> None:
    assert qr.payload_of('{"id": "https://x.example/status#1Key"}') is None
    assert qr.payload_of("did:web:x.example#1Key") is None
    assert qr.payload_of("1C hello world") is None
    assert qr.payload_of("https://verifier.example/v#1CABC") == "1CABC"
    assert qr.payload_of("1cabc") == "1cabc"  # pasted in lower case: still ours


def test_png_round_trip_through_zxing(signed) -> None:
    text = qr.deep_link(VERIFIER, qr.encode_credential(signed))
    png = render_png(make_symbol(text), module_px=3)
    assert read_qr_texts(png) == [text]


def test_payload_too_large_for_any_qr() -> None:
    with pytest.raises(InputError) as caught:
        make_symbol("https://v.example/#" + "1C" + "A" * 5000)
    assert caught.value.code is VerifierCode.QR_PAYLOAD_TOO_LARGE


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format="PNG")
    return out.getvalue()


def test_images_are_capped_before_decoding() -> None:
    with pytest.raises(InputError) as caught:
        read_qr_texts(_png(200, 200), max_pixels=10_000)
    assert caught.value.code is ErrorCode.INPUT_TOO_LARGE
    with pytest.raises(InputError) as caught:
        read_qr_texts(_png(10, 10), max_bytes=10)
    assert caught.value.code is ErrorCode.INPUT_TOO_LARGE


def test_a_huge_declared_png_is_refused_from_its_header() -> None:
    """A PNG header claiming 100,000 x 100,000 pixels is refused before any pixel is inflated."""
    header = _png(1, 1)
    ihdr = header.index(b"IHDR")
    fields = (100_000).to_bytes(4, "big") * 2 + header[ihdr + 12 : ihdr + 17]
    crc = zlib.crc32(b"IHDR" + fields).to_bytes(4, "big")
    forged = header[: ihdr + 4] + fields + crc + header[ihdr + 21 :]
    with pytest.raises(InputError) as caught:
        read_qr_texts(forged)
    assert caught.value.code in (ErrorCode.INPUT_TOO_LARGE, VerifierCode.IMAGE_UNSUPPORTED)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a....", VerifierCode.IMAGE_UNSUPPORTED),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, VerifierCode.IMAGE_UNSUPPORTED),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, VerifierCode.IMAGE_UNSUPPORTED),
        (_png(64, 64), VerifierCode.QR_NOT_FOUND),
    ],
    ids=["gif", "broken-png", "broken-jpeg", "blank"],
)
def test_unreadable_images(data, code) -> None:
    with pytest.raises(InputError) as caught:
        read_qr_texts(data)
    assert caught.value.code is code


def test_ecdsa_credential_also_fits(pair) -> None:
    p256 = KeyPair.generate(KeyType.P256)
    secured = sign(
        certification_credential(p256.public_key.did_key, valid_from=NOW),
        p256,
        "ecdsa-rdfc-2019",
    )
    text = qr.deep_link(VERIFIER, qr.encode_credential(secured))
    assert json.loads(qr.decode_payload(text).unverified_text) == secured
    assert make_symbol(text).version <= 17
