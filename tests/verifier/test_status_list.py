"""Bitstring Status List 1.0 codec and entry rules (verifier/status_list.py).

Expected values come from the W3C vectors, the Recommendation's examples, or bytes built by hand
with the standard library's gzip/base64 -- never from our own encoder.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.errors import Code
from verifier.errors import StatusListError, VerifierCode
from verifier.model.status_list import (
    DEFAULT_MAX_BYTES,
    MIN_BITS,
    Bitstring,
    StatusEntry,
    StatusMessage,
    StatusPropertyError,
    StatusPurpose,
    check_entry_against_list,
    message_for,
    parse_status_entry,
    parse_status_list_credential,
    parse_status_list_subject,
    parse_status_messages,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "bitstring-status-list" / "decode.json"
CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]

# BSL 2.2 Example 3: the status list credential of the Recommendation.
SPEC_LIST_CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "https://example.com/credentials/status/3",
    "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    "issuer": "did:example:12345",
    "validFrom": "2021-04-05T14:27:40Z",
    "credentialSubject": {
        "id": "https://example.com/status/3#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
    },
}

# BSL 2.1 Example 1, first entry.
SPEC_ENTRY = {
    "id": "https://example.com/credentials/status/3#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://example.com/credentials/status/3",
}

# BSL 2.1 Example 2, with the fourth message the example elides.
SPEC_MESSAGE_ENTRY = {
    "id": "https://example.com/credentials/status/8#492847",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "message",
    "statusListIndex": "492847",
    "statusSize": 2,
    "statusListCredential": "https://example.com/credentials/status/8",
    "statusMessage": [
        {"status": "0x0", "message": "pending_review"},
        {"status": "0x1", "message": "accepted"},
        {"status": "0x2", "message": "rejected"},
        {"status": "0x3", "message": "undefined"},
    ],
    "statusReference": "https://example.org/status-dictionary/",
}


def _encode_by_hand(raw: bytes) -> str:
    """Multibase base64url(GZIP(raw)) with the standard library only."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw)).rstrip(b"=").decode("ascii")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _code(exc_info: pytest.ExceptionInfo[StatusListError]) -> Code:
    return exc_info.value.code


# --- the W3C / project vectors -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_vector_decodes_to_the_listed_values(case: dict) -> None:
    """BSL 2.2 encodedList / 3.4 expansion: every vector decodes to exactly its listed values."""
    bitstring = Bitstring.decode(case["encodedList"], status_size=case["statusSize"])
    expected = (
        {int(index): value for index, value in case["values"].items()}
        if "values" in case
        else dict.fromkeys(case["set"], 1)
    )
    assert list(bitstring.set_indexes()) == sorted(expected)
    for index, value in expected.items():
        assert bitstring.get(index) == value
    # The vector's "length" is a lower bound: the statusSize-2 case says 65536 but its list
    # holds 32 KiB, i.e. 131072 two-bit entries.
    assert len(bitstring) >= case["length"]
    if case["statusSize"] == 1:
        assert len(bitstring) == case["length"]


def test_spec_example_list_credential_is_all_clear() -> None:
    """BSL 2.2 Example 3: 131,072 entries, none set."""
    purposes, encoded, ttl = parse_status_list_credential(SPEC_LIST_CREDENTIAL)
    assert purposes == (StatusPurpose.REVOCATION,)
    assert ttl is None
    bitstring = Bitstring.decode(encoded)
    assert len(bitstring) == 131_072
    assert list(bitstring.set_indexes()) == []


def test_spec_entry_against_vector_list_reports_its_bit() -> None:
    """BSL 3.2 steps 5-10: the Example 1 entry (index 94567) in a list where 94567 is set."""
    case = next(c for c in CASES if c["set"] == [42, 94567, 131071])
    entry = parse_status_entry(SPEC_ENTRY)
    bitstring = Bitstring.decode(case["encodedList"])
    assert check_entry_against_list(entry, bitstring, (StatusPurpose.REVOCATION,)) == 1
    clear = Bitstring.decode(SPEC_LIST_CREDENTIAL["credentialSubject"]["encodedList"])
    assert check_entry_against_list(entry, clear, (StatusPurpose.REVOCATION,)) == 0


