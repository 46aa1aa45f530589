"""The codes and errors of key material, DIDs and the securing suites (STYLE §6).

They arise in ``keys`` and every outer ring may raise or map them; the strings are public API.
"""

from __future__ import annotations

from contexts.errors import CertvcError, Code


class KeyCode(Code):
    # key material and the key store
    KEY_INVALID = "key_invalid"
    KEY_UNSUPPORTED = "key_unsupported"
    KEY_NOT_FOUND = "key_not_found"
    PASSPHRASE_REQUIRED = "passphrase_required"
    PASSPHRASE_WRONG = "passphrase_wrong"
    PLAINTEXT_KEY_REFUSED = "plaintext_key_refused"
    # keys in a PKCS#11 token (keys/pkcs11_token.py)
    PKCS11_MODULE_MISSING = "pkcs11_module_missing"
    PKCS11_TOKEN_ABSENT = "pkcs11_token_absent"
    PKCS11_PIN_REQUIRED = "pkcs11_pin_required"
    PKCS11_PIN_WRONG = "pkcs11_pin_wrong"
    #: The token refused an operation or went away (the message names PKCS#11's error).
    PKCS11_ERROR = "pkcs11_error"
    # DIDs
    DID_INVALID = "did_invalid"
    DID_UNRESOLVABLE = "did_unresolvable"
    # RDF Dataset Canonicalization
    CANONICALIZATION_LIMIT = "canonicalization_limit"
    # proofs
    SUITE_NOT_ALLOWED = "suite_not_allowed"
    #: A proof of a type this verifier cannot check (e.g. a legacy Ed25519Signature2020).
    PROOF_TYPE_UNSUPPORTED = "proof_type_unsupported"
    MALFORMED_PROOF = "malformed_proof"
    PROOF_GENERATION = "proof_generation"
    SIGNATURE_INVALID = "signature_invalid"
    PROOF_EXPIRED = "proof_expired"
    PROOF_PURPOSE_MISMATCH = "proof_purpose_mismatch"
    INVALID_DOMAIN = "invalid_domain"
    INVALID_CHALLENGE = "invalid_challenge"
    VERIFICATION_METHOD_UNRESOLVABLE = "verification_method_unresolvable"
    JWT_MALFORMED = "jwt_malformed"
    JWT_ALG_NOT_ALLOWED = "jwt_alg_not_allowed"
    JWT_CLAIM_MISMATCH = "jwt_claim_mismatch"


class KeyMaterialError(CertvcError):
    """Bad, unsupported or unavailable key material. Never carries the material itself."""

    code = KeyCode.KEY_INVALID


class DidError(CertvcError):
    code = KeyCode.DID_INVALID


class ProofError(CertvcError):
    code = KeyCode.MALFORMED_PROOF


class CanonicalizationLimit(CertvcError):
    code = KeyCode.CANONICALIZATION_LIMIT
