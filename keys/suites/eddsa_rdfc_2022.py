"""eddsa-rdfc-2022: Ed25519 over SHA-256 hashes of RDFC-1.0 N-Quads (VC-DI-EdDSA §3.3)."""

from __future__ import annotations

from keys.keypair import KeyType

from ._data_integrity import RdfcCryptosuite

SUITE = RdfcCryptosuite(name="eddsa-rdfc-2022", key_types=frozenset({KeyType.ED25519}))
