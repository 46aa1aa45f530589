"""Memory over a long signing run: resident memory stays flat, every cache stays at its bound.

Run: ``.venv/bin/python bench/memory.py [--count 100000] [--suite eddsa-rdfc-2022] [--shapes 600]
[--hot 64] [--json] [--strict] [--trace]``.
Signs ``--count`` credentials in one process through the product's path
(``issuer.signing.sign_credential``, the fast canonicalizer ``keys.suites.FAST``), each built
just before it is signed and every one distinct: every free leaf changes (ids, names with awkward
Unicode, dates, status indexes, licence number, scope...) and the credentials cycle through
``--shapes`` shapes (optional properties added or left out, one to four alignments, zero to three
tags). Four credentials in five take one of the first ``--hot`` shapes (an exam session: they are
compiled and written from templates); every fifth walks all ``--shapes`` of them, more than the
canonicalizer's ``max_shapes``, so its shape cache evicts all the way through the run.

At every tenth of the run it samples resident memory (``VmRSS``, after a ``gc.collect()``), the
fast path's counters and the size of every ``functools`` cache of ``contexts``, ``keys`` and
``verifier`` plus the processed-context caches. It prints them, the growth from the 20% sample to
the end (the first tenth is warm-up: contexts processed, shapes compiled) and a verdict: "flat"
below 5% or 8 MiB. Exit 0 either way; with ``--strict`` 1 when growing. ``--trace`` adds a
``tracemalloc`` diff (20% to end) of where the growth was allocated (about 20x slower: use
``--count 10000``).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyld import jsonld as pyld_jsonld

from contexts.loader import ContextStore, default_store
from contexts.processed import processed_contexts
from issuer.benchmark import default_key_type
from issuer.signing import sign_credential
from keys.dates import format_datetime_stamp
from keys.did import LocalResolver
from keys.keypair import KeyPair
from keys.suites import FAST, REGISTRY, ProofOptions
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

FLAT_PERCENT = 5.0
FLAT_MIB = 8.0
BASELINE_TENTH = 2  # growth is measured from the 20% sample
TRACE_FRAMES = 10  # deep enough to reach the project frames; tracing runs ~20x slower
COLD_EVERY = 5  # every fifth credential takes a shape from the whole cycle
_CACHE_PACKAGES = ("contexts", "keys", "verifier")

# Names that are hard on every layer: NFC and NFD forms, combining marks, right-to-left text
# and marks, astral-plane letters, a ZWJ emoji sequence, quotes, backslash, tab, U+2028.
_GIVEN = (
    "Zoë",
    "Zoe\u0308",
    "Þórunn",
    "İlkay",
    "Nguyễn Thị",
    "محمد\u200f",
    "שָׁלוֹם",
    "서연",
    "陳大文",
    "Ǆemal",
    "𝔄𝔩𝔦𝔠𝔢",
    "👩🏽\u200d🔬 Ana",
    'Seán "Bo"',
    "back\\slash",
    "Søren\tTab",
    "Line\u2028Separator",
)
_FAMILY = (
    "Ångström-Ōtsuka",
    "Straße",
    "Mu\u0308ller",
    "Łukasiewicz",
    "अग्रवाल",
    "ᏣᎳᎩ",
    "Ἀθηνᾶ",
    "ʻŌlelo",
    "\u202eesrever\u202c",
    "𓂀 Hotep",
    "O'Brien",
    "Ng\u0303",
    "Дмитриевич",
)
_ACHIEVEMENT_TYPES = ("Certification", "License", "Certificate", "Award")
_STANDARDS = ("ISO 9712:2021", "EN 473", "ISO 17636-1", "ISO 17637:2016")

# The shape axes, as a mixed radix: alignments (1-4), tags (0-3), then four subsets of optional
# properties (achievement, subject, credential, issuer).
_ACHIEVEMENT_OPTIONAL = ("fieldOfStudy", "specialization", "version", "inLanguage")
_SUBJECT_OPTIONAL = ("role", "term", "activityStartDate", "activityEndDate")
_CREDENTIAL_OPTIONAL = ("description", "awardedDate")
_ISSUER_OPTIONAL = ("email", "phone")
_RADICES = (
    4,
    4,
    2 ** len(_ACHIEVEMENT_OPTIONAL),
    2 ** len(_SUBJECT_OPTIONAL),
    2 ** len(_CREDENTIAL_OPTIONAL),
    2 ** len(_ISSUER_OPTIONAL),
)
MAX_SHAPES = 4 * 4 * 16 * 16 * 4 * 4


def _digits(shape: int) -> list[int]:
    digits = []
    for radix in _RADICES:
        shape, digit = divmod(shape, radix)
        digits.append(digit)
    return digits


def shape_for(index: int, shapes: int, hot: int) -> int:
    """Which shape credential ``index`` takes: a hot one, or every fifth the next of all."""
    if index % COLD_EVERY == COLD_EVERY - 1:
        return (index // COLD_EVERY) % shapes
    return (index - index // COLD_EVERY) % hot


def build_credential(index: int, shape: int, *, issuer_did: str, start: datetime) -> dict[str, Any]:
    """Credential ``index`` in shape ``shape``: distinct leaves, the structure the shape says."""
    given, family = _GIVEN[index % len(_GIVEN)], _FAMILY[(index // len(_GIVEN)) % len(_FAMILY)]
    number = f"CB-{2026 + index % 7}-{index:07d}"
    base_url = "https://certs.example-body.org"
    valid_from = start + timedelta(seconds=index)
    credential = certification_credential(
        issuer_did,
        valid_from=valid_from,
        person_name=f"{given} {family} {index:06d}",
        certificate_number=number,
        base_url=base_url,
        status_index=(2 * index, 2 * index + 1),
        validity=timedelta(days=3 * 365, hours=index % 1000),
    )
    n_align, n_tags, achievement_bits, subject_bits, credential_bits, issuer_bits = _digits(shape)
    scheme = f"CWI-{index % 3 + 1}.{index}"
    credential["name"] = f"Certified Welding Inspector — Level {index % 3 + 1} ({index})"
    issuer = credential["issuer"]
    issuer["name"] = f"Example Personnel Certification Body — Région № {index % 97}"
    issuer["description"] = f"ISO/IEC 17024 accredited, no. PCB-{index:06d}"
    issuer["url"] = f"{base_url}/bodies/{index}"
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    achievement["id"] = f"{base_url}/schemes/{scheme}"
    achievement["achievementType"] = _ACHIEVEMENT_TYPES[index % len(_ACHIEVEMENT_TYPES)]
    achievement["humanCode"] = scheme
    achievement["name"] = credential["name"]
    achievement["description"] = f"Scope: visual testing of welds, steel groups 1–{index % 11}"
    achievement["criteria"] = {"narrative": f"Passed the {scheme} examinations: {index} ‰"}
    achievement["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": f"{_STANDARDS[(index + k) % len(_STANDARDS)]} §{index % 89}.{k}",
            "targetUrl": f"https://www.iso.org/standard/{74831 + k}.html?c={index}",
            "targetType": "ext:Standard",
        }
        for k in range(n_align + 1)
    ]
    if n_tags:
        achievement["tag"] = [f"tag-{k}-{index} ✓" for k in range(n_tags)]
    optional = {
        "fieldOfStudy": f"Non-destructive testing {index % 13}",
        "specialization": f"Welds, group {index % 8 + 1}",
        "version": f"{index % 5}.{index % 10}",
        "inLanguage": ("en", "de", "fr-CA", "ja")[index % 4],
        "role": f"Inspector {index % 4}",
        "term": f"Session {index // 1000}",
        "activityStartDate": (valid_from - timedelta(days=90)).date().isoformat(),
        "activityEndDate": (valid_from - timedelta(days=1)).date().isoformat(),
        "description": f"Certificate {number} for {given} {family}",
        "awardedDate": format_datetime_stamp(valid_from - timedelta(hours=index % 48)),
        "email": f"office+{index}@example-body.org",
        "phone": f"+49 30 {index:07d}",
    }
    for names, bits, target in (
        (_ACHIEVEMENT_OPTIONAL, achievement_bits, achievement),
        (_SUBJECT_OPTIONAL, subject_bits, subject),
        (_CREDENTIAL_OPTIONAL, credential_bits, credential),
        (_ISSUER_OPTIONAL, issuer_bits, issuer),
    ):
        for bit, name in enumerate(names):
            if bits >> bit & 1:
                target[name] = optional[name]
    return credential


def resident_mib() -> tuple[float, str]:
    """Resident memory now (``VmRSS``), or the peak where /proc is missing (``maxrss``)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024, "VmRSS"
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024), "maxrss"


