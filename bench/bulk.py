"""Bulk signing: N credentials from a JSON Lines file through ``certvc sign --jsonl``.

Run: ``.venv/bin/python bench/bulk.py [--count 10000] [--jobs 2] [--suite eddsa-rdfc-2022]``.
Writes N certification credentials (one exam session: same shape, other people, numbers and
status indexes) to a temporary file, makes an encrypted key with ``certvc keys generate``, then
times the whole command as an operator runs it (process start, key decryption, the pool, the
output) and checks the output: one line per input line, every one signed, a sample verified.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contexts.loader import default_store
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

CERTVC = str(Path(sys.executable).with_name("certvc"))
PASSPHRASE = "bench only: a long passphrase for a throwaway key"


def write_batch(path: Path, count: int) -> int:
    """``count`` unsigned credentials, one per line; returns the file's size in bytes."""
    valid_from = datetime(2026, 6, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            credential = certification_credential(
                "did:example:replaced",
                valid_from=valid_from,
                person_name=f"Candidate {i:05d} Ōtsuka-Ångström",
                certificate_number=f"CB-2026-{i:06d}",
                status_index=(1000 + 2 * i, 1001 + 2 * i),
            )
            del credential["issuer"]  # the signing key's DID
            out.write(json.dumps(credential, ensure_ascii=False) + "\n")
    return path.stat().st_size


def run_bulk(count: int, jobs: int, suite: str, workdir: Path) -> dict[str, Any]:
    """Time ``certvc sign --jsonl`` over ``count`` credentials with ``jobs`` processes."""
    env = {**os.environ, "CERTVC_KEY_PASSPHRASE": PASSPHRASE}
    key = workdir / "issuer.key"
    if not key.exists():
        subprocess.run(
            [CERTVC, "keys", "generate", "--type", "ed25519", "--out", str(key)],
            check=True,
            env=env,
            capture_output=True,
        )
    batch = workdir / f"in-{count}.jsonl"
    if not batch.exists():
        write_batch(batch, count)
    out = workdir / "out.jsonl"
    command = [CERTVC, "sign", "--key", str(key), "--suite", suite, "--jsonl", str(batch)]
    started = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(
            [*command, "--jobs", str(jobs)], stdout=sink, stderr=subprocess.PIPE, env=env
        )
    seconds = time.perf_counter() - started
    lines = out.read_text(encoding="utf-8").splitlines()
    errors = sum(1 for line in lines if line.startswith('{"error"'))
    if done.returncode != 0 or len(lines) != count or errors:
        raise SystemExit(f"bulk signing failed: exit {done.returncode}, {errors} error lines")
    policy = VerifierPolicy(store=default_store(), resolver=LocalResolver(), canonicalizer=FAST)
    now = datetime.now(UTC)
    for line in lines[:: max(1, count // 20)]:
        if suite != "vc+jwt":
            assert verify_credential(json.loads(line), policy, now=now).verified
    return {
        "suite": suite,
        "count": count,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
        "command": " ".join(["certvc", *command[1:]]) + f" --jobs {jobs} > OUT.jsonl",
    }


def describe(result: dict[str, Any]) -> str:
    return (
        f"bulk {result['suite']}: {result['count']:,} credentials in {result['seconds']:.2f} s "
        f"with {result['jobs']} process(es) ({result['per_second']:,.0f}/s, whole command: "
        f"start-up, key decryption, signing, output)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--suite", default="eddsa-rdfc-2022")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certvc-bulk-") as tmp:
        for jobs in args.jobs:
            result = run_bulk(args.count, jobs, args.suite, Path(tmp))
            print(json.dumps(result) if args.json else describe(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
