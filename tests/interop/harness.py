"""Drivers for the two sides of the interop tests: Digital Bazaar's reference (node) and our CLI.

Both sides are run as subprocesses with JSON in and JSON out, so the tests compare what a user of
each tool would see, not internals.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"
_MARKER = JS_DIR / "node_modules" / ".certvc-lock-sha256"
NODE_TIMEOUT_S = 180.0
NPM_TIMEOUT_S = 600.0
CLI_TIMEOUT_S = 120.0


class HarnessError(RuntimeError):
    """A tool of the harness itself failed (not a verification verdict)."""


def _lock_digest() -> str:
    return hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()


def ensure_node_modules(npm: str) -> None:
    """Run ``npm ci`` once per package-lock.json content.

    The marker in node_modules holds the SHA-256 of the lockfile it was installed from (mtimes
    are unreliable after a checkout); an flock serialises parallel pytest runs.
    """
    want = _lock_digest()
    if _MARKER.is_file() and _MARKER.read_text(encoding="ascii").strip() == want:
        return
    # outside the tree (npm ci empties node_modules, and the work tree stays clean)
    tag = hashlib.sha256(str(JS_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"certvc-interop-npm-{tag}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _MARKER.is_file() and _MARKER.read_text(encoding="ascii").strip() == want:
                return  # another run installed it while we waited
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
            if proc.returncode != 0:
                raise HarnessError(
                    f"npm ci failed in {JS_DIR} (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
                )
            _MARKER.write_text(want + "\n", encoding="ascii")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Reference:
    """Runs a script of tests/interop/js with node: one JSON payload in, one JSON result out."""

    node: str

    def run(self, script: str, payload: Any) -> Any:
        """Run ``script`` on ``payload`` (a job, or a list of jobs for a batch).

        :raises HarnessError: node exited non-zero, timed out or printed no JSON.
        """
        path = JS_DIR / script
        if not path.is_file():
            raise HarnessError(f"no such reference script: {path}")
        try:
            proc = subprocess.run(
                [self.node, str(path)],
                cwd=JS_DIR,
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=NODE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"node {script} timed out after {NODE_TIMEOUT_S}s") from exc
        if proc.returncode != 0:
            raise HarnessError(f"node {script} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise HarnessError(
                f"node {script} printed no JSON: {proc.stdout[:500]!r}\n{proc.stderr[-2000:]}"
            ) from exc


@dataclass(frozen=True)
class CliResult:
    """What one ``certvc`` invocation did."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise HarnessError(
                f"certvc printed no JSON (exit {self.exit_code}): {self.stdout[:500]!r}\n"
                f"{self.stderr[-2000:]}"
            ) from exc


def certvc_command() -> list[str]:
    """The console script of the running venv, else ``python -m issuer``."""
    script = shutil.which("certvc", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script]
    return [sys.executable, "-m", "issuer"]


@dataclass(frozen=True)
class Certvc:
    """Our side, driven through the stable CLI only."""

    command: tuple[str, ...]
    workdir: Path

    def _run(self, args: Sequence[str]) -> CliResult:
        proc = subprocess.run(
            [*self.command, *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def _write(self, name: str, data: Any) -> Path:
        path = self.workdir / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    def sign(
        self,
        credential: dict[str, Any],
        key_pair: dict[str, str],
        suite: str,
        *,
        created: str | None = None,
        tag: str = "cred",
    ) -> dict[str, Any]:
        """``certvc sign``; returns the signed credential.

        :raises HarnessError: the CLI did not exit 0.
        """
        key = self._write(f"{tag}.key.json", key_pair)
        unsigned = self._write(f"{tag}.unsigned.json", credential)
        args = ["sign", "--key", str(key), "--suite", suite]
        if created is not None:
            args += ["--created", created]
        result = self._run([*args, str(unsigned)])
        if result.exit_code != 0:
            raise HarnessError(f"certvc sign exited {result.exit_code}:\n{result.stderr[-4000:]}")
        signed = result.json()
        if not isinstance(signed, dict):
            raise HarnessError(f"certvc sign printed {type(signed).__name__}, not an object")
        return signed

    def verify(self, credential: dict[str, Any], *, tag: str = "cred") -> CliResult:
        """``certvc verify --json --trust-any``; the exit code and report are the caller's to
        judge. Interop is about proofs: the reference's throwaway did:key issuers are on no
        trust list, so trust is waived (tests/verifier/test_cli.py covers the default)."""
        path = self._write(f"{tag}.signed.json", credential)
        return self._run(["verify", "--json", "--trust-any", str(path)])
