"""Keys in a PKCS#11 token (an HSM, a smart card, SoftHSM2): generated inside, never exported.

A :class:`Token` is a :class:`keys.keystore.KeyVault`: the key store keeps its index (ids,
types, dates, active or retired) and asks the token to generate a key, to give its public key
and to sign. Private keys are created with ``CKA_SENSITIVE`` true and ``CKA_EXTRACTABLE`` false
(PKCS#11 v3.0 §4.9: the token then refuses to reveal ``CKA_VALUE`` or to wrap the key), and a
key the token did not create that way is refused. A key is found by its ``CKA_ID`` (random, 16
bytes; the index records it as ``pkcs11:<hex>``); its ``CKA_LABEL`` is the verification method
id, so an operator listing the token sees which key is which.

Signatures are what Data Integrity and JOSE want as they come out of the token: ``CKM_EDDSA``
gives the 64 bytes of RFC 8032; ``CKM_ECDSA`` signs a digest (hashed here: the hash is not
secret, and tokens such as SoftHSM2 2.6 have no ``CKM_ECDSA_SHA256``) and gives ``r||s``, the
IEEE P1363 form (PKCS#11 v3.0 §2.3.1), never DER.

Sessions do not survive ``fork``: a token opened in a parent is opened again, with the
library initialised anew, the first time a child uses it (PKCS#11 v2.40 §6.7.7: a child must
call ``C_Initialize`` before using Cryptoki). The PIN is kept for that, never shown. A session
is never closed before the process ends: python-pkcs11 closes with ``C_Logout``, and a login
is the whole process's (PKCS#11 v3.0 §5.6), so closing one would log out every other.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pkcs11
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import KeyType as P11KeyType
from pkcs11 import exceptions as p11
from pkcs11.util.ec import encode_named_curve_parameters

from keys._hazmat import compress_coordinates
from keys.keypair import KeySigner, KeyType, PublicKey, Signer

from .errors import KeyCode, KeyMaterialError

__all__ = [
    "PIN_ENV",
    "PIN_FILE_ENV",
    "REFERENCE_PREFIX",
    "Token",
    "TokenConfig",
    "load_pin",
]

PIN_ENV = "CERTVC_PKCS11_PIN"
PIN_FILE_ENV = "CERTVC_PKCS11_PIN_FILE"
#: How the key index names a key in the token: ``pkcs11:`` and the hex ``CKA_ID``.
REFERENCE_PREFIX = "pkcs11:"

_ED25519_OID = "1.3.101.112"  # RFC 8410 id-Ed25519: CKA_EC_PARAMS of CKK_EC_EDWARDS keys
_CURVE_NAMES = {KeyType.P256: "secp256r1", KeyType.P384: "secp384r1"}
#: The mechanisms a token must offer to generate and sign with each key type.
_NEEDS = {
    KeyType.ED25519: (Mechanism.EC_EDWARDS_KEY_PAIR_GEN, Mechanism.EDDSA),
    KeyType.P256: (Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA),
    KeyType.P384: (Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA),
}
#: The mechanisms of an HMAC-SHA-256 key kept in the token (the audit log's MAC key).
_HMAC_NEEDS = (Mechanism.GENERIC_SECRET_KEY_GEN, Mechanism.SHA256_HMAC)
_HMAC_KEY_BITS = 256
#: Secret keys' entries in the session's object cache start with this (private keys' do not).
_SECRET_CACHE = "secret:"


@dataclass(frozen=True)
class TokenConfig:
    """Which token: the PKCS#11 module (a shared library) and the token's label. Not secret:
    ``instance.json`` records it."""

    module: str
    token: str

    def to_json(self) -> dict[str, str]:
        return {"type": "pkcs11", "module": self.module, "token": self.token}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TokenConfig:
        """:raises KeyMaterialError: ``key_invalid`` for a damaged record."""
        module, token = value.get("module"), value.get("token")
        if value.get("type") != "pkcs11" or not isinstance(module, str) or not module:
            raise KeyMaterialError("the key backend record needs type pkcs11 and a module")
        if not isinstance(token, str) or not token:
            raise KeyMaterialError("the key backend record needs a token label")
        return cls(module, token)


def load_pin(env: Mapping[str, str]) -> str | None:
    """The user PIN from ``CERTVC_PKCS11_PIN``, else from the file ``CERTVC_PKCS11_PIN_FILE``
    names (one trailing newline stripped); None when neither is set.

    :raises KeyMaterialError: ``pkcs11_pin_required`` for an unreadable or empty PIN file.
    """
    value = env.get(PIN_ENV)
    if value:
        return value
    path = env.get(PIN_FILE_ENV)
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyMaterialError(
            f"cannot read the PIN file {path} ({PIN_FILE_ENV})", code=KeyCode.PKCS11_PIN_REQUIRED
        ) from exc
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise KeyMaterialError(f"the PIN file {path} is empty", code=KeyCode.PKCS11_PIN_REQUIRED)
    return text


def _fail(message: str, code: KeyCode, cause: BaseException) -> NoReturn:
    raise KeyMaterialError(message, code=code) from cause


def _point(value: bytes, key_type: KeyType) -> bytes:
    """Raw public key from ``CKA_EC_POINT``: a DER OCTET STRING (PKCS#11 v3.0 §2.3.3; some
    tokens give the bare point), Ed25519's 32 bytes or an uncompressed SEC1 point."""
    if len(value) >= 2 and value[0] == 0x04 and value[1] == len(value) - 2 and value[1] < 0x80:
        inner = value[2:]
        if key_type is KeyType.ED25519 or inner[:1] == b"\x04":
            value = inner
    if key_type is KeyType.ED25519:
        return value
    size = key_type.secret_length
    if len(value) != 1 + 2 * size or value[0] != 0x04:
        raise KeyMaterialError(f"the token gave a {key_type.value} public key of an unknown form")
    return compress_coordinates(key_type, value[1 : 1 + size], value[1 + size :])


