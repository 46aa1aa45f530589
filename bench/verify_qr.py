"""Verification time from a QR image and from JSON, p50 and p95, status lists cached (warm).

    .venv/bin/python bench/verify_qr.py [--runs 200]

The sample certification credential (verifier/samples.py), signed with eddsa-rdfc-2022 and with
vc+jwt, is verified through ``Verifier.verify`` exactly as the API does: from the PNG of its QR
code (decode with zxing-cpp, inflate, parse) and from its JSON. Its two status lists are served
on 127.0.0.1 and fetched once; the timed runs use the cache. Also prints the payload length, the
QR version and the module size at 3 cm. Goal (issue 6): p95 under 100 ms from a QR image.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._verifier_world import ListServer, new_pair, now, sample
from contexts.loader import default_store
from keys.suites import FAST
from verifier import qr
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.qr_symbol import ErrorCorrection, make_symbol, render_png
from verifier.result import Verdict
from verifier.service import Verifier
from verifier.trust import TrustedBody, TrustList

VERIFIER_URL = "https://verify.example-body.org/v"


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _time(verifier: Verifier, data: bytes, runs: int) -> tuple[float, float]:
    for _ in range(5):  # warm-up: caches, pyld's context cache
        outcome = verifier.verify(data)
        assert outcome.result.verdict is Verdict.VALID, outcome.result.checks
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        verifier.verify(data)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), _percentile(samples, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    pair, when = new_pair(), now()
    with ListServer(pair, when) as lists:
        fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({lists.url}), dev_mode=True))
        trusted = TrustList([TrustedBody(pair.public_key.did_key, "Example body")])
        verifier = Verifier(
            store=default_store(), fetcher=fetcher, clock=now, trust=trusted, canonicalizer=FAST
        )
        print(
            f"{'suite':<16} {'input':<10} {'payload':>8} {'QR (L)':>10} {'3 cm':>8} "
            f"{'p50':>8} {'p95':>8}"
        )
        for suite in ("eddsa-rdfc-2022", "vc+jwt"):
            secured = sample(pair, lists.url, suite, when)
            payload = qr.encode_credential(secured)
            symbol = make_symbol(qr.deep_link(VERIFIER_URL, payload), ErrorCorrection.L)
            png = render_png(symbol, module_px=4)
            shape = f"v{symbol.version} {symbol.modules}²"
            module = f"{symbol.module_mm(30):.2f}mm"
            raw = secured if isinstance(secured, str) else json.dumps(secured)
            for name, data in (("QR PNG", png), ("JSON", raw.encode())):
                p50, p95 = _time(verifier, data, args.runs)
                print(
                    f"{suite:<16} {name:<10} {len(payload):>8} {shape:>10} {module:>8} "
                    f"{p50:>6.1f}ms {p95:>6.1f}ms"
                )


if __name__ == "__main__":
    main()