# --- bit order, by hand ------------------------------------------------------------------------


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    """BSL 2.2: index 0 is the left-most bit; 7 the least significant bit of byte 0."""
    raw = bytearray(MIN_BITS // 8)
    raw[0] = 0b1000_0000
    raw[1] = 0b0000_0001
    bitstring = Bitstring.decode(_encode_by_hand(bytes(raw)))
    assert bitstring.get(0) == 1
    assert [bitstring.get(i) for i in range(1, 15)] == [0] * 14
    assert bitstring.get(15) == 1
    assert list(bitstring.set_indexes()) == [0, 15]


def test_multi_bit_entries_are_read_msb_first() -> None:
    """BSL 2.2 / 3.2 step 10: entry i holds bits [i*size, (i+1)*size), MSB first."""
    raw = bytearray(MIN_BITS // 8)
    raw[0] = 0b11_01_00_10
    bitstring = Bitstring.decode(_encode_by_hand(bytes(raw)), status_size=2)
    assert [bitstring.get(i) for i in range(5)] == [3, 1, 0, 2, 0]


def test_entries_may_span_a_byte_boundary() -> None:
    """statusSize 3: entry 2 takes the last two bits of byte 0 and the first of byte 1."""
    raw = bytearray(MIN_BITS // 8)
    raw[0], raw[1] = 0b101_011_10, 0b1_000_0000  # values 5, 3, 0b101 = 5
    bitstring = Bitstring.decode(_encode_by_hand(bytes(raw)), status_size=3)
    assert [bitstring.get(i) for i in range(4)] == [5, 3, 5, 0]
    assert list(bitstring.set_indexes()) == [0, 1, 2]


def test_set_writes_the_bits_where_the_spec_puts_them() -> None:
    """BSL 2.2: setting entries 0 and 15 yields bytes 0x80 0x01; size-2 entry 1 = 0b0011_0000."""
    one_bit = Bitstring(MIN_BITS)
    one_bit.set(0, 1)
    one_bit.set(15, 1)
    assert one_bit.to_bytes()[:3] == b"\x80\x01\x00"
    two_bit = Bitstring(MIN_BITS // 2, status_size=2)
    two_bit.set(1, 3)
    assert two_bit.to_bytes()[:2] == b"\x30\x00"
    two_bit.set(1, 0)
    assert two_bit.to_bytes() == bytes(MIN_BITS // 8)


def test_encode_is_gzip_base64url_without_padding() -> None:
    """BSL 3.3 step 3: the standard library can read what we publish."""
    bitstring = Bitstring(MIN_BITS)
    bitstring.set(94567, 1)
    encoded = bitstring.encode()
    assert encoded.startswith("u")
    assert "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    expected = bytearray(MIN_BITS // 8)
    expected[94567 // 8] = 0x80 >> (94567 % 8)
    assert raw == bytes(expected)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    status_size=st.sampled_from([1, 2, 4, 8]),
)
def test_encode_decode_round_trip(data: st.DataObject, status_size: int) -> None:
    """BSL 3.3 / 3.4: decoding what we encode gives back every entry."""
    length = MIN_BITS // status_size
    values = data.draw(
        st.dictionaries(
            st.integers(0, length - 1), st.integers(1, (1 << status_size) - 1), max_size=50
        )
    )
    bitstring = Bitstring(length, status_size)
    for index, value in values.items():
        bitstring.set(index, value)
    decoded = Bitstring.decode(bitstring.encode(), status_size=status_size)
    assert decoded == bitstring
    assert len(decoded) == length
    assert list(decoded.set_indexes()) == sorted(values)
    assert {index: decoded.get(index) for index in values} == values


# --- capped decompression ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> str:
    """GZIP of 200 MiB of zeros (about 0.9 MB), streamed so building it stays cheap."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(200)]
    parts.append(compressor.flush())
    return "u" + _b64(b"".join(parts))


def test_gzip_bomb_is_refused(bomb: str) -> None:
    """Policy (STANDARDS.md, BSL 7.1): decompression is capped; a bomb stops at the cap."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode(bomb)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_TOO_LARGE


def test_cap_is_a_parameter() -> None:
    """A list just over a caller's smaller cap is refused the same way."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode(CASES[0]["encodedList"], max_bytes=MIN_BITS // 8 - 1)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_TOO_LARGE


def test_encoded_input_longer_than_any_allowed_list_is_refused_unread() -> None:
    """The encoded text is capped too, before any base64 or GZIP work."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode("u" + "A" * 100_000, max_bytes=16_384)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_TOO_LARGE


def test_lying_isize_trailer_is_refused() -> None:
    """A small stream whose trailer claims 4 GiB: the trailer is checked, never trusted."""
    packed = bytearray(gzip.compress(bytes(MIN_BITS // 8)))
    packed[-4:] = b"\xff\xff\xff\xff"
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode("u" + _b64(bytes(packed)))
    assert _code(exc_info) is VerifierCode.STATUS_LIST_DECODE


def test_default_cap_accepts_a_list_of_exactly_the_cap() -> None:
    """The cap is inclusive: a DEFAULT_MAX_BYTES list decodes."""
    bitstring = Bitstring.decode(_encode_by_hand(bytes(DEFAULT_MAX_BYTES)))
    assert len(bitstring) == DEFAULT_MAX_BYTES * 8


# --- malformed encodings -----------------------------------------------------------------------

_LIST = bytes(MIN_BITS // 8)
_GZ = gzip.compress(_LIST)
# A valid GZIP list whose base64 needs padding (its length is not a multiple of 3).
_PADDABLE = next(
    packed
    for packed in (gzip.compress(bytes([first]) + _LIST[1:], mtime=0) for first in range(256))
    if len(packed) % 3
)


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param("", id="empty"),
        pytest.param("z" + _b64(_GZ), id="base58btc-prefix"),
        pytest.param(_b64(_GZ), id="no-prefix"),
        pytest.param("U" + _b64(_GZ), id="upper-case-prefix"),
        pytest.param("u", id="prefix-only"),
        pytest.param("u" + base64.urlsafe_b64encode(_PADDABLE).decode(), id="padded"),
        pytest.param("uH4sI+AAA", id="standard-alphabet-plus"),
        pytest.param("uH4sI/AAA", id="standard-alphabet-slash"),
        pytest.param("u" + _b64(_GZ) + " ", id="trailing-space"),
        pytest.param("uAAAAA", id="length-1-mod-4"),
        pytest.param("uAB", id="non-canonical-padding-bits"),
        pytest.param("u" + _b64(b"not gzip at all"), id="not-gzip"),
        pytest.param("u" + _b64(zlib.compress(_LIST)), id="zlib-not-gzip"),
        pytest.param("u" + _b64(_GZ[:-8]), id="truncated-trailer"),
        pytest.param("u" + _b64(_GZ[: len(_GZ) // 2]), id="truncated-stream"),
        pytest.param("u" + _b64(_GZ + b"x"), id="trailing-garbage"),
        pytest.param("u" + _b64(_GZ + _GZ), id="second-member"),
    ],
)
def test_malformed_encoded_list_is_a_decode_error(encoded: str) -> None:
    """BSL 2.2 encodedList: multibase 'u' + unpadded base64url of one GZIP stream, or nothing."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode(encoded)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_DECODE


def test_paddable_list_decodes_without_its_padding() -> None:
    """Control for the "padded" case: the same bytes unpadded are a good list."""
    assert Bitstring.decode("u" + _b64(_PADDABLE)).to_bytes() == gzip.decompress(_PADDABLE)


def test_non_string_encoded_list_is_a_decode_error() -> None:
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode(b"uH4sI")  # type: ignore[arg-type]
    assert _code(exc_info) is VerifierCode.STATUS_LIST_DECODE


def test_short_list_is_a_length_error() -> None:
    """BSL 3.2 step 9 / 2.2: fewer than 131,072 bits is STATUS_LIST_LENGTH_ERROR."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring.decode(_encode_by_hand(bytes(MIN_BITS // 8 - 1)))
    assert _code(exc_info) is VerifierCode.STATUS_LIST_LENGTH


@pytest.mark.parametrize(("length", "size"), [(MIN_BITS - 1, 1), (MIN_BITS // 2 - 1, 2), (0, 1)])
def test_constructor_refuses_lists_below_the_minimum(length: int, size: int) -> None:
    """BSL 3.3 step 1: "a list of bits with a minimum size of 16KB"."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring(length, size)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_LENGTH


def test_constructor_refuses_lists_past_the_cap() -> None:
    """We never publish a list our own verifier would refuse."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring(DEFAULT_MAX_BYTES * 8 + 8)
    assert _code(exc_info) is VerifierCode.STATUS_LIST_TOO_LARGE


@pytest.mark.parametrize("size", [0, 9, -1, True, 1.0, "1"])
def test_unsupported_status_size_is_refused(size: object) -> None:
    """BSL 2.1 statusSize: an integer > 0; certvc supports 1..8 (policy)."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring(MIN_BITS, size)  # type: ignore[arg-type]
    assert _code(exc_info) is VerifierCode.STATUS_VERIFICATION


@pytest.mark.parametrize("index", [-1, MIN_BITS, True, 1.0])
def test_get_outside_the_list_is_a_range_error(index: object) -> None:
    """BSL 3.2 step 10: an index outside the bitstring is a RANGE_ERROR."""
    with pytest.raises(StatusListError) as exc_info:
        Bitstring(MIN_BITS).get(index)  # type: ignore[arg-type]
    assert _code(exc_info) is VerifierCode.STATUS_RANGE


@pytest.mark.parametrize(("size", "value"), [(1, 2), (2, 4), (1, -1), (1, True)])
def test_set_value_must_fit_the_status_size(size: int, value: object) -> None:
    bitstring = Bitstring(MIN_BITS, size)
    with pytest.raises(StatusListError) as exc_info:
        bitstring.set(0, value)  # type: ignore[arg-type]
    assert _code(exc_info) is VerifierCode.STATUS_RANGE
    assert bitstring.get(0) == 0


# --- entries -----------------------------------------------------------------------------------


def test_spec_entry_parses() -> None:
    """BSL 2.1 Example 1."""
    assert parse_status_entry(SPEC_ENTRY) == StatusEntry(
        id="https://example.com/credentials/status/3#94567",
        purpose=StatusPurpose.REVOCATION,
        index=94567,
        list_url="https://example.com/credentials/status/3",
    )


def test_spec_message_entry_parses() -> None:
    """BSL 2.1 Example 2: statusSize 2 with four messages and a statusReference."""
    entry = parse_status_entry(SPEC_MESSAGE_ENTRY)
    assert entry.purpose is StatusPurpose.MESSAGE
    assert entry.status_size == 2
    assert entry.index == 492847
    assert entry.status_reference == ("https://example.org/status-dictionary/",)
    assert [entry.message_for(v) for v in range(4)] == [
        "pending_review",
        "accepted",
        "rejected",
        "undefined",
    ]


def test_entry_without_messages_uses_set_and_unset() -> None:
    """BSL 2.1 statusMessage: absent, 1 is "set" and 0 is "unset"."""
    entry = parse_status_entry(SPEC_ENTRY)
    assert entry.message_for(1) == "set"
    assert entry.message_for(0) == "unset"


def test_leading_zeros_are_still_base_10() -> None:
    assert parse_status_entry({**SPEC_ENTRY, "statusListIndex": "007"}).index == 7


@pytest.mark.parametrize(
    "index",
    ["-1", "+1", " 1", "1 ", "1\n", "1.0", "1e3", "0x10", "", "\u0661", "1_000", 1, None],
    ids=repr,
)
def test_status_list_index_must_be_a_decimal_string(index: object) -> None:
    """BSL 2.1 statusListIndex: a non-negative integer expressed as a base-10 string."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_entry({**SPEC_ENTRY, "statusListIndex": index})
    assert exc_info.value.prop == "statusListIndex"
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


@pytest.mark.parametrize(
    "index", ["9" * 5000, str(DEFAULT_MAX_BYTES * 8)], ids=["5000-digits", "cap"]
)
def test_absurd_index_is_a_range_error(index: str) -> None:
    """An index no accepted list can hold is refused before any list is fetched."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_entry({**SPEC_ENTRY, "statusListIndex": index})
    assert exc_info.value.code is VerifierCode.STATUS_RANGE


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"type": "StatusList2021Entry"}, "type"),
        ({"statusPurpose": "custom"}, "statusPurpose"),
        ({"statusPurpose": ["revocation"]}, "statusPurpose"),
        ({"statusListCredential": "status/3"}, "statusListCredential"),
        ({"statusListCredential": None}, "statusListCredential"),
        ({"id": "#94567"}, "id"),
        ({"id": SPEC_ENTRY["statusListCredential"]}, "id"),
        ({"statusSize": 0}, "statusSize"),
        ({"statusSize": "1"}, "statusSize"),
        ({"statusSize": 2}, "statusMessage"),
        ({"statusReference": "dictionary"}, "statusReference"),
        ({"statusReference": []}, "statusReference"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_entry_property_breaking_a_must_is_named(change: dict, prop: str) -> None:
    """BSL 2.1: each MUST of BitstringStatusListEntry, reported against its property."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_entry({**SPEC_ENTRY, **change})
    assert exc_info.value.prop == prop
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


def test_entry_must_be_an_object() -> None:
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_entry(["not", "an", "object"])
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


# --- statusMessage ------------------------------------------------------------------------------


def _messages(*statuses: str) -> list[dict[str, str]]:
    return [{"status": status, "message": f"m{status}"} for status in statuses]


def test_status_messages_are_looked_up_by_value_not_position() -> None:
    messages = parse_status_messages(_messages("0x3", "0x1", "0x0", "0x2"), 2)
    assert message_for(3, messages) == "m0x3"
    assert message_for(0, messages) == "m0x0"
    assert messages[0] == StatusMessage("0x3", "m0x3")


def test_status_message_hex_is_case_insensitive_and_may_carry_extra_properties() -> None:
    """BSL 2.1: elements MAY contain additional properties."""
    items = _messages(*[f"0x{v:X}" for v in range(16)])
    items[10]["note"] = "extra"
    messages = parse_status_messages(items, 4)
    assert message_for(10, messages) == "m0xA"


@pytest.mark.parametrize(
    ("items", "size", "prop"),
    [
        (_messages("0x0", "0x1", "0x2"), 2, "statusMessage"),
        (_messages("0x0", "0x1", "0x2", "0x3"), 1, "statusMessage"),
        ({"status": "0x0", "message": "x"}, 1, "statusMessage"),
        (_messages("0x0", "0x0"), 1, "statusMessage/1/status"),
        (_messages("0x0", "0x2"), 1, "statusMessage/1/status"),
        (_messages("0x0", "1"), 1, "statusMessage/1/status"),
        (_messages("0x0", "0X1"), 1, "statusMessage/1/status"),
        (
            [{"status": "0x0", "message": "a"}, {"status": "0x1", "message": 1}],
            1,
            "statusMessage/1/message",
        ),
        (["0x0", "0x1"], 1, "statusMessage/0"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_status_message_rules(items: object, size: int, prop: str) -> None:
    """BSL 2.1 statusMessage: 2**statusSize objects, each with "0x" status and a message."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_messages(items, size)
    assert exc_info.value.prop == prop
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


def test_status_message_may_accompany_status_size_1() -> None:
    """BSL 2.1: statusMessage MAY be present when statusSize is 1."""
    entry = parse_status_entry(
        {
            **SPEC_ENTRY,
            "statusMessage": [
                {"status": "0x0", "message": "valid"},
                {"status": "0x1", "message": "revoked"},
            ],
        }
    )
    assert entry.message_for(1) == "revoked"


# --- list subject and the check against the list ----------------------------------------------


def test_list_subject_with_several_purposes_and_ttl() -> None:
    """BSL 2.2: statusPurpose is one or more strings; ttl is milliseconds."""
    subject = {
        **SPEC_LIST_CREDENTIAL["credentialSubject"],
        "statusPurpose": ["revocation", "suspension"],
        "ttl": 300_000,
    }
    parsed = parse_status_list_subject(subject)
    assert parsed.purposes == (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    assert parsed.ttl_ms == 300_000
    assert parsed.encoded_list == subject["encodedList"]


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"type": "StatusList2021"}, "credentialSubject/type"),
        ({"statusPurpose": []}, "credentialSubject/statusPurpose"),
        ({"statusPurpose": "custom"}, "credentialSubject/statusPurpose"),
        ({"statusPurpose": None}, "credentialSubject/statusPurpose"),
        ({"encodedList": None}, "credentialSubject/encodedList"),
        ({"ttl": -1}, "credentialSubject/ttl"),
        ({"ttl": 1.5}, "credentialSubject/ttl"),
        ({"ttl": True}, "credentialSubject/ttl"),
        ({"ttl": "1000"}, "credentialSubject/ttl"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_list_subject_rules(change: dict, prop: str) -> None:
    """BSL 2.2 BitstringStatusListCredential subject properties."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_list_subject({**SPEC_LIST_CREDENTIAL["credentialSubject"], **change})
    assert exc_info.value.prop == prop
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


def test_list_credential_must_say_it_is_one() -> None:
    """BSL 2.1 statusListCredential: its type MUST include BitstringStatusListCredential."""
    with pytest.raises(StatusPropertyError) as exc_info:
        parse_status_list_credential({**SPEC_LIST_CREDENTIAL, "type": ["VerifiableCredential"]})
    assert exc_info.value.prop == "type"
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION


def test_purpose_mismatch_is_a_verification_error() -> None:
    """BSL 3.2 step 5: the entry's purpose must be one of the list's."""
    entry = parse_status_entry(SPEC_ENTRY)
    with pytest.raises(StatusListError) as exc_info:
        check_entry_against_list(entry, Bitstring(MIN_BITS), (StatusPurpose.SUSPENSION,))
    assert _code(exc_info) is VerifierCode.STATUS_VERIFICATION


def test_index_past_the_list_is_a_range_error() -> None:
    """BSL 3.2 step 10: RANGE_ERROR when the index is outside the bitstring."""
    entry = parse_status_entry({**SPEC_ENTRY, "statusListIndex": str(MIN_BITS)})
    with pytest.raises(StatusListError) as exc_info:
        check_entry_against_list(entry, Bitstring(MIN_BITS), (StatusPurpose.REVOCATION,))
    assert _code(exc_info) is VerifierCode.STATUS_RANGE


def test_status_size_mismatch_is_a_verification_error() -> None:
    """A list decoded with another statusSize than the entry's cannot answer for it."""
    entry = parse_status_entry(SPEC_MESSAGE_ENTRY)
    with pytest.raises(StatusListError) as exc_info:
        check_entry_against_list(entry, Bitstring(MIN_BITS * 4), (StatusPurpose.MESSAGE,))
    assert _code(exc_info) is VerifierCode.STATUS_VERIFICATION


def test_multi_bit_value_and_its_message() -> None:
    """BSL 3.2 steps 10-14: status value and, for purpose message, its message."""
    entry = parse_status_entry({**SPEC_MESSAGE_ENTRY, "statusListIndex": "5"})
    case = next(c for c in CASES if c["statusSize"] == 2)
    bitstring = Bitstring.decode(case["encodedList"], status_size=2)
    value = check_entry_against_list(entry, bitstring, (StatusPurpose.MESSAGE,))
    assert value == 2
    assert entry.message_for(value) == "rejected"
