"""OpenID4VCI 1.0 pre-authorized code flow, the protocol logic on a fixed clock: offers (§4),
metadata (§12), token (§6), nonce (§7) and credential (§8) endpoints with their error codes."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from keys.keypair import KeyPair, KeyType
from verifier.qr_symbol import make_symbol, render_png
from verifier.result import Verdict
from wallet_export.oid4vci import PRE_AUTHORIZED_GRANT, OAuthErrorCode, Oid4vciError
from wallet_export.oid4vci.store import InMemoryStore

from .conftest import NOW
from .wallet import JWT, LDP, Clock, holder_did, issuer_service, key_proof

ISSUER = "https://certs.example-body.org"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(issuer_key, store, clock):
    return issuer_service(ISSUER, issuer_key, store, clock, refused=frozenset({"WITHDRAWN-1"}))


@pytest.fixture(scope="module")
def holder() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


def _code(offer) -> str:
    return offer.offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]


def _token(service, offer, **extra) -> str:
    params = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": _code(offer), **extra}
    return service.token(params)["access_token"]


def _refused(code: OAuthErrorCode, call, *args, **kwargs) -> Oid4vciError:
    with pytest.raises(Oid4vciError) as caught:
        call(*args, **kwargs)
    assert caught.value.error is code, caught.value.description
    return caught.value


def _request(service, clock, holder, token, configuration=LDP, **proof_kwargs) -> dict:
    nonce = proof_kwargs.pop("nonce", None) or service.nonce()["c_nonce"]
    proof_kwargs.setdefault("iat", clock().timestamp())
    proof = key_proof(holder, audience=ISSUER, nonce=nonce, **proof_kwargs)
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
    return service.credential(f"Bearer {token}", body)


# --- metadata and offers --------------------------------------------------------------------


def test_issuer_metadata(service) -> None:
    """§12.2.4: endpoints, and ldp_vc / jwt_vc_json configurations with jwt key proofs."""
    metadata = service.issuer_metadata()
    assert metadata["credential_issuer"] == ISSUER
    assert metadata["credential_endpoint"] == f"{ISSUER}/oid4vci/credential"
    assert metadata["nonce_endpoint"] == f"{ISSUER}/oid4vci/nonce"
    configurations = metadata["credential_configurations_supported"]
    ldp, jwt = configurations[LDP], configurations[JWT]
    assert ldp["format"] == "ldp_vc" and jwt["format"] == "jwt_vc_json"
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert ldp["credential_definition"]["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert jwt["credential_definition"] == {"type": ["VerifiableCredential", "OpenBadgeCredential"]}
    for configuration in (ldp, jwt):
        assert configuration["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
        algs = configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
        assert algs == ["EdDSA", "ES256", "ES384"]
    server = service.authorization_server_metadata()
    assert server["token_endpoint"] == f"{ISSUER}/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    assert server["grant_types_supported"] == [PRE_AUTHORIZED_GRANT]


def test_offer_by_value(service) -> None:
    """§4.1: openid-credential-offer://?credential_offer=<the offer object>."""
    offer = service.create_offer("CB-1", tx_code=True, tx_code_description="Sent by e-mail")
    parts = urlsplit(offer.link)
    assert parts.scheme == "openid-credential-offer"
    carried = json.loads(parse_qs(parts.query)["credential_offer"][0])
    assert carried == offer.offer
    assert carried["credential_issuer"] == ISSUER
    assert carried["credential_configuration_ids"] == [LDP, JWT]
    grant = carried["grants"][PRE_AUTHORIZED_GRANT]
    assert len(grant["pre-authorized_code"]) >= 43  # 256 bits
    assert grant["tx_code"] == {
        "input_mode": "numeric",
        "length": 6,
        "description": "Sent by e-mail",
    }
    assert offer.tx_code is not None and offer.tx_code.isdigit() and len(offer.tx_code) == 6
    assert offer.tx_code not in repr(offer) and grant["pre-authorized_code"] not in repr(offer)


def test_offer_link_fits_a_qr_code(service) -> None:
    """The wallet scans the offer: the link as a QR code decodes to itself."""
    for by_reference in (False, True):
        link = service.create_offer("CB-1", tx_code=True, by_reference=by_reference).link
        png = render_png(make_symbol(link), module_px=4)
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
        assert found[0].text == link