class Token:
    """One logged-in session on one token in this process. Open with :meth:`open`.

    Operations on the session are serialised by a lock (a PKCS#11 session runs one operation
    at a time); the token is opened again in a forked child (see the module's docstring).
    """

    __slots__ = (
        "_config",
        "_generation",
        "_keys",
        "_lock",
        "_mechanisms",
        "_pid",
        "_pin",
        "_session",
    )

    def __init__(
        self,
        config: TokenConfig,
        pin: str | None,
        connection: _Connection,
    ) -> None:
        self._config = config
        self._pin = pin
        self._session, self._mechanisms, self._generation = connection
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._keys: dict[str, pkcs11.SignMixin] = {}

    @classmethod
    def open(cls, config: TokenConfig, pin: str | None) -> Token:
        """Load the module, find the token by its label and log in with ``pin``. Without a
        PIN the session is public: it reads public keys (did.json, the key report, audit
        verification) and refuses to generate or sign.

        :raises KeyMaterialError: ``pkcs11_module_missing`` (no such library, or not a PKCS#11
            module), ``pkcs11_token_absent`` (no token with that label), ``pkcs11_pin_wrong``
            (also a locked or expired PIN), ``pkcs11_error`` (anything else the token answers).
        """
        return cls(config, pin or None, _connect(config, pin or None))

    def _need_login(self) -> None:
        if self._pin is None:
            raise KeyMaterialError(
                f"the PKCS#11 token {self._config.token!r} needs its user PIN to sign: set "
                f"{PIN_ENV} or {PIN_FILE_ENV}",
                code=KeyCode.PKCS11_PIN_REQUIRED,
            )

    @property
    def config(self) -> TokenConfig:
        return self._config

    def supports(self, key_type: KeyType) -> bool:
        """Whether the token can generate and sign with ``key_type`` keys."""
        return all(mechanism in self._mechanisms for mechanism in _NEEDS[key_type])

    def _live_session(self) -> pkcs11.Session:
        """The session of this process, opened again after a fork or after the module was
        initialised anew (which ends every session). Call with the lock held."""
        if self._pid != os.getpid() or self._generation != _generation(self._config.module):
            self._reconnect()
        return self._session

    def _reconnect(self) -> None:
        """A new logged-in session (a fork, a re-initialised module, or a logout: PKCS#11
        login state is per application, and ``C_Logout`` ends it for every session)."""
        self._session, self._mechanisms, self._generation = _connect(self._config, self._pin)
        self._keys = {}
        self._pid = os.getpid()

    # --- the KeyVault interface -----------------------------------------------------------

    def generate(self, key_type: KeyType, key_id: str) -> tuple[str, PublicKey]:
        """A new key pair inside the token; returns its reference and public key.

        :raises KeyMaterialError: ``key_unsupported`` (the token lacks the mechanisms),
            ``key_invalid`` (the token did not make the key sensitive and unextractable),
            ``pkcs11_error``.
        """
        self._need_login()
        if not self.supports(key_type):
            raise KeyMaterialError(
                f"the PKCS#11 token {self._config.token!r} cannot generate and sign with "
                f"{key_type.value} keys",
                code=KeyCode.KEY_UNSUPPORTED,
            )
        cka_id = secrets.token_bytes(16)
        if key_type is KeyType.ED25519:
            p11_type, params = P11KeyType.EC_EDWARDS, encode_named_curve_parameters(_ED25519_OID)
            mechanism = Mechanism.EC_EDWARDS_KEY_PAIR_GEN
        else:
            p11_type = P11KeyType.EC
            params = encode_named_curve_parameters(_CURVE_NAMES[key_type])
            mechanism = Mechanism.EC_KEY_PAIR_GEN
        public_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.EC_PARAMS: params,
            Attribute.VERIFY: True,
            Attribute.LABEL: key_id,
            Attribute.ID: cka_id,
        }
        private_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.DERIVE: False,
            Attribute.LABEL: key_id,
            Attribute.ID: cka_id,
        }
        with self._lock:
            session = self._live_session()
            try:
                public, private = session.generate_keypair(
                    p11_type,
                    store=True,
                    mechanism=mechanism,
                    public_template=public_template,
                    private_template=private_template,
                )
                guarded = (
                    private[Attribute.SENSITIVE] is True
                    and private[Attribute.EXTRACTABLE] is False
                    and private[Attribute.NEVER_EXTRACTABLE] is True
                )
                raw = _point(public[Attribute.EC_POINT], key_type)
            except p11.PKCS11Error as exc:
                _fail(
                    f"the PKCS#11 token could not generate a {key_type.value} key "
                    f"({type(exc).__name__})",
                    KeyCode.PKCS11_ERROR,
                    exc,
                )
            if not guarded or not isinstance(private, pkcs11.SignMixin):
                private.destroy()
                public.destroy()
                raise KeyMaterialError(
                    "the PKCS#11 token would not keep the new key sensitive and unextractable"
                )
            self._keys[cka_id.hex()] = private
        return REFERENCE_PREFIX + cka_id.hex(), PublicKey(key_type, raw)

    def public_key(self, reference: str, key_type: KeyType) -> PublicKey:
        """The public key of the pair ``reference`` names, read from the token.

        :raises KeyMaterialError: ``key_not_found`` (no such key in the token), ``key_invalid``
            (another type than recorded), ``pkcs11_error``.
        """
        with self._lock:
            public = self._find(ObjectClass.PUBLIC_KEY, reference)
            try:
                raw = _point(public[Attribute.EC_POINT], key_type)
                actual = public[Attribute.KEY_TYPE]
            except p11.PKCS11Error as exc:
                _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
        expected = P11KeyType.EC_EDWARDS if key_type is KeyType.ED25519 else P11KeyType.EC
        if actual != expected:
            raise KeyMaterialError(f"the token key {reference} is not a {key_type.value} key")
        return PublicKey(key_type, raw)

    def signer(self, reference: str, key_type: KeyType, key_id: str) -> Signer:
        """A signer for the private key ``reference`` names (found now, so a missing key shows
        at start). :raises KeyMaterialError: as :meth:`public_key`."""
        self._need_login()
        public = self.public_key(reference, key_type)
        with self._lock:
            self._private(reference)
        return KeySigner(
            lambda data: self.sign(reference, public.key_type, data),
            public,
            key_id,
            where="pkcs11",
        )

    # --- HMAC keys (secret keys that never leave the token) ---------------------------------

    def supports_hmac(self) -> bool:
        """Whether the token can generate generic secret keys and HMAC-SHA-256 with them."""
        return all(mechanism in self._mechanisms for mechanism in _HMAC_NEEDS)

    def generate_hmac_key(self, label: str) -> str:
        """A new 256-bit generic secret key inside the token, for HMAC-SHA-256 only
        (``CKA_SENSITIVE`` true, ``CKA_EXTRACTABLE`` false); returns its reference.

        :raises KeyMaterialError: ``pkcs11_pin_required``, ``key_unsupported`` (no
            ``CKM_GENERIC_SECRET_KEY_GEN`` or ``CKM_SHA256_HMAC``), ``key_invalid`` (the token
            did not make the key sensitive and unextractable), ``pkcs11_error``.
        """
        self._need_login()
        if not self.supports_hmac():
            raise KeyMaterialError(
                f"the PKCS#11 token {self._config.token!r} cannot keep an HMAC-SHA-256 key "
                "(CKM_GENERIC_SECRET_KEY_GEN, CKM_SHA256_HMAC)",
                code=KeyCode.KEY_UNSUPPORTED,
            )
        cka_id = secrets.token_bytes(16)
        template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.VERIFY: True,
            Attribute.ENCRYPT: False,
            Attribute.DECRYPT: False,
            Attribute.WRAP: False,
            Attribute.UNWRAP: False,
            Attribute.DERIVE: False,
            Attribute.LABEL: label,
            Attribute.ID: cka_id,
        }
        with self._lock:
            session = self._live_session()
            try:
                key = session.generate_key(
                    P11KeyType.GENERIC_SECRET,
                    _HMAC_KEY_BITS,
                    store=True,
                    mechanism=Mechanism.GENERIC_SECRET_KEY_GEN,
                    template=template,
                )
                guarded = (
                    key[Attribute.SENSITIVE] is True
                    and key[Attribute.EXTRACTABLE] is False
                    and key[Attribute.NEVER_EXTRACTABLE] is True
                )
            except p11.PKCS11Error as exc:
                _fail(
                    f"the PKCS#11 token could not generate an HMAC key ({type(exc).__name__})",
                    KeyCode.PKCS11_ERROR,
                    exc,
                )
            if not guarded or not isinstance(key, pkcs11.SignMixin):
                key.destroy()
                raise KeyMaterialError(
                    "the PKCS#11 token would not keep the new key sensitive and unextractable"
                )
            self._keys[_SECRET_CACHE + cka_id.hex()] = key
        return REFERENCE_PREFIX + cka_id.hex()

    def destroy_hmac_key(self, reference: str) -> None:
        """Remove an HMAC key this process made and lost a race with (nothing uses it yet).

        :raises KeyMaterialError: ``key_not_found``, ``pkcs11_error``.
        """
        self._need_login()
        with self._lock:
            key = self._secret(reference)
            try:
                key.destroy()
            except p11.PKCS11Error as exc:
                _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
            self._keys.pop(_SECRET_CACHE + _cka_id(reference).hex(), None)

    def check_hmac_key(self, reference: str) -> None:
        """Find the HMAC key now (so a missing one shows at start).

        :raises KeyMaterialError: ``pkcs11_pin_required``, ``key_not_found``, ``key_invalid``
            (not a generic secret key), ``pkcs11_error``.
        """
        self._need_login()
        with self._lock:
            self._secret(reference)

    def hmac_sha256(self, reference: str, data: bytes) -> bytes:
        """HMAC-SHA-256 of ``data`` with the secret key ``reference`` names, in the token.

        :raises KeyMaterialError: as :meth:`check_hmac_key`.
        """
        self._need_login()
        with self._lock:
            for attempt in range(1, _ATTEMPTS + 1):
                try:
                    digest = self._secret(reference).sign(data, mechanism=Mechanism.SHA256_HMAC)
                    break
                except (*_LOST, *_TRANSIENT) as exc:
                    if attempt == _ATTEMPTS:
                        _fail(
                            f"the PKCS#11 token did not compute the HMAC ({type(exc).__name__})",
                            KeyCode.PKCS11_ERROR,
                            exc,
                        )
                    _pause(attempt)
                    self._reconnect()
                except p11.PKCS11Error as exc:
                    _fail(
                        f"the PKCS#11 token did not compute the HMAC ({type(exc).__name__})",
                        KeyCode.PKCS11_ERROR,
                        exc,
                    )
        if len(digest) != hashlib.sha256().digest_size:
            raise KeyMaterialError(
                f"the PKCS#11 token gave a {len(digest)}-byte HMAC-SHA-256",
                code=KeyCode.PKCS11_ERROR,
            )
        return bytes(digest)

    def _secret(self, reference: str) -> pkcs11.SignMixin:
        """The generic secret key object (cached per session, apart from the private keys: a
        reference to a key pair is never taken for a secret key). Call with the lock held."""
        hexid = _SECRET_CACHE + _cka_id(reference).hex()
        self._live_session()  # first: a forked child drops the parent's objects
        cached = self._keys.get(hexid)
        if cached is not None:
            return cached
        key = self._find(ObjectClass.SECRET_KEY, reference)
        try:
            kind = key[Attribute.KEY_TYPE]
        except p11.PKCS11Error as exc:
            _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
        if kind != P11KeyType.GENERIC_SECRET or not isinstance(key, pkcs11.SignMixin):
            raise KeyMaterialError(f"the token key {reference} is not an HMAC key")
        self._keys[hexid] = key
        return key

    # --- signing --------------------------------------------------------------------------

    def _missing(self, reference: str) -> str:
        return f"the PKCS#11 token {self._config.token!r} holds no key {reference}"

    def _find(self, kind: ObjectClass, reference: str) -> pkcs11.Key:
        """The key object of ``kind`` with the reference's CKA_ID. Call with the lock held.

        SoftHSM2 re-reads the token's files on each lookup and may read one while another
        process writes it: a key not found, or an error, may be gone a moment on.
        """
        cka_id = _cka_id(reference)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return self._live_session().get_key(object_class=kind, id=cka_id)
            except _MISSING_OR_TRANSIENT as exc:
                if attempt == _ATTEMPTS:
                    if isinstance(exc, p11.NoSuchKey):
                        _fail(self._missing(reference), KeyCode.KEY_NOT_FOUND, exc)
                    _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
                _pause(attempt)
            except _LOST as exc:
                if attempt == _ATTEMPTS:
                    _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
                self._reconnect()
            except p11.PKCS11Error as exc:
                _fail(f"the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
        raise AssertionError("unreachable: the last attempt raises")

    def _private(self, reference: str) -> pkcs11.SignMixin:
        """The private key object (cached per session). Call with the lock held."""
        hexid = _cka_id(reference).hex()
        self._live_session()  # first: a forked child drops the parent's objects
        cached = self._keys.get(hexid)
        if cached is not None:
            return cached
        key = self._find(ObjectClass.PRIVATE_KEY, reference)
        if not isinstance(key, pkcs11.SignMixin):
            raise KeyMaterialError(f"the token key {reference} cannot sign")
        self._keys[hexid] = key
        return key

    def sign(self, reference: str, key_type: KeyType, data: bytes) -> bytes:
        """Ed25519 over ``data`` (``CKM_EDDSA``), or ECDSA over its SHA-256/384 digest
        (``CKM_ECDSA``) as ``r||s``.

        :raises KeyMaterialError: ``pkcs11_error`` (the token refused or went away),
            ``key_not_found``.
        """
        if key_type is KeyType.ED25519:
            message, mechanism = data, Mechanism.EDDSA
        else:
            message, mechanism = hashlib.new(key_type.hash_name, data).digest(), Mechanism.ECDSA
        self._need_login()
        with self._lock:
            for attempt in range(1, _ATTEMPTS + 1):
                try:
                    signature = self._private(reference).sign(message, mechanism=mechanism)
                    break
                except (*_LOST, *_TRANSIENT) as exc:
                    if attempt == _ATTEMPTS:
                        _fail(
                            f"the PKCS#11 token did not sign ({type(exc).__name__})",
                            KeyCode.PKCS11_ERROR,
                            exc,
                        )
                    _pause(attempt)
                    self._reconnect()
                except p11.PKCS11Error as exc:
                    _fail(
                        f"the PKCS#11 token did not sign ({type(exc).__name__})",
                        KeyCode.PKCS11_ERROR,
                        exc,
                    )
        if len(signature) != key_type.signature_length:
            raise KeyMaterialError(
                f"the PKCS#11 token gave a {len(signature)}-byte {key_type.value} signature",
                code=KeyCode.PKCS11_ERROR,
            )
        return bytes(signature)

    def __repr__(self) -> str:
        return f"Token(module={self._config.module!r}, token={self._config.token!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PKCS#11 token session cannot be pickled")


