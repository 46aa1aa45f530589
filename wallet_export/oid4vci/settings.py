"""What an OpenID4VCI issuer publishes: its identifier, endpoints and credential configurations.

Metadata shapes follow OpenID4VCI 1.0 §12.2 (Credential Issuer Metadata) and Appendix A.1
(W3C VC format profiles ``ldp_vc`` and ``jwt_vc_json``), and RFC 8414 for the authorization
server metadata with the pre-authorized grant (OpenID4VCI 1.0 §12.3). Well-known URLs are
formed by inserting the well-known segment between host and path (§12.2.2, RFC 8414 §3.1).

``jwt_vc_json`` carries our vc+jwt (VC-JOSE-COSE: the JWS payload is the VC 2.0 credential
itself, ``typ: vc+jwt``), the profile wallets use for JWT-secured W3C credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from contexts.errors import CertvcError
from keys.suites import vc_jwt
from verifier.samples import OB_V3, VC_V2

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
#: Key proof algorithms: our three signature key types, never ``none`` or HMAC.
PROOF_ALGORITHMS = ("EdDSA", "ES256", "ES384")
BINDING_METHODS = ("did:key", "did:jwk")
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")


class CredentialFormat(StrEnum):
    LDP_VC = "ldp_vc"
    JWT_VC_JSON = "jwt_vc_json"


@dataclass(frozen=True)
class CredentialConfiguration:
    """One entry of ``credential_configurations_supported``."""

    id: str
    format: CredentialFormat
    signing_algorithms: tuple[str, ...]
    display_name: str
    locale: str = "en"
    types: tuple[str, ...] = CREDENTIAL_TYPES
    contexts: tuple[str, ...] = (VC_V2, OB_V3)

    def metadata(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": list(self.types)}
        if self.format is CredentialFormat.LDP_VC:
            definition = {"@context": list(self.contexts), **definition}
        return {
            "format": self.format.value,
            "scope": self.id,
            "cryptographic_binding_methods_supported": list(BINDING_METHODS),
            "credential_signing_alg_values_supported": list(self.signing_algorithms),
            "proof_types_supported": {
                "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}
            },
            "credential_definition": definition,
            "credential_metadata": {
                "display": [{"name": self.display_name, "locale": self.locale}]
            },
        }


def ldp_vc_configuration(
    cryptosuite: str = "eddsa-rdfc-2022",
    *,
    id: str = "CertificationCredential_ldp_vc",
    display_name: str = "Certification",
) -> CredentialConfiguration:
    """A Data Integrity configuration (``ldp_vc``; the algorithm is the cryptosuite name)."""
    return CredentialConfiguration(id, CredentialFormat.LDP_VC, (cryptosuite,), display_name)


def jwt_vc_json_configuration(
    algorithm: str = "EdDSA",
    *,
    id: str = "CertificationCredential_jwt_vc_json",
    display_name: str = "Certification",
) -> CredentialConfiguration:
    """A vc+jwt configuration (``jwt_vc_json``; the algorithm is the JOSE ``alg``)."""
    if algorithm not in vc_jwt.ALLOWED_ALGORITHMS:
        raise CertvcError(f"JOSE algorithm {algorithm!r} is not allowed")
    return CredentialConfiguration(id, CredentialFormat.JWT_VC_JSON, (algorithm,), display_name)


@dataclass(frozen=True)
class IssuerSettings:
    """The issuer's identifier, its configurations and its time limits.

    ``credential_issuer`` is an https URL without query or fragment (OpenID4VCI 1.0 §12.2.1);
    the endpoints live under ``<its path><endpoint_path>``.
    """

    credential_issuer: str
    display_name: str
    configurations: tuple[CredentialConfiguration, ...]
    locale: str = "en"
    endpoint_path: str = "/oid4vci"
    code_lifetime: timedelta = timedelta(minutes=10)
    token_lifetime: timedelta = timedelta(minutes=5)
    nonce_lifetime: timedelta = timedelta(minutes=5)
    proof_max_age: timedelta = timedelta(minutes=5)
    max_clock_skew: timedelta = timedelta(minutes=1)
    tx_code_length: int = 6
    tx_code_max_attempts: int = 5
    _by_id: dict[str, CredentialConfiguration] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.credential_issuer)
        if (
            parts.scheme != "https"
            or not parts.netloc
            or parts.query
            or parts.fragment
            or self.credential_issuer.endswith(("/", "?", "#"))
        ):
            raise CertvcError(
                "credential_issuer must be an https URL without query, fragment or final '/'"
            )
        if not self.configurations:
            raise CertvcError("an issuer needs at least one credential configuration")
        if not self.endpoint_path.startswith("/") or self.endpoint_path.endswith("/"):
            raise CertvcError("endpoint_path must start with '/' and not end with one")
        if not 4 <= self.tx_code_length <= 12:
            raise CertvcError("transaction codes have 4 to 12 digits")
        by_id = {c.id: c for c in self.configurations}
        if len(by_id) != len(self.configurations):
            raise CertvcError("credential configuration ids must be unique")
        object.__setattr__(self, "_by_id", by_id)

    def configuration(self, configuration_id: str) -> CredentialConfiguration | None:
        return self._by_id.get(configuration_id)

    @property
    def _origin(self) -> str:
        parts = urlsplit(self.credential_issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def issuer_path(self) -> str:
        """The path of the issuer identifier ('' for an origin)."""
        return urlsplit(self.credential_issuer).path

    def path(self, endpoint: str) -> str:
        return f"{self.issuer_path}{self.endpoint_path}/{endpoint}"

    def url(self, endpoint: str) -> str:
        return self._origin + self.path(endpoint)

    @property
    def issuer_metadata_path(self) -> str:
        return "/.well-known/openid-credential-issuer" + self.issuer_path

    @property
    def authorization_server_metadata_path(self) -> str:
        return "/.well-known/oauth-authorization-server" + self.issuer_path

    def issuer_metadata(self) -> dict[str, Any]:
        """``/.well-known/openid-credential-issuer`` (OpenID4VCI 1.0 §12.2.4)."""
        return {
            "credential_issuer": self.credential_issuer,
            "credential_endpoint": self.url("credential"),
            "nonce_endpoint": self.url("nonce"),
            "display": [{"name": self.display_name, "locale": self.locale}],
            "credential_configurations_supported": {
                c.id: c.metadata() for c in self.configurations
            },
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        """``/.well-known/oauth-authorization-server`` (RFC 8414; OpenID4VCI 1.0 §12.3).

        Only the pre-authorized grant, anonymous: ``response_types_supported`` is omitted as
        §12.2.4 allows for such a server.
        """
        return {
            "issuer": self.credential_issuer,
            "token_endpoint": self.url("token"),
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "token_endpoint_auth_methods_supported": ["none"],
        }