def _functools_caches() -> Iterator[tuple[str, Any]]:
    for name, module in sorted(sys.modules.items()):
        if module is None or name.split(".", 1)[0] not in _CACHE_PACKAGES:
            continue
        for attr, value in vars(module).items():
            if callable(getattr(value, "cache_info", None)) and value.__module__ == name:
                yield f"{name}.{attr}", value


def cache_sizes(store: ContextStore) -> dict[str, tuple[int, int | None]]:
    """Every cache found: name -> (entries now, bound; None for an unbounded one)."""
    sizes: dict[str, tuple[int, int | None]] = {}
    for name, function in _functools_caches():
        info = function.cache_info()
        sizes[name] = (info.currsize, info.maxsize)
    processed = processed_contexts(store)
    sizes["contexts.processed (default store)"] = (len(processed), processed.maxsize)
    inverse = pyld_jsonld._inverse_context_cache
    sizes["pyld inverse contexts"] = (len(inverse), int(inverse.maxsize))
    return sizes


@dataclass(frozen=True)
class Sample:
    signatures: int
    seconds: float
    rss_mib: float
    shapes: int
    templates: int
    hits: int
    full: int
    compiled: int
    rejected: int


def take_sample(signatures: int, seconds: float) -> Sample:
    gc.collect()
    stats = FAST.stats()
    return Sample(
        signatures=signatures,
        seconds=round(seconds, 3),
        rss_mib=round(resident_mib()[0], 2),
        shapes=stats.shapes,
        templates=stats.templates,
        hits=stats.hits,
        full=stats.full,
        compiled=stats.compiled,
        rejected=stats.rejected,
    )