def _cka_id(reference: str) -> bytes:
    if not reference.startswith(REFERENCE_PREFIX):
        raise KeyMaterialError(f"{reference!r} does not name a key in a PKCS#11 token")
    try:
        value = bytes.fromhex(reference.removeprefix(REFERENCE_PREFIX))
    except ValueError:
        raise KeyMaterialError(f"{reference!r} is not a hex CKA_ID") from None
    if not value:
        raise KeyMaterialError(f"{reference!r} has an empty CKA_ID")
    return value


#: Failures that may pass: SoftHSM2's file store, read by one process while another writes it
#: (a login updates the token's file), answers CKR_GENERAL_ERROR or lists no token for a
#: moment (SoftHSMv2 issues 573, 757); a network HSM may drop a connection.
_TRANSIENT: tuple[type[p11.PKCS11Error], ...] = (
    p11.GeneralError,
    p11.DeviceError,
    p11.NoSuchToken,
    p11.TokenNotPresent,
)
#: The session is gone: logged out by another session of this process, or closed.
_LOST: tuple[type[p11.PKCS11Error], ...] = (
    p11.UserNotLoggedIn,
    p11.SessionHandleInvalid,
    p11.SessionClosed,
)
_MISSING_OR_TRANSIENT: tuple[type[p11.PKCS11Error], ...] = (p11.NoSuchKey, *_TRANSIENT)
_ATTEMPTS = 6  # pauses of 0.05, 0.1, 0.2, 0.4, 0.8 s: a real failure shows within 1.6 s

