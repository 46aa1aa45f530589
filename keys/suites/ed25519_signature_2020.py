"""Ed25519Signature2020: the legacy Linked Data Signature suite, for verification only.

Open Badges 3.0 credentials issued by education platforms often carry it, alone or beside an
``eddsa-rdfc-2022`` proof. A proof is made as Data Integrity's RDF suites make theirs (the
W3C CCG "Ed25519 Signature 2020" report, §3 / jsonld-signatures ``LinkedDataSignature``):
SHA-256 of the canonical proof options (the proof without ``proofValue``, with the document's
``@context``) then of the canonical document without its proofs, signed with Ed25519; the
``proofValue`` is multibase base58btc. The suite's terms come from
``https://w3id.org/security/suites/ed25519-2020/v1`` (pinned). certvc never signs with it: new
proofs are ``eddsa-rdfc-2022``.
"""

from __future__ import annotations

from keys.keypair import KeyType

from ._data_integrity import RdfcCryptosuite

NAME = "Ed25519Signature2020"
CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

SUITE = RdfcCryptosuite(
    name=NAME, key_types=frozenset({KeyType.ED25519}), proof_type=NAME, verify_only=True
)
