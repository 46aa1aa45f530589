"""Credentials per second for one suite and one operation: what ``certvc bench`` measures.

Operators size a deployment with it, so it measures the product's own code path: signing is
``issuing.sign_credential`` (shape rules, JSON-LD safe mode, the proof) and verification is
``engine.verify_credential`` (every check), each through the fast canonicalizer, or through the
plain pyld path when ``reference`` is set. The clock is injected (STYLE 12); pinning to one core
is the adapter's business.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from contexts.errors import InputError
from contexts.loader import ContextStore
from keys.did import LocalResolver
from keys.errors import KeyCode
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, REGISTRY, Canonicalizer, ProofOptions, canonize, get_suite
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

from .signing import sign_credential

__all__ = ["BenchResult", "Operation", "benchmark", "default_key_type", "prepare", "run_benchmark"]

#: Iterations (at least) and time (at least) spent before measuring: contexts processed,
#: shapes compiled, code paths warm.
WARMUP_RUNS = 20
WARMUP_SECONDS = 0.2


class Operation(Enum):
    SIGN = "sign"
    VERIFY = "verify"


@dataclass(frozen=True)
class BenchResult:
    """One measurement; ``per_second`` is runs over the time they took (not 1/median)."""

    suite: str
    op: Operation
    key_type: KeyType
    reference: bool
    per_second: float
    median_ms: float
    p95_ms: float
    runs: int
    credential_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "op": self.op.value,
            "per_second": self.per_second,
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "key_type": self.key_type.value,
            "path": "reference" if self.reference else "fast",
            "runs": self.runs,
            "credential_bytes": self.credential_bytes,
        }

    def describe(self) -> str:
        path = "plain pyld path" if self.reference else "fast path"
        return (
            f"{self.suite} {self.key_type.value} {self.op.value} ({path}): "
            f"{self.per_second:,.1f}/s, median {self.median_ms:.3f} ms, "
            f"p95 {self.p95_ms:.3f} ms ({self.runs} runs, {self.credential_bytes} B credential)"
        )


def default_key_type(suite: str) -> KeyType:
    """Ed25519 where the suite takes it (eddsa-rdfc-2022, vc+jwt), else P-256."""
    key_types = get_suite(suite).key_types
    return KeyType.ED25519 if KeyType.ED25519 in key_types else KeyType.P256


def prepare(
    suite: str,
    op: Operation,
    *,
    key_type: KeyType,
    store: ContextStore,
    now: datetime,
    credential: Mapping[str, Any] | None = None,
    reference: bool = False,
) -> tuple[Callable[[], object], int]:
    """The operation to time, and the credential's size in bytes (compact JSON, unsigned).

    A fresh key signs; the credential's issuer becomes that key's DID so verification passes.

    :raises ProofError: unknown suite, or a key type the suite does not take.
    :raises InputError: the credential does not verify (a benchmark of a failure misleads).
    :raises ShapeError, JsonLdError, ContextNotAllowed: the credential cannot be signed.
    """
    get_suite(suite)
    if key_type not in REGISTRY[suite].key_types:
        raise InputError(
            f"{suite} does not take {key_type.value} keys", code=KeyCode.KEY_UNSUPPORTED
        )
    pair = KeyPair.generate(key_type)
    signer = pair.signer()
    did = pair.public_key.did_key
    if credential is None:
        unsigned: dict[str, Any] = certification_credential(did, valid_from=now)
    else:
        unsigned = dict(credential)
        issuer = unsigned.get("issuer")
        unsigned["issuer"] = {**issuer, "id": did} if isinstance(issuer, Mapping) else did
    canonicalizer: Canonicalizer = canonize if reference else FAST
    options = ProofOptions(created=now)
    size = len(json.dumps(unsigned, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    def sign() -> object:
        return sign_credential(
            unsigned, signer, suite, store=store, options=options, canonicalizer=canonicalizer
        )

    if op is Operation.SIGN:
        return sign, size
    secured = sign()
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=canonicalizer)
    first = verify_credential(secured, policy, now=now)  # type: ignore[arg-type]
    if not first.verified:
        failed = [c for c in first.checks if c.code is not None]
        reason = f"{failed[0].check.value}: {failed[0].message}" if failed else ""
        raise InputError(f"the credential does not verify ({first.verdict.value}) {reason}")

    def verify() -> object:
        return verify_credential(secured, policy, now=now)  # type: ignore[arg-type]

    return verify, size


def run_benchmark(
    operation: Callable[[], object],
    seconds: float,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float, float, int]:
    """Warm up, then run ``operation`` for ``seconds``: (per second, median ms, p95 ms, runs)."""
    start = clock()
    runs = 0
    while runs < WARMUP_RUNS or clock() - start < WARMUP_SECONDS:
        operation()
        runs += 1
    times: list[float] = []
    deadline = clock() + seconds
    while True:
        before = clock()
        operation()
        after = clock()
        times.append(after - before)
        if after >= deadline:
            break
    times.sort()
    total = sum(times) or float("nan")
    p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]  # nearest rank
    return (
        round(len(times) / total, 1),
        round(statistics.median(times) * 1000, 3),
        round(p95 * 1000, 3),
        len(times),
    )


def benchmark(
    suite: str,
    op: Operation,
    *,
    store: ContextStore,
    now: datetime,
    seconds: float,
    key_type: KeyType | None = None,
    credential: Mapping[str, Any] | None = None,
    reference: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> BenchResult:
    """Prepare and measure one suite and operation.

    :raises CertvcError: as :func:`prepare`.
    """
    key_type = key_type or default_key_type(suite)
    operation, size = prepare(
        suite,
        op,
        key_type=key_type,
        store=store,
        now=now,
        credential=credential,
        reference=reference,
    )
    per_second, median_ms, p95_ms, runs = run_benchmark(operation, seconds, clock=clock)
    return BenchResult(suite, op, key_type, reference, per_second, median_ms, p95_ms, runs, size)
