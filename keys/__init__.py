"""Key pairs, Multikey/JWK, did:key/did:web, the encrypted key store and the securing suites."""

from .did import DidResolver as DidResolver
from .did import LocalResolver as LocalResolver
from .did import VerificationMethodEntry as VerificationMethodEntry
from .did import did_key_document as did_key_document
from .did import did_web_document as did_web_document
from .did import did_web_from_url as did_web_from_url
from .did import did_web_to_url as did_web_to_url
from .did import find_verification_method as find_verification_method
from .did import resolve_did_key as resolve_did_key
from .keypair import KeyPair as KeyPair
from .keypair import KeyType as KeyType
from .keypair import PublicKey as PublicKey
from .keypair import Signer as Signer
from .keystore import KeyStore as KeyStore
from .keystore import load_passphrase as load_passphrase
from .keystore import read_key_file as read_key_file
from .keystore import write_key_file as write_key_file
from .rdfc import canonicalize as canonicalize
