"""``certvc bench``: the JSON shape operators' scripts read, and what is measured.

No speed is asserted here (timings belong in bench/): only that the command measures the
product's path for the suite and operation asked, and reports it in a stable shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from contexts import InputError, default_store
from issuer.benchmark import Operation, benchmark, run_benchmark
from issuer.cli import main
from verifier.samples import certification_credential

KEYS = {"suite", "op", "per_second", "median_ms", "p95_ms"}


@pytest.fixture(autouse=True)
def restore_affinity() -> Iterator[None]:
    """The command pins its process to one core; give the test process its cores back."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    yield
    if cpus is not None:
        os.sched_setaffinity(0, cpus)


def _bench(*args: str) -> object:
    return CliRunner().invoke(main, ["bench", "--seconds", "0.02", *args])


@pytest.mark.parametrize(
    ("suite", "op"),
    [
        ("eddsa-rdfc-2022", "sign"),
        ("eddsa-rdfc-2022", "verify"),
        ("ecdsa-rdfc-2019", "sign"),
        ("vc+jwt", "verify"),
    ],
)
def test_json_output_has_the_documented_keys(suite: str, op: str) -> None:
    done = _bench("--suite", suite, "--op", op, "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert KEYS <= set(result)
    assert (result["suite"], result["op"], result["path"]) == (suite, op, "fast")
    assert result["per_second"] > 0 and result["runs"] >= 1
    assert 0 < result["median_ms"] <= result["p95_ms"]
    assert result["key_type"] == ("p-256" if suite == "ecdsa-rdfc-2019" else "ed25519")


def test_reference_measures_the_plain_path() -> None:
    done = _bench("--suite", "eddsa-rdfc-2022", "--op", "sign", "--reference", "--json")
    assert done.exit_code == 0
    assert json.loads(done.stdout)["path"] == "reference"


def test_text_output_is_one_readable_line() -> None:
    done = _bench("--suite", "ecdsa-rdfc-2019", "--op", "verify", "--key-type", "p-384")
    assert done.exit_code == 0
    [line] = done.stdout.splitlines()
    assert line.startswith("ecdsa-rdfc-2019 p-384 verify (fast path): ")
    assert "/s, median " in line and " ms, p95 " in line


def test_a_given_credential_is_measured(tmp_path: Path) -> None:
    """The credential file is signed by the bench key (its issuer becomes the key's DID)."""
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:example:someone", "name": "Body"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "name": "Ada"},
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(credential))
    done = _bench("--suite", "eddsa-rdfc-2022", "--op", "verify", "--json", str(path))
    assert done.exit_code == 0, done.output
    size = json.loads(done.stdout)["credential_bytes"]
    assert 200 < size < 400  # this small credential, not the 1.7 KB default one


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (
            ["--suite", "ecdsa-rdfc-2019", "--op", "sign", "--key-type", "ed25519"],
            "key_unsupported",
        ),
        (["--suite", "vc+jwt", "--op", "sign", "no-such-file.json"], "input_unusable"),
    ],
)
def test_unusable_requests_exit_2(args: list[str], code: str) -> None:
    done = _bench(*args)
    assert done.exit_code == 2
    assert f"certvc: error: {code}:" in done.stderr


def test_a_credential_that_cannot_be_signed_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "x": 1}))
    done = _bench("--suite", "eddsa-rdfc-2022", "--op", "sign", str(path))
    assert done.exit_code == 2 and "certvc: error:" in done.stderr


def test_an_expired_credential_is_not_benchmarked_as_a_verification() -> None:
    """Timing a failing verification would mislead: it is refused, naming the verdict."""
    expired = certification_credential("did:example:x", valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(InputError) as caught:
        benchmark(
            "eddsa-rdfc-2022",
            Operation.VERIFY,
            store=default_store(),
            now=datetime(2030, 1, 1, tzinfo=UTC),
            seconds=0.01,
            credential=expired,
        )
    assert "EXPIRED" in caught.value.message


def test_statistics_come_from_the_clock() -> None:
    """20 warm-up runs first; then per_second = runs / their total time, the median, and the
    p95 by nearest rank. (Durations are exact binary fractions of a second.)"""
    now = [0.0]
    runs_made = [0]

    def operation() -> None:
        now[0] += 0.25 if runs_made[0] % 4 == 3 else 0.125
        runs_made[0] += 1

    per_second, median_ms, p95_ms, runs = run_benchmark(operation, 1.0, clock=lambda: now[0])
    assert runs_made[0] == 20 + 7 and runs == 7  # 6 x 0.125 s + 1 x 0.25 s reach 1 s
    assert (per_second, median_ms, p95_ms) == (7.0, 125.0, 250.0)
