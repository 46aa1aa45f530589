"""``certvc sign --jsonl``: one output line per input line, in order, errors as JSON lines.

A certification body signs a whole exam session at once; one bad line must never stop the batch
(issuer.bulk_signing). Output lines: the signed credential (Data Integrity), the compact JWS as
a JSON string (vc+jwt, VC-JOSE-COSE 3.1.1), or ``{"error": {"line", "code", "message"}}``.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contexts import default_store
from issuer.cli import main, sign_cmd
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, vc_jwt
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

CREATED = "2026-02-01T09:00:00Z"
NOW = datetime(2026, 2, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeyPair]:
    """A Multikey key pair file (the W3C vectors' format; no passphrase to stretch)."""
    pair = KeyPair.generate(KeyType.ED25519)
    path = tmp_path_factory.mktemp("key") / "key.json"
    path.write_text(
        json.dumps(
            {
                "publicKeyMultibase": pair.public_key.multibase,
                "secretKeyMultibase": pair.export_secret_multibase(),
            }
        )
    )
    return path, pair


def _credential(number: int) -> dict[str, Any]:
    credential = certification_credential(
        "did:example:ignored",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        person_name=f"Candidate {number} — Ōtsuka",
        certificate_number=f"CB-{number:05d}",
    )
    del credential["issuer"]  # becomes the key's DID
    return credential


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _sign(key: Path, path: Path, *more: str, suite: str = "eddsa-rdfc-2022") -> Any:
    return CliRunner().invoke(
        main,
        ["sign", "--key", str(key), "--suite", suite, "--created", CREATED, "--jsonl", *more]
        + [str(path)],
    )


def test_lines_come_back_signed_and_in_order(tmp_path: Path, key: tuple[Path, KeyPair]) -> None:
    """Two worker processes, 150 lines: output line i is input line i, signed and verifying."""
    path, pair = key
    credentials = [_credential(i) for i in range(150)]
    done = _sign(path, _write(tmp_path, [json.dumps(c) for c in credentials]), "--jobs", "2")
    assert done.exit_code == 0, done.stderr
    # only the plaintext-key warning: no progress bar when stderr is not a terminal
    assert done.stderr.splitlines() == [
        "certvc: warning: signing with an unencrypted Multikey key pair"
    ]
    out = done.stdout.splitlines()
    assert len(out) == 150
    policy = VerifierPolicy(store=default_store(), resolver=LocalResolver(), canonicalizer=FAST)
    for i, line in enumerate(out):
        signed = json.loads(line)
        assert signed["credentialSubject"]["licenseNumber"] == f"CB-{i:05d}"
        assert signed["issuer"] == pair.public_key.did_key
        if i % 30 == 0:
            assert verify_credential(signed, policy, now=NOW).verified


def test_a_batch_signs_what_single_signing_signs(tmp_path: Path, key: tuple[Path, KeyPair]) -> None:
    """Ed25519 is deterministic: a line signed in the batch equals ``certvc sign`` of it, in
    one process or two."""
    path, _ = key
    credentials = [_credential(i) for i in range(5)]
    batch = _write(tmp_path, [json.dumps(c, ensure_ascii=False) for c in credentials])
    one = _sign(path, batch, "--jobs", "1")
    two = _sign(path, batch, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout
    single = tmp_path / "single.json"
    single.write_text(json.dumps(credentials[3]))
    alone = CliRunner().invoke(
        main,
        ["sign", "--key", str(path), "--suite", "eddsa-rdfc-2022", "--created", CREATED]
        + [str(single)],
    )
    assert json.loads(one.stdout.splitlines()[3]) == json.loads(alone.stdout)


def test_bad_lines_become_error_lines_and_the_rest_is_signed(
    tmp_path: Path, key: tuple[Path, KeyPair]
) -> None:
    """Each failure is reported on its own line with the input line number and the stable
    code; exit 1 says some lines were not signed."""
    path, _ = key
    good = json.dumps(_credential(1))
    lines = [
        good,
        "not json",
        "",
        "[1, 2]",
        json.dumps({**_credential(2), "credentialSubject": {"grade": "A"}}),  # undefined term
        json.dumps({**_credential(3), "name": "\ud800"}),  # a lone surrogate
        json.dumps(
            {
                **_credential(4),
                "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/c"],
            }
        ),
        '{"a": 1, "a": 2}',
        good,
    ]
    done = _sign(path, _write(tmp_path, lines), "--jobs", "2")
    assert done.exit_code == 1
    assert "7 of 9 lines could not be signed" in done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert "proof" in out[0] and "proof" in out[-1]
    errors = {entry["error"]["line"]: entry["error"]["code"] for entry in out[1:-1]}
    assert errors == {
        2: "input_unusable",
        3: "input_unusable",
        4: "input_unusable",
        5: "jsonld_unsafe",
        6: "input_unusable",
        7: "context_not_allowed",
        8: "input_unusable",
    }
    assert all("@context" not in entry for entry in out[1:-1])


def test_vc_jwt_lines_are_json_strings(tmp_path: Path, key: tuple[Path, KeyPair]) -> None:
    path, pair = key
    done = _sign(path, _write(tmp_path, [json.dumps(_credential(7))]), suite="vc+jwt")
    assert done.exit_code == 0
    [line] = done.stdout.splitlines()
    token = json.loads(line)
    assert isinstance(token, str) and vc_jwt.looks_like_jwt(token)
    parsed = vc_jwt.parse(token)
    assert parsed.unverified_payload["issuer"] == pair.public_key.did_key


def test_an_unusable_batch_exits_2(tmp_path: Path, key: tuple[Path, KeyPair]) -> None:
    path, _ = key
    missing = _sign(path, tmp_path / "missing.jsonl")
    assert missing.exit_code == 2 and "certvc: error:" in missing.stderr
    not_utf8 = tmp_path / "latin1.jsonl"
    not_utf8.write_bytes(b'{"name": "\xe9"}\n')
    assert _sign(path, not_utf8).exit_code == 2
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("{}")
    assert _sign(bad_key, _write(tmp_path, ["{}"])).exit_code == 2


def test_an_empty_batch_prints_nothing(tmp_path: Path, key: tuple[Path, KeyPair]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    done = _sign(key[0], empty)
    assert done.exit_code == 0 and done.stdout == ""


def test_the_progress_bar_shows_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr("sys.stderr", stream)
        with sign_cmd._progress(3) as advance:
            for _ in range(3):
                advance(1)
        assert ("signing" in stream.getvalue()) is shown
