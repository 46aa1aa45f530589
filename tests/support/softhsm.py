"""A real SoftHSM2 token for tests: a fresh token directory and configuration in a temporary
folder, initialised with Debian's ``softhsm2-util``.

SoftHSM2 reads ``SOFTHSM2_CONF`` and lists its tokens once, when a process first initialises
the module: a process sees the tokens that existed then. So in-process tests share one token
made before anything loads the module (the ``softhsm`` fixture of ``tests/conftest.py`` sets
``SOFTHSM2_CONF`` for the whole test session), and a test that runs certvc or gunicorn as a
subprocess may make its own token at any time and hand the subprocess :meth:`SoftHsm.env`.

Interface (the multi-node deployment test uses it too): :func:`available`, :func:`module_path`,
:func:`create_token` -> :class:`SoftHsm` with ``module``, ``token``, ``pin``, ``conf``,
``env()`` and ``init_args()``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's ``softhsm2`` package puts the module (``libsofthsm2.so``).
MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
DEFAULT_PIN = "246810"
DEFAULT_SO_PIN = "13579111"


def module_path() -> str | None:
    """The SoftHSM2 PKCS#11 module, or None when the package is not installed."""
    for candidate in MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def available() -> bool:
    return module_path() is not None and shutil.which("softhsm2-util") is not None


@dataclass(frozen=True)
class SoftHsm:
    """One initialised token in its own token directory."""

    conf: Path
    module: str
    token: str
    pin: str
    so_pin: str

    def env(self, *, pin: bool = True) -> dict[str, str]:
        """The variables a certvc process needs to use the token (the PIN unless ``pin`` is
        False); merge into a copy of ``os.environ``."""
        variables = {"SOFTHSM2_CONF": str(self.conf)}
        if pin:
            variables["CERTVC_PKCS11_PIN"] = self.pin
        return variables

    def init_args(self) -> list[str]:
        """The ``certvc init`` options that put the instance's keys in this token."""
        return [
            "--key-backend",
            "pkcs11",
            "--pkcs11-module",
            self.module,
            "--pkcs11-token",
            self.token,
        ]

    def util(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``softhsm2-util`` on this token's configuration."""
        return subprocess.run(
            ["softhsm2-util", *args],
            env={**os.environ, "SOFTHSM2_CONF": str(self.conf)},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )


def create_token(
    directory: Path,
    label: str = "certvc-test",
    *,
    pin: str = DEFAULT_PIN,
    so_pin: str = DEFAULT_SO_PIN,
) -> SoftHsm:
    """A configuration and token directory under ``directory`` and one fresh token ``label``.

    Calling it again with the same ``directory`` adds another token beside the first (a
    process that already loaded the module does not see it).
    """
    module = module_path()
    if module is None or shutil.which("softhsm2-util") is None:
        raise RuntimeError("SoftHSM2 is not installed (Debian: apt-get install softhsm2)")
    directory = Path(directory)
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n",
        encoding="utf-8",
    )
    hsm = SoftHsm(conf, module, label, pin, so_pin)
    hsm.util("--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin)
    return hsm