def _trace_diff(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> dict[str, Any]:
    """Growth of the traced Python heap, and the ten sites that grew most with their callers."""
    ignore = (
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, __file__),
    )
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    top = []
    for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:10]:
        frames = [f"{f.filename}:{f.lineno}" for f in stat.traceback]
        ours = [f for f in frames if "/site-packages/" not in f and "/lib/python" not in f]
        top.append(
            {
                "kib": round(stat.size_diff / 1024, 1),
                "blocks": stat.count_diff,
                "where": frames[-1] if frames else "?",
                "callers": ours[-4:-1],
            }
        )
    return {"total_kib": round(sum(s.size_diff for s in stats) / 1024, 1), "top": top}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Sign ``args.count`` credentials; the samples, the growth and the verdict."""
    store = default_store()
    now = datetime.now(UTC)  # the adapter's clock (STYLE 12)
    key_type = default_key_type(args.suite)
    pair = KeyPair.generate(key_type)
    signer = pair.signer()
    did = pair.public_key.did_key
    options = ProofOptions(created=now)
    start = now - timedelta(days=200)
    marks = {args.count * tenth // 10: tenth for tenth in range(1, 11)}
    if args.trace:
        tracemalloc.start(TRACE_FRAMES)
    samples = [take_sample(0, 0.0)]
    caches_at: dict[int, dict[str, tuple[int, int | None]]] = {0: cache_sizes(store)}
    kept: list[dict[str, Any] | str] = []  # one signed credential per tenth, verified at the end
    snapshot = None
    began = time.perf_counter()
    for index in range(args.count):
        shape = shape_for(index, args.shapes, args.hot)
        credential = build_credential(index, shape, issuer_did=did, start=start)
        signed = sign_credential(
            credential, signer, args.suite, store=store, options=options, canonicalizer=FAST
        )
        tenth = marks.get(index + 1)
        if tenth is not None:
            kept.append(signed)
            samples.append(take_sample(index + 1, time.perf_counter() - began))
            caches_at[tenth] = cache_sizes(store)
            if args.trace and tenth == BASELINE_TENTH:
                snapshot = tracemalloc.take_snapshot()
            if not args.json:
                print(
                    f"  {index + 1:,} signed, {samples[-1].rss_mib:.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    seconds = time.perf_counter() - began
    trace = None
    if args.trace and snapshot is not None:
        trace = _trace_diff(snapshot, tracemalloc.take_snapshot())
        tracemalloc.stop()

    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST)
    failures = [
        r.verdict.value
        for r in (verify_credential(s, policy, now=now) for s in kept)
        if not r.verified
    ]
    if failures:
        raise SystemExit(f"signed credentials do not verify: {failures}")

    base, end = samples[BASELINE_TENTH], samples[-1]
    growth_mib = end.rss_mib - base.rss_mib
    growth_percent = 100 * growth_mib / base.rss_mib
    flat = growth_mib < FLAT_MIB or growth_percent < FLAT_PERCENT
    return {
        "suite": args.suite,
        "key_type": key_type.value,
        "count": args.count,
        "shapes": args.shapes,
        "hot": args.hot,
        "max_shapes": FAST.max_shapes,
        "seconds": round(seconds, 2),
        "per_second": round(args.count / seconds, 1),
        "rss_source": resident_mib()[1],
        "samples": [asdict(s) for s in samples],
        "growth": {
            "from_signatures": base.signatures,
            "mib": round(growth_mib, 2),
            "percent": round(growth_percent, 2),
        },
        "verdict": "flat" if flat else "GROWING",
        "verified": len(kept),
        "caches": {
            name: {
                "baseline": caches_at[BASELINE_TENTH].get(name, (0, None))[0],
                "end": size,
                "maxsize": bound,
            }
            for name, (size, bound) in caches_at[10].items()
        },
        "trace": trace,
    }


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"memory, {result['suite']} ({result['key_type']}): {result['count']:,} distinct "
        f"credentials, {result['shapes']} shapes ({result['hot']} hot), "
        f"max_shapes {result['max_shapes']}",
        f"{'checkpoint':>10} {'signatures':>11} {'seconds':>8} {result['rss_source'] + ' MiB':>10}"
        f" {'shapes':>7} {'templates':>9} {'hits':>8} {'full':>7} {'compiled':>8}",
    ]
    for tenth, s in enumerate(result["samples"]):
        lines.append(
            f"{tenth * 10:>9}% {s['signatures']:>11,} {s['seconds']:>8.1f} {s['rss_mib']:>10.1f}"
            f" {s['shapes']:>7} {s['templates']:>9} {s['hits']:>8,} {s['full']:>7,}"
            f" {s['compiled']:>8}"
        )
    lines.append(f"{'cache':<48} {'at 20%':>8} {'at end':>8} {'bound':>8}")
    for name, c in result["caches"].items():
        bound = "NONE" if c["maxsize"] is None else str(c["maxsize"])
        lines.append(f"{name:<48} {c['baseline']:>8} {c['end']:>8} {bound:>8}")
    g = result["growth"]
    lines.append(
        f"growth from {g['from_signatures']:,} signatures to the end: {g['mib']:+.1f} MiB "
        f"({g['percent']:+.1f}%): {result['verdict']}"
    )
    lines.append(
        f"throughput: {result['per_second']:,.0f} signatures/s over the whole run "
        f"({result['seconds']:.1f} s; {result['verified']} samples verified)"
    )
    trace = result["trace"]
    if trace is not None:
        lines.append(
            f"tracemalloc, 20% to the end: traced heap {trace['total_kib']:+,.1f} KiB;"
            " the sites that grew most (callers below)"
        )
    for row in trace["top"] if trace is not None else ():
        lines.append(f"  {row['kib']:+9.1f} KiB {row['blocks']:+7} blocks  {row['where']}")
        lines.extend(f"      {frame}" for frame in row["callers"])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--suite", choices=sorted(REGISTRY), default="eddsa-rdfc-2022")
    parser.add_argument("--shapes", type=int, default=600, help="Distinct shapes in the cycle.")
    parser.add_argument(
        "--hot", type=int, default=None, help="Shapes four credentials in five take (64)."
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when memory grows.")
    parser.add_argument("--trace", action="store_true", help="tracemalloc diff, 20%% to end.")
    args = parser.parse_args()
    if args.count < 10:
        parser.error("--count must be at least 10")
    if not 1 <= args.shapes <= MAX_SHAPES:
        parser.error(f"--shapes must be from 1 to {MAX_SHAPES}")
    if args.hot is None:
        args.hot = min(64, args.shapes)
    if not 1 <= args.hot <= args.shapes:
        parser.error("--hot must be from 1 to --shapes")
    result = run(args)
    print(json.dumps(result) if args.json else describe(result), flush=True)
    return 1 if args.strict and result["verdict"] != "flat" else 0


if __name__ == "__main__":
    sys.exit(main())
