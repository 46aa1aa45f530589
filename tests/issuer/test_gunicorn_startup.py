"""Start-up errors under gunicorn are one line, as the CLI prints them, and stop the server
(issue 16, finding 5): a real ``gunicorn 'issuer.app:create_app()'`` with a bad configuration
used to print a traceback of 70 to 290 lines per worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contexts.errors import CertvcError
from issuer import db
from issuer.app import create_app
from issuer.cli.common import error_line
from verifier.startup import GUNICORN_APP_LOAD_ERROR

from .support import init

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _gunicorn(
    variables: dict[str, str], cwd: Path, *flags: str, app: str = "issuer.app:create_app()"
) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    environment.update(variables, PYTHONPATH=str(ROOT))
    command = [str(GUNICORN), "--bind", "127.0.0.1:0", "--workers", "1", "--no-control-socket"]
    return subprocess.run(
        [*command, *flags, app],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cli_line(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The line the CLI prints for the error the factory raises outside gunicorn."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CertvcError) as caught:
        create_app()
    return error_line(caught.value.code, caught.value.message)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gunicorn") / "instance"
    folder.mkdir()
    init(folder, db.sqlite_url(folder))
    return folder


CASES = {
    "no-instance": ({"CERTVC_INSTANCE": "{tmp}/nowhere"}, "instance_not_ready", ()),
    "database-unreachable": (
        {
            "CERTVC_INSTANCE": "{instance}",
            # Port 1 on loopback: nothing listens, the connection is refused at once.
            "CERTVC_DATABASE_URL": "postgresql+psycopg://certvc@127.0.0.1:1/certvc",
        },
        "instance_not_ready",
        ("--preload",),  # loaded in the master: the same one line
    ),
    "bad-public-url": (
        {"CERTVC_INSTANCE": "{instance}", "CERTVC_PUBLIC_URL": "ftp://certs.example.org"},
        "field_invalid",
        (),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_configuration_is_one_line_and_a_stop(
    case: str, instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template, code, flags = CASES[case]
    variables = {
        name: value.format(tmp=tmp_path, instance=instance) for name, value in template.items()
    }
    run = _gunicorn(variables, tmp_path, *flags)
    output = run.stdout + run.stderr
    assert run.returncode == GUNICORN_APP_LOAD_ERROR, output
    assert "Traceback" not in output and 'File "' not in output, output
    ours = [line for line in run.stderr.splitlines() if line.startswith("certvc: error:")]
    assert len(ours) == 1, output
    assert ours[0].startswith(f"certvc: error: {code}: "), output
    assert ours[0] == _cli_line(variables, monkeypatch)
    # Only gunicorn's own short log lines besides ours (start, worker, stop, reason).
    assert len(output.splitlines()) <= 12, output


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"CERTVC_VERIFIER_TRUST_FILE": "{tmp}/no-trust-list.json"}, "trust_list_invalid"),
        ({"CERTVC_VERIFIER_RATE_PER_MINUTE": "sixty"}, "input_unusable"),
        ({"CERTVC_TRUSTED_PROXIES": "-1"}, "input_unusable"),
    ],
)
def test_the_stand_alone_verifier_is_one_line_and_a_stop_too(
    variables: dict[str, str], code: str, tmp_path: Path
) -> None:
    """``gunicorn 'verifier.app:create_app()'`` with a bad setting: the same one line."""
    given = {name: value.format(tmp=tmp_path) for name, value in variables.items()}
    run = _gunicorn(given, tmp_path, app="verifier.app:create_app()")
    output = run.stdout + run.stderr
    assert run.returncode == GUNICORN_APP_LOAD_ERROR, output
    assert "Traceback" not in output and 'File "' not in output, output
    ours = [line for line in run.stderr.splitlines() if line.startswith("certvc: error:")]
    assert len(ours) == 1 and ours[0].startswith(f"certvc: error: {code}: "), output
    assert len(output.splitlines()) <= 12, output
