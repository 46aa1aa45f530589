"""Protocol errors with the codes OpenID4VCI 1.0 and OAuth 2.0 name.

The spec strings live only here; the web layer turns an :class:`Oid4vciError` into the JSON
error response (``error``, ``error_description``) and picks the HTTP status by the code.
"""

from __future__ import annotations

import re
from enum import StrEnum

from contexts.errors import CertvcError

from ..errors import WalletCode


class OAuthErrorCode(StrEnum):
    # Token endpoint: RFC 6749 §5.2, with OpenID4VCI 1.0 §6.3's meanings
    INVALID_REQUEST = "invalid_request"
    INVALID_GRANT = "invalid_grant"
    INVALID_CLIENT = "invalid_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    # Credential endpoint, authorization: RFC 6750 §3.1
    INVALID_TOKEN = "invalid_token"
    # Credential endpoint, request: OpenID4VCI 1.0 §8.3.1.2
    INVALID_CREDENTIAL_REQUEST = "invalid_credential_request"
    UNKNOWN_CREDENTIAL_CONFIGURATION = "unknown_credential_configuration"
    UNKNOWN_CREDENTIAL_IDENTIFIER = "unknown_credential_identifier"
    INVALID_PROOF = "invalid_proof"
    INVALID_NONCE = "invalid_nonce"
    CREDENTIAL_REQUEST_DENIED = "credential_request_denied"
    # Credential offer by reference: not an OAuth error, a missing resource
    OFFER_NOT_FOUND = "offer_not_found"


#: RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"' nor '\').
_DESCRIPTION_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class Oid4vciError(CertvcError):
    """A request the issuer refuses; ``error`` is the protocol's code."""

    code = WalletCode.OID4VCI_REFUSED

    def __init__(self, error: OAuthErrorCode, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = _DESCRIPTION_UNSAFE.sub("?", description)[:300]

    def to_json(self) -> dict[str, str]:
        return {"error": self.error.value, "error_description": self.description}
