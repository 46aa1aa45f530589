"""VC Data Model 2.0 shape rules (verifier/shape.py) .

Every rule has a "fails when ..." case that changes one thing in a valid Open Badges 3.0
credential and expects exactly one problem, at the right path, with the right code.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.compiled import read_shape
from contexts.errors import Code, ErrorCode, ShapeError
from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier.errors import VerifierCode
from verifier.model.shape import Mode, ShapeProblem, shape_problems, validate_credential_shape
from verifier.samples import certification_credential

MALFORMED = ErrorCode.CREDENTIAL_MALFORMED

# Open Badges 3.0 (1EdTech) OpenBadgeCredential, as certvc issues it.
OPEN_BADGE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:5f0b8d3c-1c1e-4a5e-9c52-0d2f0f7a9b11",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {
        "id": "did:web:certs.example.org",
        "type": ["Profile"],
        "name": "Example Certification Body",
    },
    "validFrom": "2025-01-15T00:00:00Z",
    "validUntil": "2028-01-14T23:59:59Z",
    "name": "Certified Welding Inspector",
    "description": [
        {"@value": "Certified Welding Inspector", "@language": "en"},
        {"@value": "Inspecteur en soudage certifié", "@language": "fr-CA", "@direction": "ltr"},
    ],
    "credentialSubject": {
        "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://certs.example.org/schemes/cwi",
            "type": ["Achievement"],
            "name": "Certified Welding Inspector",
            "description": "Personnel certification under ISO/IEC 17024.",
            "criteria": {"narrative": "Passed the written and practical examinations."},
        },
    },
    "credentialStatus": {
        "id": "https://certs.example.org/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://certs.example.org/status/1",
    },
    "credentialSchema": [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
            "ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ],
}

PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2025-01-15T00:00:00Z",
    "verificationMethod": "did:web:certs.example.org#key-1",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFe"
    "hP8c3PGfb6a22gkfUKKNUgpNqC1LHjHNq",
}


def badge(**changes: Any) -> dict[str, Any]:
    """A deep copy of the valid badge with top-level changes; a value of ``...`` deletes."""
    credential = copy.deepcopy(OPEN_BADGE)
    for key, value in changes.items():
        key = {"context": "@context"}.get(key, key)
        if value is ...:
            del credential[key]
        else:
            credential[key] = value
    return credential


def where(problems: tuple[ShapeProblem, ...]) -> list[tuple[str, Code]]:
    return [(problem.path, problem.code) for problem in problems]


# --- the valid credential ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(Mode))
def test_open_badge_passes_in_both_modes(mode: Mode) -> None:
    """VC 2.0 + Open Badges 3.0: the credential certvc issues breaks no shape rule."""
    assert shape_problems(OPEN_BADGE, mode) == ()
    validate_credential_shape(OPEN_BADGE, mode)


@pytest.mark.parametrize("mode", list(Mode))
def test_signed_credential_passes_in_both_modes(mode: Mode) -> None:
    """A proof is allowed when issuing (proof sets) and when verifying."""
    assert shape_problems(badge(proof=PROOF), mode) == ()
    assert shape_problems(badge(proof=[PROOF, PROOF]), mode) == ()


def test_proof_is_not_required_by_shape_when_verifying() -> None:
    """The proof check reports a missing proof; shape stays about structure."""
    assert "proof" not in OPEN_BADGE
    assert shape_problems(OPEN_BADGE, Mode.VERIFY) == ()


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "did:web:certs.example.org"},
        {"credentialSubject": [OPEN_BADGE["credentialSubject"], {"type": "Person", "age": 3}]},
        {"id": ...},
        {"validFrom": ..., "validUntil": ...},
        {"validFrom": "2025-01-15T00:00:00+01:00", "validUntil": "2025-01-14T23:00:00Z"},
        {"context": [*OPEN_BADGE["@context"], {"ex": "https://example.org/#"}]},
        {"type": ["OpenBadgeCredential", "VerifiableCredential"]},
        {"name": {"@value": "CWI"}},
        {"evidence": [{"type": ["Evidence"], "id": "https://certs.example.org/e/1"}]},
        {"termsOfUse": {"type": "TrustFrameworkPolicy"}},
        {"refreshService": {"type": "VerifiableCredentialRefreshService2021", "id": "https://r"}},
        {"credentialStatus": {"type": "RevocationList2020Status"}},
        {
            "credentialStatus": {
                "id": "https://certs.example.org/status/3#94567",
                "type": "StatusList2021Entry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": "https://certs.example.org/status/3",
            }
        },
    ],
    ids=lambda change: "+".join(change),
)
def test_other_valid_shapes_pass(change: dict[str, Any]) -> None:
    """VC 2.0: the alternatives each rule allows (issuer URL, subject list, no id, equal times)."""
    assert shape_problems(badge(**change), Mode.ISSUE) == ()


# --- one named failing case per rule ----------------------------------------------------------

FAILS: list[tuple[str, dict[str, Any], str, Code]] = [
    # VC 2.0 §4.3 Contexts
    ("context_missing", {"context": ...}, "/@context", MALFORMED),
    (
        "context_is_a_string",
        {"context": "https://www.w3.org/ns/credentials/v2"},
        "/@context",
        MALFORMED,
    ),
    ("context_is_empty", {"context": []}, "/@context", MALFORMED),
    ("context_v2_not_first", {"context": OPEN_BADGE["@context"][::-1]}, "/@context/0", MALFORMED),
    (
        "vc_1_1_without_issuance_date",  # VC 1.1 §4.6: issuanceDate is required
        {"context": ["https://www.w3.org/2018/credentials/v1"]},
        "/issuanceDate",
        MALFORMED,
    ),
    (
        "context_item_relative",
        {"context": [OPEN_BADGE["@context"][0], "ob/context.json"]},
        "/@context/1",
        MALFORMED,
    ),
    ("context_item_number", {"context": [OPEN_BADGE["@context"][0], 3]}, "/@context/1", MALFORMED),
    # VC 2.0 §4.5 Types
    ("type_missing", {"type": ...}, "/type", MALFORMED),
    ("type_lacks_verifiable_credential", {"type": "OpenBadgeCredential"}, "/type", MALFORMED),
    ("type_empty_list", {"type": []}, "/type", MALFORMED),
    ("type_not_strings", {"type": ["VerifiableCredential", 7]}, "/type", MALFORMED),
    # VC 2.0 §4.4 Identifiers
    ("id_not_a_url", {"id": "5f0b8d3c"}, "/id", MALFORMED),
    ("id_is_a_list", {"id": ["urn:uuid:5f0b8d3c"]}, "/id", MALFORMED),
    ("id_has_a_space", {"id": "https://example.org/a b"}, "/id", MALFORMED),
    # VC 2.0 §4.7 Issuer
    ("issuer_missing", {"issuer": ...}, "/issuer", MALFORMED),
    ("issuer_not_a_url", {"issuer": "certs.example.org"}, "/issuer", MALFORMED),
    (
        "issuer_object_without_id",
        {"issuer": {"type": "Profile", "name": "X"}},
        "/issuer/id",
        MALFORMED,
    ),
    ("issuer_number", {"issuer": 42}, "/issuer", MALFORMED),
    # VC 2.0 §4.8 Credential Subject
    ("subject_missing", {"credentialSubject": ...}, "/credentialSubject", MALFORMED),
    ("subject_empty_list", {"credentialSubject": []}, "/credentialSubject", MALFORMED),
    ("subject_empty_object", {"credentialSubject": {}}, "/credentialSubject", MALFORMED),
    (
        "subject_list_item_not_object",
        {"credentialSubject": [{"name": "A"}, "B"]},
        "/credentialSubject/1",
        MALFORMED,
    ),
    (
        "subject_id_not_a_url",
        {"credentialSubject": {"id": "alice", "name": "A"}},
        "/credentialSubject/id",
        MALFORMED,
    ),
    # VC 2.0 §4.6 Validity Period
    ("valid_from_month_13", {"validFrom": "2024-13-01T00:00:00Z"}, "/validFrom", MALFORMED),
    ("valid_from_no_time_zone", {"validFrom": "2025-01-15T00:00:00"}, "/validFrom", MALFORMED),
    ("valid_until_not_a_string", {"validUntil": 1736899200}, "/validUntil", MALFORMED),
    (
        "valid_until_before_valid_from",
        {"validUntil": "2025-01-14T23:59:59Z"},
        "/validUntil",
        MALFORMED,
    ),
    # VC 2.0 §4.10 Status, §4.11 Data Schemas, §5.x: typed objects
    (
        "status_without_type",
        {"credentialStatus": {"id": "https://s/1#2"}},
        "/credentialStatus/type",
        MALFORMED,
    ),
    ("status_empty_list", {"credentialStatus": []}, "/credentialStatus", MALFORMED),
    ("status_not_object", {"credentialStatus": "https://s/1#2"}, "/credentialStatus", MALFORMED),
    (
        "status_second_item_without_type",
        {"credentialStatus": [OPEN_BADGE["credentialStatus"], {}]},
        "/credentialStatus/1/type",
        MALFORMED,
    ),
    (
        "status_id_relative",
        {"credentialStatus": {"type": "X", "id": "#2"}},
        "/credentialStatus/id",
        MALFORMED,
    ),
    (
        "schema_without_id",
        {"credentialSchema": {"type": "JsonSchema"}},
        "/credentialSchema/id",
        MALFORMED,
    ),
    (
        "schema_type_empty",
        {"credentialSchema": {"type": [], "id": "https://s"}},
        "/credentialSchema/type",
        MALFORMED,
    ),
    ("evidence_without_type", {"evidence": [{"id": "https://e/1"}]}, "/evidence/0/type", MALFORMED),
    (
        "terms_of_use_without_type",
        {"termsOfUse": {"id": "https://t/1"}},
        "/termsOfUse/type",
        MALFORMED,
    ),
    (
        "refresh_service_without_type",
        {"refreshService": {"id": "https://r"}},
        "/refreshService/type",
        MALFORMED,
    ),
    ("proof_not_object", {"proof": "z3FXQ"}, "/proof", MALFORMED),
    (
        "proof_without_type",
        {"proof": {k: v for k, v in PROOF.items() if k != "type"}},
        "/proof/type",
        MALFORMED,
    ),
    # Bitstring Status List 2.1, through credentialStatus
    (
        "bitstring_entry_bad_index",
        {"credentialStatus": {**OPEN_BADGE["credentialStatus"], "statusListIndex": "-1"}},
        "/credentialStatus/statusListIndex",
        VerifierCode.STATUS_VERIFICATION,
    ),
    (
        "bitstring_entry_unknown_purpose",
        {"credentialStatus": [{**OPEN_BADGE["credentialStatus"], "statusPurpose": "x"}]},
        "/credentialStatus/0/statusPurpose",
        VerifierCode.STATUS_VERIFICATION,
    ),
    (
        "bitstring_entry_absurd_index",
        {"credentialStatus": {**OPEN_BADGE["credentialStatus"], "statusListIndex": "9" * 40}},
        "/credentialStatus/statusListIndex",
        VerifierCode.STATUS_RANGE,
    ),
    (
        "bitstring_entry_bad_message",
        {
            "credentialStatus": {
                **OPEN_BADGE["credentialStatus"],
                "statusMessage": [
                    {"status": "0x0", "message": "ok"},
                    {"status": "1", "message": "no"},
                ],
            }
        },
        "/credentialStatus/statusMessage/1/status",
        VerifierCode.STATUS_VERIFICATION,
    ),
    # VC 2.0 §11.1 Language and Base Direction
    ("name_number", {"name": 5}, "/name", MALFORMED),
    ("name_empty_list", {"name": []}, "/name", MALFORMED),
    ("name_value_not_string", {"name": {"@value": 5}}, "/name/@value", MALFORMED),
    (
        "name_bad_language_tag",
        {"name": {"@value": "CWI", "@language": "en US"}},
        "/name/@language",
        MALFORMED,
    ),
    (
        "name_bad_direction",
        {"name": {"@value": "CWI", "@direction": "up"}},
        "/name/@direction",
        MALFORMED,
    ),
    ("name_extra_key", {"name": {"@value": "CWI", "@type": "xsd:string"}}, "/name", MALFORMED),
    (
        "description_second_item_bad",
        {"description": ["ok", {"@language": "en"}]},
        "/description/1/@value",
        MALFORMED,
    ),
    (
        "issuer_name_bad",
        {"issuer": {"id": "did:web:x", "name": ["A", 1]}},
        "/issuer/name/1",
        MALFORMED,
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        pytest.param(change, path, code, id=f"fails_when_{name}")
        for name, change, path, code in FAILS
    ],
)
@pytest.mark.parametrize("mode", list(Mode))
def test_rule(change: dict[str, Any], path: str, code: Code, mode: Mode) -> None:
    """VC 2.0 shape rules (sections in the case list): one change, one problem, right place."""
    assert where(shape_problems(badge(**change), mode)) == [(path, code)]


@pytest.mark.parametrize("value", [[], "credential", 3, None, True])
def test_fails_when_credential_is_not_an_object(value: object) -> None:
    """VC 2.0 §4: a credential is a JSON object."""
    assert where(shape_problems(value, Mode.VERIFY)) == [("", MALFORMED)]


def test_an_unknown_base_context_names_both_versions() -> None:
    """VC 2.0 §4.3 / VC 1.1 §4.1: the first context is one of the two base contexts."""
    (problem,) = shape_problems(badge(context=["https://example.org/credentials/v3"]), Mode.VERIFY)
    assert problem.path == "/@context/0"
    assert "2.0" in problem.message and "1.1" in problem.message


def test_a_subject_with_only_an_id_is_allowed_on_both_sides() -> None:
    """VC 2.0 §4.8 (credentialSubject: "one or more objects", each "MAY contain an id"), whose
    examples include an id-only subject: the generic signer and the VC API sign what the
    specification allows, and the verifier accepts it (issue 14). An empty subject is refused."""
    credential = badge(credentialSubject={"id": "did:example:alice"})
    assert shape_problems(credential, Mode.ISSUE) == ()
    assert shape_problems(credential, Mode.VERIFY) == ()
    empty = badge(credentialSubject={})
    for mode in Mode:
        assert where(shape_problems(empty, mode)) == [("/credentialSubject", MALFORMED)]


def test_problems_are_all_reported() -> None:
    """shape_problems lists every broken rule, not just the first."""
    credential = badge(type="Badge", issuer="x", validFrom="yesterday")
    assert where(shape_problems(credential, Mode.VERIFY)) == [
        ("/type", MALFORMED),
        ("/issuer", MALFORMED),
        ("/validFrom", MALFORMED),
    ]


def test_validate_raises_the_first_problem_and_counts_the_rest() -> None:
    credential = badge(type="Badge", issuer="x", validFrom="yesterday")
    with pytest.raises(ShapeError) as exc_info:
        validate_credential_shape(credential, Mode.ISSUE)
    assert exc_info.value.path == "/type"
    assert exc_info.value.code is MALFORMED
    assert "and 2 more problems" in exc_info.value.message


def test_validate_carries_the_status_code_of_a_bad_entry() -> None:
    credential = badge(credentialStatus={**OPEN_BADGE["credentialStatus"], "statusSize": 2})
    with pytest.raises(ShapeError) as exc_info:
        validate_credential_shape(credential, Mode.ISSUE)
    assert exc_info.value.path == "/credentialStatus/statusMessage"
    assert exc_info.value.code is VerifierCode.STATUS_VERIFICATION
    assert "more problem" not in exc_info.value.message


# --- never raises ---------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["https://www.w3.org/ns/credentials/v2", "BitstringStatusListEntry", "0x1"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = [*OPEN_BADGE, "proof", "evidence", "termsOfUse", "refreshService", "description"]


@settings(max_examples=150, deadline=None)
@given(value=_JSON, mode=st.sampled_from(list(Mode)))
def test_shape_problems_never_raises_on_any_json(value: object, mode: Mode) -> None:
    problems = shape_problems(value, mode)
    assert isinstance(problems, tuple)
    assert all(isinstance(problem, ShapeProblem) for problem in problems)


_STATUS_KEYS = [*OPEN_BADGE["credentialStatus"], "statusSize", "statusMessage", "statusReference"]


@settings(max_examples=150, deadline=None)
@given(
    replacements=st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=4),
    status=st.dictionaries(st.sampled_from(_STATUS_KEYS), _JSON, max_size=3),
    mode=st.sampled_from(list(Mode)),
)
def test_shape_problems_never_raises_on_mutated_credentials(
    replacements: dict[str, Any], status: dict[str, Any], mode: Mode
) -> None:
    """Fuzz close to a real credential so the deeper rules (status entries) are reached."""
    credential = badge()
    credential["credentialStatus"].update(status)
    credential.update(replacements)
    problems = shape_problems(credential, mode)
    assert all(isinstance(problem, ShapeProblem) for problem in problems)
    if problems:
        with pytest.raises(ShapeError):
            validate_credential_shape(credential, mode)
    else:
        validate_credential_shape(credential, mode)


def test_issue_mode_refuses_numbers_the_reference_misreads() -> None:
    """jsonld.js 9 reads 1e-7 as "0"^^xsd:integer (see tests/interop): we never sign one."""
    credential = copy.deepcopy(OPEN_BADGE)
    credential["credentialSubject"]["achievement"]["resultDescription"] = [{"value": 1e-7}]
    problems = shape_problems(credential, Mode.ISSUE)
    assert [p.path for p in problems] == [
        "/credentialSubject/achievement/resultDescription/0/value"
    ]
    assert shape_problems(credential, Mode.VERIFY) == ()
    credential["credentialSubject"]["achievement"]["resultDescription"] = [{"value": 0.5}]
    assert shape_problems(credential, Mode.ISSUE) == ()


@pytest.mark.parametrize("suite", ["vc+jwt", "eddsa-rdfc-2022"])
def test_signing_refuses_a_tiny_number_whatever_the_suite(suite: str) -> None:
    """vc+jwt signing skips the number walk when read_shape accepted the credential; one holding
    a number is never accepted by read_shape, so the rule still runs."""
    pair = KeyPair.generate(KeyType.ED25519)
    credential = certification_credential(pair.public_key.did_key, valid_from=datetime.now(UTC))
    credential["credentialSubject"]["achievement"]["resultDescription"] = [{"value": 1e-7}]
    options = ProofOptions(created=datetime.now(UTC))
    with pytest.raises(ShapeError) as caught:
        sign_credential(
            credential,
            pair.signer(),
            suite,
            store=default_store(),
            options=options,
            canonicalizer=FAST,
        )
    assert caught.value.path == "/credentialSubject/achievement/resultDescription/0/value"


_JSON_NUMBER = st.integers() | st.floats(allow_nan=False) | st.none()


@settings(max_examples=200, deadline=None)
@given(path=st.lists(st.sampled_from(["a", "b", 0]), max_size=5), number=_JSON_NUMBER)
def test_read_shape_never_accepts_a_number_or_null(path: list[Any], number: object) -> None:
    """What sign_credential relies on to skip the number rule's walk (contexts.compiled)."""
    document: dict[str, Any] = copy.deepcopy(OPEN_BADGE)
    value: Any = number
    for step in reversed(path):  # wrap the number at a random depth in lists and objects
        value = [value] if step == 0 else {step: value}
    document["credentialSubject"]["extra"] = value
    assert read_shape(copy.deepcopy(OPEN_BADGE)) is not None  # the same credential without it
    assert read_shape(document) is None
