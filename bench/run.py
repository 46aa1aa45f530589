"""Credentials per second, sign and verify, in each suite, one process (issue 3's honest baseline).

Run: ``make bench`` (or ``.venv/bin/python bench/run.py [--seconds N] [--json]``).
The credential is the realistic Open Badges 3.0 certification credential of
``verifier.samples`` (about 1.8 KB unsigned). Prints one line per suite and operation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime

from contexts.loader import default_store
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import ProofOptions
from verifier.engine import VerifierPolicy, verify_credential
from verifier.issuing import sign_credential
from verifier.samples import certification_credential

RUNS = (
    ("eddsa-rdfc-2022", KeyType.ED25519),
    ("ecdsa-rdfc-2019", KeyType.P256),
    ("ecdsa-rdfc-2019", KeyType.P384),
    ("vc+jwt", KeyType.ED25519),
    ("vc+jwt", KeyType.P256),
)


def measure(fn, seconds: float) -> dict[str, float]:
    for _ in range(5):  # warm-up: contexts processed and cached, code paths hot
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "per_second": round(len(times) / sum(times), 1),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 3),
        "n": len(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    store = default_store()
    policy = VerifierPolicy(store=store, resolver=LocalResolver())
    now = datetime.now(UTC)
    rows = []
    for suite, key_type in RUNS:
        pair = KeyPair.generate(key_type)
        signer = pair.signer()
        credential = certification_credential(pair.public_key.did_key, valid_from=now)
        options = ProofOptions(created=now)
        secured = sign_credential(credential, signer, suite, store=store, options=options)
        assert verify_credential(secured, policy, now=now).verified

        def do_sign(credential=credential, signer=signer, suite=suite, options=options):
            return sign_credential(credential, signer, suite, store=store, options=options)

        def do_verify(secured=secured):
            return verify_credential(secured, policy, now=now)

        size = len(json.dumps(credential, separators=(",", ":")).encode())
        for op, fn in (("sign", do_sign), ("verify", do_verify)):
            row = {"suite": suite, "key": key_type.value, "op": op, "bytes": size}
            row.update(measure(fn, args.seconds))
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(
                    f"{suite:<16} {key_type.value:<8} {op:<7} {row['per_second']:>9.1f}/s "
                    f"median {row['median_ms']:>8.3f} ms  p95 {row['p95_ms']:>8.3f} ms "
                    f"({size} B credential, n={row['n']})",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
