"""ecdsa-rdfc-2019: ECDSA P-256/SHA-256 or P-384/SHA-384, P1363 signatures (VC-DI-ECDSA §3.3)."""

from __future__ import annotations

from keys.keypair import KeyType

from ._data_integrity import RdfcCryptosuite

SUITE = RdfcCryptosuite(name="ecdsa-rdfc-2019", key_types=frozenset({KeyType.P256, KeyType.P384}))
