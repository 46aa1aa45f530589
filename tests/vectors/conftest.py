"""Shared access to the W3C test vectors copied from ../shared/spec/vectors (see README there)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contexts.loader import ContextStore, default_store

VECTORS = Path(__file__).parent
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CITIZENSHIP_V4RC1 = "https://w3id.org/citizenship/v4rc1"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def vector_store() -> ContextStore:
    """The pinned store plus the two example contexts the vectors use (tests only)."""
    return (
        default_store()
        .with_context(
            EXAMPLES_V2, VECTORS / "contexts" / "www.w3.org_ns_credentials_examples_v2.jsonld"
        )
        .with_context(CITIZENSHIP_V4RC1, VECTORS / "contexts" / "w3id.org_citizenship_v4rc1.jsonld")
    )


@dataclass(frozen=True)
class VectorSet:
    """One signed example: its key, unsigned input and every intermediate value."""

    name: str
    cryptosuite: str
    key_pair: dict[str, str]
    unsigned: dict[str, Any]
    proof_config: dict[str, Any]
    canonical_document: str
    canonical_proof_config: str
    document_hash: str
    proof_hash: str
    combined_hash: str
    signature_hex: str
    proof_value: str
    signed: dict[str, Any]
    hash_name: str


def _load(
    folder: Path,
    suffix: str,
    *,
    name: str,
    cryptosuite: str,
    key: Path,
    unsigned: Path,
    hash_name: str,
) -> VectorSet:
    return VectorSet(
        name=name,
        cryptosuite=cryptosuite,
        key_pair=read_json(key),
        unsigned=read_json(unsigned),
        proof_config=read_json(folder / f"proofConfig{suffix}.json"),
        canonical_document=read_text(folder / f"canonDoc{suffix}.txt"),
        canonical_proof_config=read_text(folder / f"proofCanon{suffix}.txt"),
        document_hash=read_text(folder / f"docHash{suffix}.txt").strip(),
        proof_hash=read_text(folder / f"proofHash{suffix}.txt").strip(),
        combined_hash=read_text(folder / f"combinedHash{suffix}.txt").strip(),
        signature_hex=read_text(folder / f"sigHex{suffix}.txt").strip(),
        proof_value=read_text(folder / f"sigBTC58{suffix}.txt").strip(),
        signed=read_json(folder / f"signed{suffix}.json"),
        hash_name=hash_name,
    )


def all_vector_sets() -> list[VectorSet]:
    ed = VECTORS / "eddsa-rdfc-2022"
    ec = VECTORS / "ecdsa-rdfc-2019"
    p256 = ec / "ecdsa-rdfc-2019-p256"
    return [
        _load(
            ed,
            "DataInt",
            name="eddsa",
            cryptosuite="eddsa-rdfc-2022",
            key=ed / "keyPair.json",
            unsigned=ed / "unsigned.json",
            hash_name="sha256",
        ),
        _load(
            ed / "employ",
            "DataInt",
            name="eddsa-employ",
            cryptosuite="eddsa-rdfc-2022",
            key=ed / "keyPair.json",
            unsigned=ed / "employmentAuth.json",
            hash_name="sha256",
        ),
        _load(
            p256,
            "ECDSAP256",
            name="ecdsa-p256",
            cryptosuite="ecdsa-rdfc-2019",
            key=ec / "p256KeyPair.json",
            unsigned=ec / "unsigned.json",
            hash_name="sha256",
        ),
        _load(
            p256 / "employ",
            "ECDSAP256",
            name="ecdsa-p256-employ",
            cryptosuite="ecdsa-rdfc-2019",
            key=ec / "p256KeyPair.json",
            unsigned=ec / "employmentAuth.json",
            hash_name="sha256",
        ),
        _load(
            ec / "ecdsa-rdfc-2019-p384",
            "ECDSAP384",
            name="ecdsa-p384",
            cryptosuite="ecdsa-rdfc-2019",
            key=ec / "p384KeyPair.json",
            unsigned=ec / "unsigned.json",
            hash_name="sha384",
        ),
    ]


VECTOR_SETS = all_vector_sets()


@pytest.fixture(scope="session")
def store() -> ContextStore:
    return vector_store()
