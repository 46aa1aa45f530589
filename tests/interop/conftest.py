"""Fixtures of the interop tests: Digital Bazaar's reference implementation and our CLI.

Node is looked up once per session. Without node the tests skip with a reason, except under CI
(``CI`` set), where a missing node is an error: the interop suite must not vanish silently there.
Signing is done once per session and side, in batches, to keep node and CLI start-ups few.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.interop.cases import CASES, Signed, unsigned
from tests.interop.credentials import CREATED
from tests.interop.harness import (
    Certvc,
    HarnessError,
    Reference,
    certvc_command,
    ensure_node_modules,
)


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The reference implementation, installed from package-lock.json on first use."""
    node = shutil.which("node")
    if node is None:
        message = "interop tests need node (Digital Bazaar's reference implementation is in JS)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run them")
        pytest.skip(message)
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("node is installed but npm is not: cannot install tests/interop/js")
    ensure_node_modules(npm)
    return Reference(node)


@pytest.fixture(scope="session")
def certvc(tmp_path_factory: pytest.TempPathFactory) -> Certvc:
    """Our CLI, with a scratch folder for the files it reads."""
    return Certvc(tuple(certvc_command()), tmp_path_factory.mktemp("certvc"))


@pytest.fixture(scope="session")
def signed_by_us(certvc: Certvc) -> Signed:
    """Every case signed by ``certvc sign`` (a failure is kept, for its own test to report)."""
    out: Signed = {}
    for key, name in CASES:
        try:
            out[key.name, name] = certvc.sign(
                unsigned(key, name),
                key.key_pair(),
                key.suite,
                created=CREATED,
                tag=f"{key.name}-{name}",
            )
        except HarnessError as exc:
            out[key.name, name] = exc
    return out


@pytest.fixture(scope="session")
def signed_by_them(reference: Reference) -> Signed:
    """Every case signed by @digitalbazaar/vc issue(), in one node call."""
    jobs = [
        {
            "credential": unsigned(key, name),
            "keyPair": key.key_pair(),
            "cryptosuite": key.suite,
            "created": CREATED,
        }
        for key, name in CASES
    ]
    results = reference.run("sign.mjs", jobs)
    out: Signed = {}
    for (key, name), result in zip(CASES, results, strict=True):
        if "signed" not in result:
            raise HarnessError(f"reference could not sign {key.name}-{name}: {result}")
        out[key.name, name] = result["signed"]
    return out
