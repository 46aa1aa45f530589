"""The certvc CLI as scripts use it: outputs, JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli import main
from keys.keypair import KeyPair, KeyType
from verifier.samples import certification_credential

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("CERTVC_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CERTVC_CONTEXTS_MANIFEST", raising=False)
    monkeypatch.setenv("CERTVC_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CERTVC_ALLOW_ORIGINS", "CERTVC_DEV_MODE"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _generate(runner: CliRunner, tmp_path: Path, key_type: str = "ed25519") -> tuple[Path, dict]:
    out = tmp_path / f"{key_type}.key.json"
    done = runner.invoke(
        main, ["keys", "generate", "--type", key_type, "--out", str(out), "--json"]
    )
    assert done.exit_code == 0, done.output
    return out, json.loads(done.stdout)


def _unsigned(tmp_path: Path, did: str, **changes) -> Path:
    """The sample credential without status entries: its example.org lists are never fetched
    in tests (status checking is tested against a local server in test_cli_qr.py)."""
    credential = certification_credential(did, valid_from=datetime.now(UTC))
    del credential["credentialStatus"]
    credential.update(changes)
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    return path


@pytest.mark.parametrize("key_type", ["ed25519", "p-256", "p-384"])
def test_keys_generate_writes_an_encrypted_0600_file(runner, tmp_path, key_type) -> None:
    out, printed = _generate(runner, tmp_path, key_type)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    body = out.read_text()
    assert "ENCRYPTED PRIVATE KEY" in body
    assert printed["did"] == "did:key:" + printed["publicKeyMultibase"]
    prefix = {"ed25519": "z6Mk", "p-256": "zDna", "p-384": "z82"}[key_type]
    assert printed["publicKeyMultibase"].startswith(prefix)


def test_keys_generate_text_output(runner, tmp_path) -> None:
    done = runner.invoke(
        main, ["keys", "generate", "--type", "ed25519", "--out", str(tmp_path / "k")]
    )
    assert done.exit_code == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("publicKeyMultibase: z6Mk")
    assert lines[1] == "did: did:key:" + lines[0].split(": ")[1]


def test_keys_generate_without_passphrase_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CERTVC_KEY_PASSPHRASE", raising=False)
    done = CliRunner().invoke(
        main, ["keys", "generate", "--type", "ed25519", "--out", str(tmp_path / "k")]
    )
    assert done.exit_code == 2
    assert "passphrase_required" in done.stderr
    assert not (tmp_path / "k").exists()


def test_keys_generate_plaintext_only_when_asked(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CERTVC_KEY_PASSPHRASE", raising=False)
    out = tmp_path / "dev.key"
    done = CliRunner().invoke(
        main, ["keys", "generate", "--type", "ed25519", "--out", str(out), "--plaintext"]
    )
    assert done.exit_code == 0
    assert "NOT encrypted" in done.stderr
    assert "ENCRYPTED" not in out.read_text()


def test_passphrase_file_option(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CERTVC_KEY_PASSPHRASE", raising=False)
    secret = tmp_path / "pass.txt"
    secret.write_text("from a file\n")
    key = tmp_path / "k.json"
    runner = CliRunner()
    assert (
        runner.invoke(
            main,
            [
                "keys",
                "generate",
                "--type",
                "p-256",
                "--out",
                str(key),
                "--passphrase-file",
                str(secret),
            ],
        ).exit_code
        == 0
    )
    unsigned = _unsigned(tmp_path, "did:example:ignored")
    data = json.loads(unsigned.read_text())
    del data["issuer"]
    unsigned.write_text(json.dumps(data))
    signed = runner.invoke(
        main,
        [
            "sign",
            "--key",
            str(key),
            "--suite",
            "ecdsa-rdfc-2019",
            "--passphrase-file",
            str(secret),
            str(unsigned),
        ],
    )
    assert signed.exit_code == 0, signed.stderr
    assert json.loads(signed.stdout)["issuer"].startswith("did:key:zDna")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope")
    refused = runner.invoke(
        main,
        [
            "sign",
            "--key",
            str(key),
            "--suite",
            "ecdsa-rdfc-2019",
            "--passphrase-file",
            str(wrong),
            str(unsigned),
        ],
    )
    assert refused.exit_code == 2
    assert "passphrase_wrong" in refused.stderr


@pytest.mark.parametrize(
    ("suite", "key_type"),
    [
        ("eddsa-rdfc-2022", "ed25519"),
        ("ecdsa-rdfc-2019", "p-256"),
        ("ecdsa-rdfc-2019", "p-384"),
        ("vc+jwt", "ed25519"),
        ("vc+jwt", "p-256"),
    ],
)
def test_sign_then_verify(runner, tmp_path, suite, key_type) -> None:
    key, printed = _generate(runner, tmp_path, key_type)
    unsigned = _unsigned(tmp_path, printed["did"])
    signed = runner.invoke(main, ["sign", "--key", str(key), "--suite", suite, str(unsigned)])
    assert signed.exit_code == 0, signed.stderr
    secured = tmp_path / "secured"
    secured.write_text(signed.stdout)
    if suite == "vc+jwt":
        assert signed.stdout.count(".") == 2 and signed.stdout.startswith("ey")
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(secured)])
    assert done.exit_code == 0, done.stdout
    result = json.loads(done.stdout)
    assert result["verified"] is True and result["verdict"] == "VALID"
    names = [c["check"] for c in result["checks"]]
    assert {"shape", "context", "proof", "issuer", "validity", "status"} <= set(names)
    assert all(set(c) == {"check", "status", "code", "message"} for c in result["checks"])
    status = next(c for c in result["checks"] if c["check"] == "status")
    assert status["status"] == "skipped"


def test_verify_tampered_exits_1(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    unsigned = _unsigned(tmp_path, printed["did"])
    signed = json.loads(
        runner.invoke(
            main, ["sign", "--key", str(key), "--suite", "eddsa-rdfc-2022", str(unsigned)]
        ).stdout
    )
    signed["credentialSubject"]["licenseNumber"] = "CB-2026-999999"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(signed))
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(path)])
    assert done.exit_code == 1
    result = json.loads(done.stdout)
    assert result["verdict"] == "INVALID_SIGNATURE"
    proof = next(c for c in result["checks"] if c["check"] == "proof")
    assert proof == {**proof, "status": "failed", "code": "signature_invalid"}


def test_verify_reads_stdin(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    unsigned = _unsigned(tmp_path, printed["did"])
    token = runner.invoke(
        main, ["sign", "--key", str(key), "--suite", "vc+jwt", str(unsigned)]
    ).stdout
    done = runner.invoke(main, ["verify", "--trust-any", "-"], input=token)
    assert done.exit_code == 0
    assert done.stdout.splitlines()[0] == "VALID"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json at all", "input_unusable"),
        (b"[1, 2, 3]", "input_unusable"),
        (b'{"hello": "world"}', "input_unusable"),
        (b"\xff\xfe\x00garbage", "input_unusable"),
        (b"[" * 100_000 + b"]" * 100_000, "input_too_deep"),
        (b'{"@context": 1, "@context": 2}', "input_unusable"),
    ],
    ids=["text", "array", "not-a-credential", "binary", "deep", "duplicate-keys"],
)
def test_verify_unusable_input_exits_2_with_one_line(runner, tmp_path, content, code) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(path)])
    assert done.exit_code == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert code in done.stderr


def test_verify_missing_file_exits_2(runner, tmp_path) -> None:
    done = runner.invoke(main, ["verify", "--trust-any", str(tmp_path / "nope.json")])
    assert done.exit_code == 2
    assert "input_unusable" in done.stderr


def test_unknown_context_refused_on_sign_and_verify(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    credential = certification_credential(printed["did"], valid_from=datetime.now(UTC))
    credential["@context"].append("https://evil.example/context.jsonld")
    unsigned = tmp_path / "c.json"
    unsigned.write_text(json.dumps(credential))
    done = runner.invoke(
        main, ["sign", "--key", str(key), "--suite", "eddsa-rdfc-2022", str(unsigned)]
    )
    assert done.exit_code == 2
    assert (
        "context_not_allowed" in done.stderr
        and "https://evil.example/context.jsonld" in done.stderr
    )
    verified = runner.invoke(main, ["verify", "--trust-any", "--json", str(unsigned)])
    assert verified.exit_code == 1
    context = next(c for c in json.loads(verified.stdout)["checks"] if c["check"] == "context")
    assert context["code"] == "context_not_allowed"


def test_undefined_term_refused_on_sign_naming_it(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    credential = certification_credential(printed["did"], valid_from=datetime.now(UTC))
    credential["credentialSubject"]["favouriteColour"] = "green"
    unsigned = tmp_path / "c.json"
    unsigned.write_text(json.dumps(credential))
    for suite in ("eddsa-rdfc-2022", "vc+jwt"):
        done = runner.invoke(main, ["sign", "--key", str(key), "--suite", suite, str(unsigned)])
        assert done.exit_code == 2
        assert "jsonld_unsafe" in done.stderr and "favouriteColour" in done.stderr


def test_sign_accepts_a_private_jwk(runner, tmp_path) -> None:
    pair = KeyPair.generate(KeyType.P256)
    key = tmp_path / "jwk.json"
    key.write_text(json.dumps(pair.export_private_jwk()))
    unsigned = _unsigned(tmp_path, pair.public_key.did_key)
    done = runner.invoke(main, ["sign", "--key", str(key), "--suite", "vc+jwt", str(unsigned)])
    assert done.exit_code == 0, done.stderr
    assert "unencrypted" in done.stderr


def test_wrong_key_for_suite_is_refused(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path, "p-256")
    done = runner.invoke(
        main,
        [
            "sign",
            "--key",
            str(key),
            "--suite",
            "eddsa-rdfc-2022",
            str(_unsigned(tmp_path, printed["did"])),
        ],
    )
    assert done.exit_code == 2
    assert "key_unsupported" in done.stderr


def test_demo_prints_a_verdict_per_suite(runner) -> None:
    done = runner.invoke(main, ["demo"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert len(lines) == 5
    assert all(
        "signed -> VALID" in line and "tampered -> INVALID_SIGNATURE" in line for line in lines
    )


def test_console_script_never_prints_a_traceback(tmp_path) -> None:
    """Through the real entry point: bad input gives one stderr line, exit 2."""
    exe = Path(sys.executable).with_name("certvc")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    for args in (
        ["verify", "--trust-any", str(bad)],
        ["sign", "--key", str(bad), "--suite", "vc+jwt", str(bad)],
        ["sign", "--key", str(tmp_path / "missing"), "--suite", "vc+jwt", str(bad)],
    ):
        done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_operator_manifest_admits_a_context(runner, tmp_path, monkeypatch) -> None:
    """Operators add a context file and its hash by configuration (CERTVC_CONTEXTS_MANIFEST)."""
    import hashlib

    url = "https://contexts.body.example/certification/v1"
    context = {
        "@context": {
            "@protected": True,
            "examVenue": "https://contexts.body.example/vocab#examVenue",
        }
    }
    body = json.dumps(context).encode()
    (tmp_path / "cert-v1.jsonld").write_bytes(body)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            [{"url": url, "file": "cert-v1.jsonld", "sha256": hashlib.sha256(body).hexdigest()}]
        )
    )
    key, printed = _generate(runner, tmp_path)
    credential = certification_credential(printed["did"], valid_from=datetime.now(UTC))
    del credential["credentialStatus"]  # no example.org status lists fetched in tests
    credential["@context"].append(url)
    credential["credentialSubject"]["examVenue"] = "Rotterdam"
    unsigned = tmp_path / "c.json"
    unsigned.write_text(json.dumps(credential))
    args = ["sign", "--key", str(key), "--suite", "eddsa-rdfc-2022", str(unsigned)]
    assert runner.invoke(main, args).exit_code == 2  # not admitted yet
    monkeypatch.setenv("CERTVC_CONTEXTS_MANIFEST", str(manifest))
    signed = runner.invoke(main, args)
    assert signed.exit_code == 0, signed.stderr
    path = tmp_path / "signed.json"
    path.write_text(signed.stdout)
    assert runner.invoke(main, ["verify", "--trust-any", str(path)]).exit_code == 0
    (tmp_path / "cert-v1.jsonld").write_bytes(body.replace(b"examVenue", b"examVenuX", 1))
    tampered = runner.invoke(main, ["verify", "--trust-any", str(path)])
    assert tampered.exit_code == 2 and "context_integrity" in tampered.stderr


def test_sign_chains_a_proof_to_an_earlier_one(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    unsigned = _unsigned(tmp_path, printed["did"])
    suite = ["--suite", "eddsa-rdfc-2022"]
    first = runner.invoke(
        main, ["sign", "--key", str(key), *suite, "--proof-id", "urn:uuid:a", str(unsigned)]
    )
    assert first.exit_code == 0, first.stderr
    once = tmp_path / "once.json"
    once.write_text(first.stdout)
    second = runner.invoke(
        main,
        ["sign", "--key", str(key), *suite, "--proof-id", "urn:uuid:b"]
        + ["--previous-proof", "urn:uuid:a", str(once)],
    )
    assert second.exit_code == 0, second.stderr
    chained = json.loads(second.stdout)
    assert [p["id"] for p in chained["proof"]] == ["urn:uuid:a", "urn:uuid:b"]
    assert chained["proof"][1]["previousProof"] == "urn:uuid:a"
    assert "previousProof" not in chained["proof"][0]
    path = tmp_path / "chained.json"
    path.write_text(json.dumps(chained))
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(path)])
    assert done.exit_code == 0, done.stdout
    assert json.loads(done.stdout)["verdict"] == "VALID"

    # The second proof covers the first: change the first's created and both fail.
    chained["proof"][0]["created"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(chained))
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(path)])
    assert done.exit_code == 1
    proof = next(c for c in json.loads(done.stdout)["checks"] if c["check"] == "proof")
    assert proof["status"] == "failed" and proof["code"] == "signature_invalid"


def test_previous_proof_must_name_a_proof_of_the_input(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    unsigned = _unsigned(tmp_path, printed["did"])
    done = runner.invoke(
        main,
        ["sign", "--key", str(key), "--suite", "eddsa-rdfc-2022"]
        + ["--previous-proof", "urn:uuid:missing", str(unsigned)],
    )
    assert done.exit_code == 2
    assert "proof_generation" in done.stderr and "urn:uuid:missing" in done.stderr
    assert done.stdout == ""


def test_proof_chains_need_a_data_integrity_suite(runner, tmp_path) -> None:
    key, printed = _generate(runner, tmp_path)
    unsigned = _unsigned(tmp_path, printed["did"])
    done = runner.invoke(
        main,
        ["sign", "--key", str(key), "--suite", "vc+jwt", "--proof-id", "urn:uuid:a"]
        + [str(unsigned)],
    )
    assert done.exit_code == 2
    assert "Data Integrity" in done.stderr


def test_an_id_only_subject_signs_and_verifies(tmp_path) -> None:
    """VC 2.0 §4.8: a subject may be just its id; `certvc sign` signs it, `verify` accepts it."""
    runner = CliRunner()
    key = tmp_path / "k.key"
    assert (
        runner.invoke(
            main, ["keys", "generate", "--type", "ed25519", "--out", str(key), "--plaintext"]
        ).exit_code
        == 0
    )
    unsigned = tmp_path / "c.json"
    unsigned.write_text(
        json.dumps(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:abcdefgh"},
            }
        )
    )
    env = {"CERTVC_DEV_MODE": "1"}
    signed = runner.invoke(
        main,
        ["sign", "--key", str(key), "--plaintext", "--suite", "eddsa-rdfc-2022", str(unsigned)],
        env=env,
    )
    assert signed.exit_code == 0, signed.stderr
    path = tmp_path / "signed.json"
    path.write_text(signed.stdout)
    done = runner.invoke(main, ["verify", "--trust-any", "--json", str(path)])
    assert done.exit_code == 0 and json.loads(done.stdout)["verdict"] == "VALID"
