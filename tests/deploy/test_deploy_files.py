"""The shipped deployment files stay usable (issue 18): HAProxy accepts its configuration, the
container's entry point reads the passphrase file, and the Dockerfile copies files that exist
into an image that runs as an unprivileged user. (No container engine runs here: the image and
compose.yaml are not built or started by the tests; docs/deployment.md says what was checked.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.issuer.support import init
from tests.verifier.world import closed_port

from .nodes import GUNICORN_CONF, HAPROXY_CFG, ROOT, clean_env, haproxy_binary, tls_certificate

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def test_haproxy_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    haproxy = haproxy_binary()
    if haproxy is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed (.ci/run installs it)")
        pytest.skip("haproxy is not installed")
    pem, _ = tls_certificate(tmp_path)
    env = clean_env(
        CERTVC_PROXY_BIND="127.0.0.1:8443",  # only parsed (-c binds nothing)
        CERTVC_PROXY_HTTP_BIND="127.0.0.1:8080",
        CERTVC_TLS_CERT=str(pem),
        CERTVC_NODE1="certvc-1:8000",
        CERTVC_NODE2="certvc-2:8000",
        CERTVC_DNS="127.0.0.11:53",
    )
    done = subprocess.run(
        [haproxy, "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    missing = {k: v for k, v in env.items() if k != "CERTVC_TLS_CERT"}
    refused = subprocess.run(
        [haproxy, "-c", "-f", str(HAPROXY_CFG)], env=missing, capture_output=True, text=True
    )
    assert refused.returncode != 0  # no certificate: refused, not served in clear


def test_the_entrypoint_reads_the_passphrase_file_and_hides_its_name(tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("a passphrase with spaces\n", encoding="utf-8")
    env = clean_env(CERTVC_KEY_PASSPHRASE_FILE=str(secret))
    show = 'printf "%s|%s" "$CERTVC_KEY_PASSPHRASE" "${CERTVC_KEY_PASSPHRASE_FILE:-}"'
    done = subprocess.run(
        [str(ENTRYPOINT), "sh", "-c", show], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout == "a passphrase with spaces|"
    env["CERTVC_KEY_PASSPHRASE_FILE"] = str(tmp_path / "absent")
    failed = subprocess.run([str(ENTRYPOINT), "true"], env=env, capture_output=True, text=True)
    assert failed.returncode == 2
    assert failed.stderr.startswith("certvc: error: cannot read CERTVC_KEY_PASSPHRASE_FILE")


def test_the_dockerfile_copies_what_exists_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M)
    assert sources
    for line in sources:
        for source in line.split():
            assert (ROOT / source).exists(), source
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "/etc/certvc/gunicorn.conf.py" in dockerfile


@pytest.mark.parametrize("case", ["no instance", "database unreachable"])
def test_gunicorn_stops_at_start_with_one_line_on_bad_configuration(
    tmp_path: Path, case: str
) -> None:
    folder = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'certvc.db'}"
    if case == "database unreachable":
        init(folder, url)
        url = f"postgresql+psycopg://certvc@127.0.0.1:{closed_port()}/certvc"
    env = clean_env(CERTVC_INSTANCE=str(folder), CERTVC_DATABASE_URL=url, CERTVC_BIND="127.0.0.1:0")
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("certvc: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    assert errors[0].startswith("certvc: error: instance_not_ready: ")
    assert ("run certvc init" if case == "no instance" else "cannot reach the database") in errors[
        0
    ]
