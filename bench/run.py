"""Credentials per second, sign and verify, every suite: the fast path beside the plain pyld path.

Run: ``make bench`` (or ``.venv/bin/python bench/run.py [--seconds N] [--json] [--no-bulk]``).
One process pinned to one core; each row measures the product's path (``issuer.benchmark``,
what ``certvc bench`` runs) after a warm-up, on the realistic Open Badges 3.0 certification
credential of ``verifier.samples``, once through the fast canonicalizer and once through the
plain pyld path (``--reference``), and prints the speed-up. Then the bulk figure: 10,000
credentials signed from a JSON Lines file with ``certvc sign --jsonl`` on 2 cores (bench/bulk.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bulk import describe, run_bulk  # bench/bulk.py: the script's folder is on sys.path

from contexts.loader import default_store
from issuer.benchmark import Operation, benchmark
from keys.keypair import KeyType

RUNS = (
    ("eddsa-rdfc-2022", KeyType.ED25519),
    ("ecdsa-rdfc-2019", KeyType.P256),
    ("ecdsa-rdfc-2019", KeyType.P384),
    ("vc+jwt", KeyType.ED25519),
    ("vc+jwt", KeyType.P256),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-bulk", action="store_true", help="Skip the bulk figure.")
    parser.add_argument("--bulk-count", type=int, default=10_000)
    args = parser.parse_args()
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cpus is not None:
        os.sched_setaffinity(0, {min(cpus)})  # one core
    store = default_store()
    now = datetime.now(UTC)
    if not args.json:
        print(
            f"{'suite':<16} {'key':<8} {'op':<7} {'fast/s':>9} {'median':>9} {'p95':>9}"
            f" {'pyld/s':>8} {'median':>9} {'speed-up':>8}",
            flush=True,
        )
    for suite, key_type in RUNS:
        for op in Operation:
            fast = benchmark(
                suite, op, store=store, now=now, seconds=args.seconds, key_type=key_type
            )
            plain = benchmark(
                suite,
                op,
                store=store,
                now=now,
                seconds=args.seconds,
                key_type=key_type,
                reference=True,
            )
            ratio = round(fast.per_second / plain.per_second, 1)
            if args.json:
                row = {**fast.to_json(), "reference": plain.to_json(), "speed_up": ratio}
                print(json.dumps(row), flush=True)
            else:
                print(
                    f"{suite:<16} {key_type.value:<8} {op.value:<7} {fast.per_second:>9,.1f}"
                    f" {fast.median_ms:>7.3f}ms {fast.p95_ms:>7.3f}ms {plain.per_second:>8,.1f}"
                    f" {plain.median_ms:>7.3f}ms {ratio:>7.1f}x",
                    flush=True,
                )
    if not args.no_bulk:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)  # the bulk command uses the cores it is given
        with tempfile.TemporaryDirectory(prefix="certvc-bulk-") as tmp:
            result = run_bulk(args.bulk_count, 2, "eddsa-rdfc-2022", Path(tmp))
        print(json.dumps({"bulk": result}) if args.json else describe(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