_Connection = tuple[pkcs11.Session, frozenset[Mechanism], int]

#: Module path -> (the process that initialised it, how many times it did). python-pkcs11
#: keeps one loaded library per path for the whole process, and so does the module's own
#: state: a forked child finds it initialised by its parent and must initialise it anew
#: before any use, and a re-initialisation ends every session, which then reconnect.
_INITIALISED: dict[str, tuple[int, int]] = {}


def _pause(attempt: int) -> None:
    time.sleep(0.05 * 2 ** (attempt - 1))


def _generation(module: str) -> int:
    return _INITIALISED.get(module, (0, 0))[1]


def _library(module: str, *, anew: bool) -> tuple[Any, int]:
    """The loaded module initialised by this process (``anew``: initialised again, to list
    the tokens afresh), and its generation. :raises PKCS11Error: as python-pkcs11."""
    lib = pkcs11.lib(module)
    owner, generation = _INITIALISED.get(module, (os.getpid(), 0))
    if owner != os.getpid() or anew:
        lib.reinitialize()  # C_Finalize, C_Initialize: this process's own state
        generation += 1
    _INITIALISED[module] = (os.getpid(), generation)
    return lib, generation


def _connect(config: TokenConfig, pin: str | None) -> _Connection:
    """Load the module (initialising it anew in a forked child), find the token, log in
    (a public session without ``pin``); what may pass is tried again, initialising the
    module anew (SoftHSM2 lists its tokens only then).

    :raises KeyMaterialError: as :meth:`Token.open`.
    """
    if not Path(config.module).is_file():
        raise KeyMaterialError(
            f"the PKCS#11 module {config.module} does not exist",
            code=KeyCode.PKCS11_MODULE_MISSING,
        )
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _connect_once(config, pin, anew=attempt > 1, last=attempt == _ATTEMPTS)
        except _Again:
            _pause(attempt)
    raise AssertionError("unreachable: the last attempt raises")