def test_offer_by_reference_is_served_until_redeemed(service) -> None:
    offer = service.create_offer("CB-1", by_reference=True, configuration_ids=(LDP,))
    uri = parse_qs(urlsplit(offer.link).query)["credential_offer_uri"][0]
    assert uri == offer.offer_uri and uri.startswith(f"{ISSUER}/oid4vci/offers/")
    offer_id = uri.rsplit("/", 1)[1]
    assert service.offer_by_reference(offer_id) == offer.offer
    _token(service, offer)
    _refused(OAuthErrorCode.OFFER_NOT_FOUND, service.offer_by_reference, offer_id)
    _refused(OAuthErrorCode.OFFER_NOT_FOUND, service.offer_by_reference, "no-such-offer")


def test_store_keeps_digests_not_secrets(issuer_key, store, clock) -> None:
    service = issuer_service(ISSUER, issuer_key, store, clock)
    memory: InMemoryStore = service._store
    offer = service.create_offer("CB-1", tx_code=True)
    token = _token(service, offer, tx_code=offer.tx_code)
    dumped = repr(vars(memory))
    for secret in (_code(offer), offer.tx_code, token):
        assert secret not in dumped


# --- the flow ------------------------------------------------------------------------------


@pytest.mark.parametrize(("configuration", "by_jwk"), [(LDP, False), (JWT, True)])
def test_issued_credential_verifies_and_is_bound_to_the_holder(
    service, clock, holder, verify, configuration, by_jwk
) -> None:
    """§8: the subject is bound to the key the wallet proved (did:key via kid, or did:jwk)."""
    offer = service.create_offer("CB-2026-000001")
    token = _token(service, offer)
    response = _request(service, clock, holder, token, configuration, by_jwk=by_jwk)
    assert list(response) == ["credentials"] and len(response["credentials"]) == 1
    credential = response["credentials"][0]["credential"]
    assert isinstance(credential, dict if configuration == LDP else str)
    result = verify(credential, now=clock())
    assert result.verdict is Verdict.VALID
    subject = result.credential["credentialSubject"]
    assert subject["id"] == holder_did(holder, by_jwk=by_jwk)
    assert subject["licenseNumber"] == "CB-2026-000001"


def test_access_token_allows_each_offered_configuration(service, clock, holder) -> None:
    token = _token(service, service.create_offer("CB-1"))
    assert _request(service, clock, holder, token, LDP)["credentials"]
    assert _request(service, clock, holder, token, JWT)["credentials"]


# --- token endpoint errors (§6.3) ------------------------------------------------------------


def test_reused_pre_authorized_code_is_invalid_grant(service) -> None:
    offer = service.create_offer("CB-1")
    _token(service, offer)
    _refused(OAuthErrorCode.INVALID_GRANT, _token, service, offer)


def test_expired_pre_authorized_code_is_invalid_grant(service, clock) -> None:
    offer = service.create_offer("CB-1")
    clock.offset = service.settings.code_lifetime
    _refused(OAuthErrorCode.INVALID_GRANT, _token, service, offer)


def test_unknown_code_and_wrong_grant_type(service) -> None:
    params = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "guess"}
    _refused(OAuthErrorCode.INVALID_GRANT, service.token, params)
    _refused(OAuthErrorCode.INVALID_REQUEST, service.token, {"grant_type": PRE_AUTHORIZED_GRANT})
    _refused(OAuthErrorCode.INVALID_REQUEST, service.token, {"pre-authorized_code": "x"})
    _refused(
        OAuthErrorCode.UNSUPPORTED_GRANT_TYPE,
        service.token,
        {"grant_type": "authorization_code", "code": "x"},
    )


def test_transaction_code_rules(service) -> None:
    """§6.3: tx_code missing or unexpected -> invalid_request; wrong -> invalid_grant."""
    offer = service.create_offer("CB-1", tx_code=True)
    _refused(OAuthErrorCode.INVALID_REQUEST, _token, service, offer)
    wrong = str((int(offer.tx_code) + 1) % 10**6).zfill(6)
    _refused(OAuthErrorCode.INVALID_GRANT, _token, service, offer, tx_code=wrong)
    assert _token(service, offer, tx_code=offer.tx_code)  # a typo does not burn the offer
    plain = service.create_offer("CB-2")
    _refused(OAuthErrorCode.INVALID_REQUEST, _token, service, plain, tx_code="123456")


