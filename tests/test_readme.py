"""The README's quick-start shell blocks run as written (issue 19): issue, export, withdraw,
then the stand-alone `certvc verify` with a pinned trust list, against a fresh development
instance served by `certvc serve`. Only the port (8000 may be taken here) and the path of the
venv's `certvc` are substituted; the blocks are read from README.md, so it cannot drift.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.verifier.world import closed_port

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    """The ```sh blocks of the quick start that follow `make run` (the issue, export and
    withdraw block, and the trust-list verify block)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    wanted = [b for b in blocks if "certvc issue" in b or "certvc verify --trust" in b]
    assert len(wanted) == 2, blocks
    return wanted


def test_the_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    port = closed_port()  # free now; the server takes it
    certvc = str(Path(sys.executable).with_name("certvc"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    env["CERTVC_INSTANCE"] = str(tmp_path / "instance")
    public = f"http://127.0.0.1:{port}"
    init = subprocess.run(
        [certvc, "init", "--dev", "--public-url", public],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    server = subprocess.Popen(
        [certvc, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(public + "/v", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        outputs = []
        for block in _blocks():
            script = block.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            script = script.replace(".venv/bin/certvc", certvc)
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            outputs.append(done)
        issued, verified = outputs
        assert issued.returncode == 0, issued.stderr
        assert (tmp_path / "scratch" / "certificate.pdf").stat().st_size > 10_000
        # withdrawn in the first block: the stand-alone verifier says so (exit 1, not 2)
        assert verified.returncode == 1, verified.stderr
        assert verified.stdout.startswith("REVOKED"), verified.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