class _Again(Exception):
    """A failure that may pass: try once more."""


def _connect_once(config: TokenConfig, pin: str | None, *, anew: bool, last: bool) -> _Connection:
    def again(exc: p11.PKCS11Error) -> None:
        if isinstance(exc, _TRANSIENT) and not last:
            raise _Again from exc

    try:
        lib, generation = _library(config.module, anew=anew)
    except p11.PKCS11Error as exc:
        again(exc)
        why = str(exc).strip() or type(exc).__name__
        _fail(
            f"{config.module} cannot be loaded or initialised as a PKCS#11 module ({why})"[:300],
            KeyCode.PKCS11_MODULE_MISSING,
            exc,
        )
    try:
        token = lib.get_token(token_label=config.token)
        mechanisms = frozenset(token.slot.get_mechanisms())
    except (p11.NoSuchToken, p11.TokenNotPresent) as exc:
        again(exc)
        _fail(
            f"no PKCS#11 token labelled {config.token!r} in {config.module}",
            KeyCode.PKCS11_TOKEN_ABSENT,
            exc,
        )
    except p11.MultipleTokensReturned as exc:
        _fail(
            f"more than one PKCS#11 token is labelled {config.token!r}: relabel one",
            KeyCode.PKCS11_TOKEN_ABSENT,
            exc,
        )
    except p11.PKCS11Error as exc:
        again(exc)
        _fail(f"the PKCS#11 module: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc)
    try:
        session = token.open(rw=True, user_pin=pin) if pin else token.open()
    except p11.UserAlreadyLoggedIn:
        # Login is per application: another session of this process logged in (with a PIN
        # the token accepted); a new session shares that state.
        session = token.open(rw=True)
    except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as exc:
        _fail(
            f"the PIN of the PKCS#11 token {config.token!r} is wrong",
            KeyCode.PKCS11_PIN_WRONG,
            exc,
        )
    except (p11.PinLocked, p11.PinExpired) as exc:
        _fail(
            f"the PIN of the PKCS#11 token {config.token!r} is locked or expired: the token's "
            "security officer must reset it",
            KeyCode.PKCS11_PIN_WRONG,
            exc,
        )
    except p11.PKCS11Error as exc:
        again(exc)
        _fail(
            f"cannot log in to the PKCS#11 token: {type(exc).__name__}", KeyCode.PKCS11_ERROR, exc
        )
    return session, mechanisms, generation
