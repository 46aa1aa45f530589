"""One place chooses the canonicalizer (issues 15 and 17): the composition root.

The app is handed a canonicalizer that counts its calls; every path that signs or verifies
(issuing through the API and the W3C VC API, status changes that re-sign a list, renewals,
the verifier mounted at /v, the public page's live verification) must go through it. Code that
signed through anything else (the plain pyld path, say) would leave its count unchanged.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from contexts.errors import InputError
from contexts.loader import ContextStore
from issuer.cli import main
from issuer.db.models import Role
from issuer.services import accounts
from keys.suites import FAST, canonicalizer_named, canonize
from verifier.samples import VC_V2

from .conftest import AppEnv
from .support import NOW

CERTIFY = {
    "person": {"name": "Zoë Ångström-Ōtsuka", "reference": "P-1"},
    "scheme": "CWI-2",
    "scope": "VT-2",
    "reason": "examination passed",
}


class Counting:
    """The fast canonicalizer, counted (its JSON-LD safety shortcut too)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, document: Mapping[str, Any], store: ContextStore) -> str:
        self.calls += 1
        return FAST(document, store)

    def check_safe(self, document: Mapping[str, Any], store: ContextStore, **kw: Any) -> None:
        self.calls += 1
        FAST.check_safe(document, store, **kw)  # type: ignore[attr-defined]


PASSWORD = "correct horse battery"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1).decode()


@pytest.fixture
def counted(database_url: str, tmp_path: Path) -> Iterator[tuple[AppEnv, Counting]]:
    counting = Counting()
    site = AppEnv(
        tmp_path / "instance", database_url, CANONICALIZER=counting, IMPORT_IN_BACKGROUND=False
    )
    yield site, counting
    site.engine.dispose()
    site.app.extensions["certvc.db"].engine.dispose()


def test_every_signing_and_verifying_path_uses_the_configured_one(counted) -> None:
    site, counting = counted

    def through_it(method: str, path: str, scope: str | None, **kwargs: Any) -> Any:
        before = counting.calls
        headers = {**(site.auth(scope) if scope else {}), **kwargs.pop("headers", {})}
        reply = site.client.open(path, method=method, headers=headers, **kwargs)
        assert reply.status_code in (200, 201), (path, reply.get_data(as_text=True)[:300])
        assert counting.calls > before, f"{method} {path} did not use the configured one"
        return reply

    created = through_it("POST", "/api/v1/certifications", "issue", json=CERTIFY).json
    number = created["certification"]["number"]
    credential = created["verifiableCredential"]
    through_it("POST", "/api/v1/verify", None, json=credential)
    through_it("POST", "/credentials/verify", None, json={"verifiableCredential": credential})
    through_it(
        "POST",
        "/credentials/issue",
        "issue",
        json={
            "credential": {
                "@context": [VC_V2],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:holder", "name": "Holder"},
            }
        },
    )
    for action, scope in (("suspend", "status"), ("reinstate", "status"), ("renew", "issue")):
        through_it(
            "POST",
            f"/api/v1/certifications/{number}/{action}",
            scope,
            json={"reason": f"because {action}"},
        )
    switched = site.client.post(  # a switch, not a signature
        f"/api/v1/certifications/{number}/public-page",
        json={"enabled": True, "reason": "the holder asked"},
        headers=site.auth("issue"),
    )
    assert switched.status_code == 200
    current = site.client.get(f"/api/v1/certifications/{number}", headers=site.auth("status")).json[
        "credentials"
    ][-1]["id"]
    page = current.removeprefix("http://127.0.0.1:8000")
    through_it("GET", page, None, headers={"Accept": "text/html"})
    # A CSV import from the admin UI: a job its worker runs (here before the upload answers).
    site.write(
        lambda s: accounts.create_user(
            s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
        )
    )
    login_page = site.client.get("/admin/login").data
    site.client.post(
        "/admin/login",
        data={"username": "olga", "password": PASSWORD, "csrf_token": _csrf(login_page)},
    )
    before = counting.calls
    uploaded = site.client.post(
        "/admin/import",
        data={
            "csrf_token": _csrf(site.client.get("/admin/import").data),
            "reason": "exam session",
            "file": (io.BytesIO(b"name,reference,scheme,scope\nGrace,P-9,CWI-2,VT-2\n"), "a.csv"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.data[:300]
    assert b"Done: 1 of 1 rows imported" in site.client.get(uploaded.location).data
    assert counting.calls > before, "the admin import did not use the configured one"


def test_names_are_chosen_at_the_root_and_unknown_ones_refused(
    database_url: str, tmp_path: Path
) -> None:
    assert canonicalizer_named("fast") is FAST and canonicalizer_named("Reference") is canonize
    with pytest.raises(InputError, match="unknown canonicalizer"):
        canonicalizer_named("quick")
    with pytest.raises(InputError, match="unknown canonicalizer"):
        AppEnv(tmp_path / "instance", database_url, CANONICALIZER="quick")
    done = CliRunner().invoke(
        main, ["verify", "--trust-any", "x.json"], env={"CERTVC_CANONICALIZER": "quick"}
    )
    assert done.exit_code == 2 and "unknown canonicalizer" in done.stderr


def test_the_reference_path_issues_what_the_fast_one_verifies(
    database_url: str, tmp_path: Path
) -> None:
    """Configured to the plain path, the issuer signs; its own verifier (the same setting)
    and a fast one agree."""
    site = AppEnv(tmp_path / "instance", database_url, CANONICALIZER="reference")
    try:
        reply = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
        assert reply.status_code == 201, reply.json
        verified = site.client.post("/api/v1/verify", json=reply.json["verifiableCredential"])
        assert verified.json["verdict"] == "VALID"
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()
