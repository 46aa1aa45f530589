"""The codes and errors of verification: validity, status lists, fetching, QR input, trust.

They arise in ``verifier`` (STYLE §6); most are reasons of a failed check, some are raised.
The strings are public API.
"""

from __future__ import annotations

from contexts.errors import CertvcError, Code


class VerifierCode(Code):
    #: The DID document could not be fetched (network, timeout, refused): cannot check now.
    DID_UNAVAILABLE = "did_unavailable"
    ISSUER_MISMATCH = "issuer_mismatch"
    #: VC 2.0 §5.3: a relatedResource that is a pinned context has another digest.
    RELATED_RESOURCE_DIGEST_MISMATCH = "related_resource_digest_mismatch"
    # validity
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
    # QR codes and images (verifier issue 6)
    QR_PAYLOAD_INVALID = "qr_payload_invalid"
    #: The text does not fit in the largest QR code (``verifier.qr_symbol``).
    QR_PAYLOAD_TOO_LARGE = "qr_payload_too_large"
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


class StatusListError(CertvcError):
    code = VerifierCode.STATUS_LIST_DECODE
