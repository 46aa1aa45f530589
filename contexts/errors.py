"""The one error hierarchy of certvc, with stable machine codes.

It lives in the lowest package so every layer (contexts <- keys <- verifier <- issuer) can raise
and map the same errors. Codes are public API: CLI exit codes and HTTP statuses are derived from
them in the adapters, never from message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    # input
    INPUT_UNUSABLE = "input_unusable"
    INPUT_TOO_LARGE = "input_too_large"
    INPUT_TOO_DEEP = "input_too_deep"
    # contexts and JSON-LD
    CONTEXT_NOT_ALLOWED = "context_not_allowed"
    CONTEXT_INTEGRITY = "context_integrity"
    JSONLD_UNSAFE = "jsonld_unsafe"
    JSONLD_INVALID = "jsonld_invalid"
    PROTECTED_TERM_REDEFINITION = "protected_term_redefinition"
    CANONICALIZATION_LIMIT = "canonicalization_limit"
    # keys
    KEY_INVALID = "key_invalid"
    KEY_UNSUPPORTED = "key_unsupported"
    KEY_NOT_FOUND = "key_not_found"
    PASSPHRASE_REQUIRED = "passphrase_required"
    PASSPHRASE_WRONG = "passphrase_wrong"
    PLAINTEXT_KEY_REFUSED = "plaintext_key_refused"
    DID_INVALID = "did_invalid"
    DID_UNRESOLVABLE = "did_unresolvable"
    #: The DID document could not be fetched (network, timeout, refused): cannot check now.
    DID_UNAVAILABLE = "did_unavailable"
    # proofs
    SUITE_NOT_ALLOWED = "suite_not_allowed"
    MALFORMED_PROOF = "malformed_proof"
    PROOF_GENERATION = "proof_generation"
    SIGNATURE_INVALID = "signature_invalid"
    PROOF_EXPIRED = "proof_expired"
    PROOF_PURPOSE_MISMATCH = "proof_purpose_mismatch"
    INVALID_DOMAIN = "invalid_domain"
    INVALID_CHALLENGE = "invalid_challenge"
    VERIFICATION_METHOD_UNRESOLVABLE = "verification_method_unresolvable"
    ISSUER_MISMATCH = "issuer_mismatch"
    JWT_MALFORMED = "jwt_malformed"
    JWT_ALG_NOT_ALLOWED = "jwt_alg_not_allowed"
    JWT_CLAIM_MISMATCH = "jwt_claim_mismatch"
    # credential shape and validity
    CREDENTIAL_MALFORMED = "credential_malformed"
    CREDENTIAL_EXPIRED = "credential_expired"
    CREDENTIAL_NOT_YET_VALID = "credential_not_yet_valid"
    # status lists (Bitstring Status List 1.0 names in comments)
    STATUS_LIST_DECODE = "status_list_decode"  # STATUS_VERIFICATION_ERROR
    STATUS_LIST_TOO_LARGE = "status_list_too_large"
    STATUS_LIST_LENGTH = "status_list_length"  # STATUS_LIST_LENGTH_ERROR
    STATUS_RANGE = "status_range"  # RANGE_ERROR
    STATUS_RETRIEVAL = "status_retrieval"  # STATUS_RETRIEVAL_ERROR
    STATUS_VERIFICATION = "status_verification"  # STATUS_VERIFICATION_ERROR
    STATUS_REVOKED = "status_revoked"
    STATUS_SUSPENDED = "status_suspended"
    # wallet export (QR, PDF, baked badges, OpenID4VCI)
    QR_PAYLOAD_TOO_LARGE = "qr_payload_too_large"
    IMAGE_INVALID = "image_invalid"
    BADGE_ALREADY_BAKED = "badge_already_baked"
    BADGE_NOT_BAKED = "badge_not_baked"
    FONT_MISSING_GLYPH = "font_missing_glyph"
    CREDENTIAL_NOT_FOUND = "credential_not_found"
    TOOL_UNAVAILABLE = "tool_unavailable"
    OID4VCI_REFUSED = "oid4vci_refused"
    # QR codes and images (verifier issue 6)
    QR_PAYLOAD_INVALID = "qr_payload_invalid"
    QR_NOT_FOUND = "qr_not_found"
    IMAGE_UNSUPPORTED = "image_unsupported"
    LINK_NEEDS_FETCH = "link_needs_fetch"
    # fetching status lists, DID documents and linked credentials
    FETCH_REFUSED = "fetch_refused"
    FETCH_FAILED = "fetch_failed"
    FETCH_TIMEOUT = "fetch_timeout"
    FETCH_TOO_LARGE = "fetch_too_large"
    FETCH_CONTENT_TYPE = "fetch_content_type"
    FETCH_OFFLINE = "fetch_offline"
    # trust lists
    ISSUER_NOT_TRUSTED = "issuer_not_trusted"
    ACCREDITATION_NOT_CURRENT = "accreditation_not_current"
    TRUST_LIST_INVALID = "trust_list_invalid"
    # the web API
    RATE_LIMITED = "rate_limited"
    REQUEST_TOO_LARGE = "request_too_large"
    # (not_found, method_not_allowed and internal_error are shared with the issuer's codes below)
    # the issuer service (issue 5)
    FIELD_INVALID = "field_invalid"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_REFERENCE = "unknown_reference"
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    CONFLICT = "conflict"
    AUTH_REQUIRED = "auth_required"
    AUTH_FORBIDDEN = "auth_forbidden"
    CSRF_INVALID = "csrf_invalid"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    AUDIT_CHAIN_BROKEN = "audit_chain_broken"
    INSTANCE_NOT_READY = "instance_not_ready"
    INTERNAL_ERROR = "internal_error"


class CertvcError(Exception):
    """Root of every error certvc raises on purpose.

    ``message`` is for people; ``code`` is for programs. Messages never carry key material.
    """

    code: ClassVar[ErrorCode] = ErrorCode.INPUT_UNUSABLE

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance refinement of the class code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputError(CertvcError):
    """The input cannot be used at all (not JSON, not a credential, too big, too deep)."""

    code = ErrorCode.INPUT_UNUSABLE


class ContextNotAllowed(CertvcError):
    """A JSON-LD context that is not pinned was requested; ``url`` names it."""

    code = ErrorCode.CONTEXT_NOT_ALLOWED

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context not allowed (not pinned): {url}")
        self.url = url


class ContextIntegrityError(CertvcError):
    code = ErrorCode.CONTEXT_INTEGRITY


class JsonLdError(CertvcError):
    """JSON-LD processing refused the document; ``term`` names the offending term when known."""

    code = ErrorCode.JSONLD_UNSAFE

    def __init__(
        self, message: str, *, term: str | None = None, code: ErrorCode | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.term = term


class CanonicalizationLimit(CertvcError):
    code = ErrorCode.CANONICALIZATION_LIMIT


class KeyMaterialError(CertvcError):
    """Bad, unsupported or unavailable key material. Never carries the material itself."""

    code = ErrorCode.KEY_INVALID


class DidError(CertvcError):
    code = ErrorCode.DID_INVALID


class ProofError(CertvcError):
    code = ErrorCode.MALFORMED_PROOF


class ShapeError(CertvcError):
    """The credential breaks a VC Data Model 2.0 shape rule; ``path`` points at the culprit."""

    code = ErrorCode.CREDENTIAL_MALFORMED

    def __init__(self, message: str, *, path: str = "", code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)
        self.path = path


class StatusListError(CertvcError):
    code = ErrorCode.STATUS_LIST_DECODE


class SafeModeEvent(StrEnum):
    """The warnings Digital Bazaar's jsonld.js "safe mode" turns into errors (lib/events.js).

    Each is a case where plain JSON-LD processing silently drops or leaves relative data, so
    the signed RDF would not say what the JSON shows. Values are jsonld.js's event codes.
    """

    # expansion and context processing
    EMPTY_OBJECT = "empty object"
    FREE_FLOATING_SCALAR = "free-floating scalar"
    INVALID_LANGUAGE = "invalid @language value"
    INVALID_PROPERTY = "invalid property"
    NULL_ID = "null @id value"
    NULL_VALUE = "null @value value"
    ONLY_ID = "object with only @id"
    ONLY_LANGUAGE = "object with only @language"
    ONLY_LIST = "object with only @list"
    ONLY_VALUE = "object with only @value"
    RELATIVE_ID = "relative @id reference"
    RELATIVE_TYPE = "relative @type reference"
    RELATIVE_VOCAB = "relative @vocab reference"
    RESERVED_ID = "reserved @id value"
    RESERVED_REVERSE = "reserved @reverse value"
    RESERVED_TERM = "reserved term"
    # toRDF
    BLANK_NODE_PREDICATE = "blank node predicate"
    RELATIVE_GRAPH = "relative graph reference"
    RELATIVE_OBJECT = "relative object reference"
    RELATIVE_PREDICATE = "relative predicate reference"
    RELATIVE_SUBJECT = "relative subject reference"
    RDF_DIRECTION_NOT_SET = "rdfDirection not set"


class UnsafeJsonLd(JsonLdError):
    """JSON-LD safe mode refused the document; ``event`` says why, ``term`` names the culprit."""

    code = ErrorCode.JSONLD_UNSAFE

    def __init__(self, event: SafeModeEvent, message: str, *, term: str | None = None) -> None:
        named = f" {term!r}" if term is not None else ""
        super().__init__(f"{event}{named}: {message}", term=term)
        self.event = event