def test_guessing_the_transaction_code_burns_the_offer(service) -> None:
    offer = service.create_offer("CB-1", tx_code=True)
    wrong = str((int(offer.tx_code) + 1) % 10**6).zfill(6)
    for _ in range(service.settings.tx_code_max_attempts):
        _refused(OAuthErrorCode.INVALID_GRANT, _token, service, offer, tx_code=wrong)
    _refused(OAuthErrorCode.INVALID_GRANT, _token, service, offer, tx_code=offer.tx_code)


# --- credential endpoint errors (§8.3) ------------------------------------------------------


@pytest.fixture
def token(service) -> str:
    return _token(service, service.create_offer("CB-1", configuration_ids=(LDP,)))


def test_stale_nonce_is_invalid_nonce(service, clock, holder, token) -> None:
    """§8.3.1.2: a used, expired or unknown c_nonce -> invalid_nonce."""
    nonce = service.nonce()["c_nonce"]
    _request(service, clock, holder, token, nonce=nonce)
    _refused(OAuthErrorCode.INVALID_NONCE, _request, service, clock, holder, token, nonce=nonce)
    old = service.nonce()["c_nonce"]
    clock.offset = service.settings.nonce_lifetime
    fresh = _token(service, service.create_offer("CB-2", configuration_ids=(LDP,)))
    _refused(OAuthErrorCode.INVALID_NONCE, _request, service, clock, holder, fresh, nonce=old)
    clock.offset = timedelta()
    _refused(OAuthErrorCode.INVALID_NONCE, _request, service, clock, holder, token, nonce="made-up")


def test_proof_signed_by_another_key_is_invalid_proof(service, clock, holder, token) -> None:
    other = KeyPair.generate(KeyType.ED25519)
    for by_jwk in (False, True):
        _refused(
            OAuthErrorCode.INVALID_PROOF,
            _request,
            service,
            clock,
            holder,
            token,
            signed_by=other,
            by_jwk=by_jwk,
        )


@pytest.mark.parametrize(
    "change",
    [
        {"header": {"typ": "JWT"}},
        {"header": {"alg": "none"}},
        {"header": {"alg": "HS256"}},
        {"header": {"alg": "ES256"}},  # does not fit the Ed25519 key
        {"header": {"crit": ["x"]}},
        {"header": {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}},  # kid and jwk
        {"header": {"kid": "did:web:example.com#key-1"}},
        {"header": {"kid": "did:key:z6Mk"}},  # no fragment
        {"payload_extra": {"aud": "https://evil.example"}},
        {"iat_shift": timedelta(minutes=10)},
        {"iat_shift": -timedelta(minutes=10)},
        {"payload_extra": {"iat": "yesterday"}},
        {"payload_extra": {"exp": 1}},
    ],
    ids=[
        "typ",
        "alg-none",
        "alg-hmac",
        "alg-mismatch",
        "crit",
        "two-keys",
        "did-web",
        "kid-no-fragment",
        "aud",
        "iat-future",
        "iat-old",
        "iat-not-number",
        "expired",
    ],
)
def test_bad_proofs_are_invalid_proof(service, clock, holder, token, change) -> None:
    change = dict(change)
    iat = (clock() + change.pop("iat_shift", timedelta())).timestamp()
    _refused(
        OAuthErrorCode.INVALID_PROOF, _request, service, clock, holder, token, iat=iat, **change
    )


