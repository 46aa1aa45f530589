"""Input detection: credential JSON, vc+jwt, QR text, QR image, links, files carrying a
credential (the extractor extension point); caps before parsing."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from contexts.errors import ErrorCode, InputError
from verifier import qr
from verifier.errors import VerifierCode
from verifier.inputs import (
    EXTRACTOR_GROUP,
    MAX_CONTAINER_BYTES,
    MAX_INPUT_BYTES,
    InputSource,
    LinkInput,
    read_credential_input,
    read_fetched_credential,
)
from verifier.qr_symbol import make_symbol, render_png
from verifier.result import InputFormat
from wallet_export.errors import WalletCode

from .world import credential, new_pair

LINK = "https://certs.example-body.org/credentials/CB-1"


@pytest.fixture(scope="module")
def pair():
    return new_pair()


@pytest.fixture(scope="module")
def signed(pair):
    return credential(pair, "https://certs.example-body.org")


@pytest.fixture(scope="module")
def token(pair):
    return credential(pair, "https://certs.example-body.org", suite="vc+jwt")


def test_credential_json(signed) -> None:
    item = read_credential_input(json.dumps(signed).encode())
    assert (item.format, item.source) == (InputFormat.JSON, InputSource.TEXT)
    assert item.unverified_credential == signed


def test_vc_api_request_shape(signed, token) -> None:
    assert read_credential_input(json.dumps({"verifiableCredential": signed})).format is (
        InputFormat.JSON
    )
    assert read_credential_input(json.dumps({"verifiableCredential": token})).token is not None


def test_vc_jwt(token) -> None:
    item = read_credential_input(token + "\n")
    assert item.format is InputFormat.VC_JWT and item.token is not None


@pytest.mark.parametrize("kind", ["json", "jwt"])
def test_qr_text_deep_link_and_bare_payload(signed, token, kind) -> None:
    secured = signed if kind == "json" else token
    payload = qr.encode_credential(secured)
    for text in (qr.deep_link("https://v.example/v", payload), payload, payload.lower()):
        item = read_credential_input(text)
        assert item.source is InputSource.QR_TEXT
        if kind == "json":
            assert item.unverified_credential == signed
        else:
            assert item.token is not None and item.token.token == token


def test_qr_image(signed) -> None:
    png = render_png(make_symbol(qr.deep_link("https://v.example/v", qr.encode_credential(signed))))
    item = read_credential_input(png)
    assert item.source is InputSource.QR_IMAGE and item.unverified_credential == signed


def test_a_photo_of_a_link_code_beside_the_credential_code_reads_the_credential(signed) -> None:
    """A printed certificate carries both: the self-contained code needs no fetch, so it wins
    whatever order the decoder returns them in."""
    link = render_png(make_symbol(qr.deep_link("https://v.example/v", qr.encode_link(LINK))))
    full = render_png(
        make_symbol(qr.deep_link("https://v.example/v", qr.encode_credential(signed)))
    )
    for first, second in ((link, full), (full, link)):
        left, right = Image.open(io.BytesIO(first)), Image.open(io.BytesIO(second))
        page = Image.new("L", (left.width + right.width + 40, max(left.height, right.height)), 255)
        page.paste(left, (0, 0))
        page.paste(right, (left.width + 40, 0))
        photo = io.BytesIO()
        page.save(photo, format="PNG")
        item = read_credential_input(photo.getvalue())
        assert item.source is InputSource.QR_IMAGE and item.unverified_credential == signed


def test_qr_image_holding_a_plain_link() -> None:
    with pytest.raises(LinkInput) as caught:
        read_credential_input(render_png(make_symbol(LINK)))
    assert caught.value.url == LINK and caught.value.source is InputSource.QR_IMAGE


def test_qr_image_holding_something_else() -> None:
    with pytest.raises(InputError) as caught:
        read_credential_input(render_png(make_symbol("WIFI:S:guest;;")))
    assert caught.value.code is VerifierCode.QR_PAYLOAD_INVALID


def test_links_are_reported_for_fetching() -> None:
    for text in (qr.deep_link("https://v.example/v", qr.encode_link(LINK)), LINK):
        with pytest.raises(LinkInput) as caught:
            read_credential_input(text)
        assert caught.value.url == LINK and caught.value.code is VerifierCode.LINK_NEEDS_FETCH


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"x" * (MAX_INPUT_BYTES + 1), ErrorCode.INPUT_TOO_LARGE),
        (b"[" * 10_000, ErrorCode.INPUT_TOO_DEEP),
        (b'{"hello": 1}', ErrorCode.INPUT_UNUSABLE),
        (b"1CAAAA", VerifierCode.QR_PAYLOAD_INVALID),
        (b"https://v.example/v#1Q", VerifierCode.QR_PAYLOAD_INVALID),
        (b"\x89PNG\r\n\x1a\nbroken", VerifierCode.IMAGE_UNSUPPORTED),
        ("1C" + "A" * 20_000, VerifierCode.QR_PAYLOAD_INVALID),
    ],
    ids=["too-large", "too-deep", "not-credential", "bad-payload", "bad-kind", "png", "long"],
)
def test_unusable_inputs(data, code) -> None:
    with pytest.raises(InputError) as caught:
        read_credential_input(data)
    assert caught.value.code is code


def test_qr_payload_holding_a_non_credential() -> None:
    """A valid payload whose JSON is not a credential is unusable, like the same JSON pasted."""
    payload = qr.encode_credential({"hello": "world"})
    with pytest.raises(InputError) as caught:
        read_credential_input(payload)
    assert caught.value.code is ErrorCode.INPUT_UNUSABLE


def test_fetched_credentials_are_json_or_jwt_only(signed, token) -> None:
    assert read_fetched_credential(json.dumps(signed).encode(), "application/vc").source is (
        InputSource.LINK
    )
    assert read_fetched_credential(token.encode(), "application/vc+jwt").token is not None
    png = render_png(make_symbol(qr.deep_link("https://v.example/v", qr.encode_credential(signed))))
    for body, media_type in (
        (png, "application/json"),
        (qr.encode_credential(signed).encode(), "application/json"),
    ):
        with pytest.raises(InputError):
            read_fetched_credential(body, media_type)


# --- files carrying a credential: the certvc.input_extractors extension point ---------------

PDF_HEAD = b"%PDF-1.7\n% a certificate\n"


def _reads(text: str | None, seen: list[bytes] | None = None):
    def extract(data: bytes) -> str | None:
        if seen is not None:
            seen.append(data)
        return text if data.startswith(PDF_HEAD) else None

    return extract


def test_an_extractor_hands_over_what_a_file_carries(signed, token) -> None:
    """Whatever the extractor finds (credential JSON, vc+jwt, QR text) is read as if given
    directly, with the source saying it came from a file."""
    cases = [
        (json.dumps(signed), InputFormat.JSON),
        (token, InputFormat.VC_JWT),
        (qr.deep_link("https://v.example/v", qr.encode_credential(signed)), InputFormat.JSON),
    ]
    for text, form in cases:
        found = read_credential_input(PDF_HEAD, extractors=[("pdf", _reads(text))])
        assert found.format is form and found.source is InputSource.CONTAINER
        assert found.unverified_credential["id"] == signed["id"]
    with pytest.raises(LinkInput) as caught:
        read_credential_input(PDF_HEAD, extractors=[("pdf", _reads(LINK))])
    assert caught.value.url == LINK and caught.value.source is InputSource.CONTAINER


def test_files_no_extractor_claims_go_on_to_the_usual_readers(signed) -> None:
    """A PNG an extractor declines (a photo of a QR code, not a baked badge) is still read
    as a QR image; JSON text never goes to the extractors at all."""
    seen: list[bytes] = []
    png = render_png(make_symbol(qr.deep_link("https://v.example/v", qr.encode_credential(signed))))
    found = read_credential_input(png, extractors=[("pdf", _reads("never", seen))])
    assert found.source is InputSource.QR_IMAGE and seen == [png]
    seen.clear()
    read_credential_input(json.dumps(signed).encode(), extractors=[("pdf", _reads("x", seen))])
    assert seen == []


def test_extractor_errors_are_clean_input_errors() -> None:
    """Its own typed error keeps its code; a bug in a plugin becomes input_unusable naming the
    reader, never a traceback."""

    def broken_container(data: bytes) -> str | None:
        raise InputError("the PDF carries no credential", code=WalletCode.CREDENTIAL_NOT_FOUND)

    def buggy(data: bytes) -> str | None:
        raise ZeroDivisionError("oops")

    with pytest.raises(InputError) as caught:
        read_credential_input(PDF_HEAD, extractors=[("pdf", broken_container)])
    assert caught.value.code is WalletCode.CREDENTIAL_NOT_FOUND
    with pytest.raises(InputError) as caught:
        read_credential_input(PDF_HEAD, extractors=[("plugin", buggy)])
    assert caught.value.code is ErrorCode.INPUT_UNUSABLE and "plugin" in caught.value.message


def test_oversized_files_are_refused_before_any_extractor_runs() -> None:
    seen: list[bytes] = []
    with pytest.raises(InputError) as caught:
        read_credential_input(
            PDF_HEAD + bytes(MAX_CONTAINER_BYTES), extractors=[("pdf", _reads("x", seen))]
        )
    assert caught.value.code is ErrorCode.INPUT_TOO_LARGE and seen == []


def test_extractors_come_from_the_entry_point_group(monkeypatch) -> None:
    """``certvc.input_extractors``: loaded once, by name; a registered provider that does not
    import fails loudly (it must not quietly turn PDFs into "not a credential")."""
    from importlib.metadata import EntryPoint

    import verifier.inputs as inputs

    groups: list[str] = []

    def fake_entry_points(*, group: str):
        groups.append(group)
        found = [EntryPoint("pdf", "tests.verifier.test_inputs:_pdf_marker", group)]
        if broken:
            found.append(EntryPoint("zz-missing", "certvc_no_such_package:extract", group))
        return found

    broken = True
    monkeypatch.setattr(inputs, "entry_points", fake_entry_points)
    inputs.registered_extractors.cache_clear()
    with pytest.raises(ModuleNotFoundError, match="certvc_no_such_package"):
        inputs.registered_extractors()
    broken = False
    groups.clear()
    try:
        assert [name for name, _ in inputs.registered_extractors()] == ["pdf"]
        inputs.registered_extractors()
        assert groups == [EXTRACTOR_GROUP] == ["certvc.input_extractors"]
        with pytest.raises(InputError) as caught:
            read_credential_input(PDF_HEAD)  # the registered one answers
        assert caught.value.code is WalletCode.CREDENTIAL_NOT_FOUND
    finally:
        inputs.registered_extractors.cache_clear()


def _pdf_marker(data: bytes) -> str | None:
    if data.startswith(PDF_HEAD):
        raise InputError("marker extractor", code=WalletCode.CREDENTIAL_NOT_FOUND)
    return None


def test_a_vp_jwt_is_not_read_as_a_credential() -> None:
    """VC-JOSE-COSE §3.2: ``typ: vp+jwt`` secures a presentation; reading it as a credential
    (and calling its signature bad) would be wrong: it is refused as input, with what it is."""
    import base64

    def b64(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = {"alg": "EdDSA", "kid": "did:key:z6Mk#z6Mk", "typ": "vp+jwt"}
    payload = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "VerifiablePresentation",
    }
    token = f"{b64(header)}.{b64(payload)}.AAAA"
    with pytest.raises(InputError) as caught:
        read_credential_input(token)
    assert caught.value.code is ErrorCode.INPUT_UNUSABLE and "presentation" in caught.value.message