def test_proof_without_nonce_is_invalid_proof(service, clock, holder, token) -> None:
    proof = key_proof(holder, audience=ISSUER, nonce=None, iat=clock().timestamp())
    body = {"credential_configuration_id": LDP, "proofs": {"jwt": [proof]}}
    _refused(OAuthErrorCode.INVALID_PROOF, service.credential, f"Bearer {token}", body)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"credential_configuration_id": LDP}, OAuthErrorCode.INVALID_PROOF),
        (
            {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": "x"}},
            OAuthErrorCode.INVALID_PROOF,
        ),  # fmt: skip
        (
            {"credential_configuration_id": LDP, "proofs": {"jwt": ["a", "b"]}},
            OAuthErrorCode.INVALID_PROOF,
        ),  # fmt: skip
        (
            {"credential_configuration_id": LDP, "proofs": {"di_vp": [{}]}},
            OAuthErrorCode.INVALID_PROOF,
        ),  # fmt: skip
        (
            {"credential_configuration_id": LDP, "proofs": {"jwt": ["not.a.jws"]}},
            OAuthErrorCode.INVALID_PROOF,
        ),  # fmt: skip
        ({"proofs": {"jwt": ["x"]}}, OAuthErrorCode.INVALID_CREDENTIAL_REQUEST),
        ({"credential_configuration_id": "Other"}, OAuthErrorCode.UNKNOWN_CREDENTIAL_CONFIGURATION),
        ({"credential_configuration_id": JWT}, OAuthErrorCode.UNKNOWN_CREDENTIAL_CONFIGURATION),
        ({"credential_identifier": "x"}, OAuthErrorCode.UNKNOWN_CREDENTIAL_IDENTIFIER),
        (["not", "an", "object"], OAuthErrorCode.INVALID_CREDENTIAL_REQUEST),
    ],
)
def test_malformed_credential_requests(service, token, body, code) -> None:
    _refused(code, service.credential, f"Bearer {token}", body)


def test_access_token_is_checked(service, clock, holder, token) -> None:
    """RFC 6750 §3.1: missing, unknown or expired tokens -> invalid_token."""
    body = {"credential_configuration_id": LDP}
    for header in (None, "", "Basic abc", "Bearer ", "Bearer wrong"):
        _refused(OAuthErrorCode.INVALID_TOKEN, service.credential, header, body)
    clock.offset = service.settings.token_lifetime
    _refused(OAuthErrorCode.INVALID_TOKEN, service.credential, f"Bearer {token}", body)


def test_a_credential_the_issuer_refuses_is_credential_request_denied(service, clock, holder):
    token = _token(service, service.create_offer("WITHDRAWN-1"))
    _refused(OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, _request, service, clock, holder, token)


def test_error_description_is_ascii_for_the_wire() -> None:
    error = Oid4vciError(OAuthErrorCode.INVALID_PROOF, 'bad "quote" \\ and ünïcode')
    assert error.to_json() == {
        "error": "invalid_proof",
        "error_description": "bad ?quote? ? and ?n?code",
    }


# --- one credential per configuration, bound to the first key (issue 16, finding 8) --------


def test_one_access_token_mints_one_credential_per_configuration(service, clock, holder) -> None:
    """The attack: with one access token, request the credential again and again, with other
    keys. Only the first key gets a credential; asking again with that key answers the same
    credential (a wallet that lost the response retries), never a second copy; another key is
    ``invalid_proof`` (OpenID4VCI 1.0 §8.3.1.2: the key proof is not one this token can use)."""
    token = _token(service, service.create_offer("CB-1"))
    first = _request(service, clock, holder, token, LDP)["credentials"][0]["credential"]
    again = _request(service, clock, holder, token, LDP)["credentials"][0]["credential"]
    assert again == first
    for key_type in (KeyType.ED25519, KeyType.P256):
        thief = KeyPair.generate(key_type)
        for configuration in (LDP, JWT):
            error = _refused(
                OAuthErrorCode.INVALID_PROOF,
                _request,
                service,
                clock,
                thief,
                token,
                configuration,
            )
            assert "another key" in error.description
    # the first key may still take the other configuration, once
    jwt = _request(service, clock, holder, token, JWT)["credentials"][0]["credential"]
    assert isinstance(jwt, str)
    assert _request(service, clock, holder, token, JWT)["credentials"][0]["credential"] == jwt


def test_the_same_key_as_did_jwk_gets_the_same_credential(service, clock, holder) -> None:
    """The binding is to the key (its RFC 7638 thumbprint), not to how the proof names it."""
    token = _token(service, service.create_offer("CB-1", configuration_ids=(LDP,)))
    first = _request(service, clock, holder, token, by_jwk=False)
    assert _request(service, clock, holder, token, by_jwk=True) == first


def test_a_refused_credential_does_not_use_up_the_configuration(
    issuer_key, store, clock, holder
) -> None:
    """A signing failure keeps nothing: the same key may ask again once the cause is gone."""
    refused = {"CB-9"}
    service = issuer_service(ISSUER, issuer_key, store, clock, refused=refused)
    token = _token(service, service.create_offer("CB-9", configuration_ids=(LDP,)))
    _refused(OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, _request, service, clock, holder, token)
    refused.clear()
    assert _request(service, clock, holder, token)["credentials"]
