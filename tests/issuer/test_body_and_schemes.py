"""Running a body (issue 12): its identity and its schemes, changed with a reason over the API
and the CLI, carried by new credentials only; bad values refused field by field, nothing
changed, never a 5xx. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuer.cli import main
from issuer.db.models import Action, AuditEvent, IssuedCredential, Role
from issuer.services import accounts, audit

from .conftest import AppEnv
from .support import BACKENDS, NOW

CERTIFY = {
    "person": {"name": "Ada Lovelace", "reference": "P-1"},
    "scheme": "CWI-2",
    "scope": "steel",
    "reason": "examination passed",
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    environment = AppEnv(tmp_path / "instance", database_url)
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _events(site: AppEnv, action: Action) -> list[AuditEvent]:
    with site.read() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        return list(rows)


def test_the_body_changes_with_a_reason_and_only_new_credentials_carry_it(site) -> None:
    before = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    old_profile = before.json["verifiableCredential"]["issuer"]
    shown = site.client.get("/api/v1/body", headers=site.auth("status")).json
    assert shown["accreditation"] == "ISO/IEC 17024 accredited (demonstration instance)"
    change = {
        "name": "ACME Welding Certification GmbH",
        "email": "certification@acme-welding.example",
        "address": {"street": "Schweißweg 1", "postalCode": "10115", "locality": "Berlin"},
        "country": "de",
        "accreditedBy": {
            "body": "DAkkS",
            "number": "D-ZP-12345-01-00",
            "validFrom": "2024-07-01",
            "validUntil": "2029-06-30",
            "url": "https://www.dakks.de/as/ast/d/D-ZP-12345-01-00.pdf",
        },
        "reason": "accreditation certificate received",
    }
    reply = site.client.patch("/api/v1/body", json=change, headers=site.auth("admin"))
    assert reply.status_code == 200, reply.json
    body = reply.json["body"]
    assert body["country"] == "DE" and body["accreditedBy"]["standard"] == "ISO/IEC 17024:2012"
    assert body["accreditation"].startswith("Accredited to ISO/IEC 17024:2012 by DAkkS")
    (event,) = _events(site, Action.BODY_UPDATE)
    changed = json.loads(event.details)["changed"]
    assert changed["name"] == ["Example Personnel Certification Body", change["name"]]
    assert event.reason == "accreditation certificate received"

    after = site.client.post(
        "/api/v1/certifications",
        json={**CERTIFY, "person": {"name": "Grace Hopper"}},
        headers=site.auth("issue"),
    )
    profile = after.json["verifiableCredential"]["issuer"]
    assert profile["name"] == change["name"] and profile["email"] == change["email"]
    assert profile["address"] == {
        "type": ["Address"],
        "streetAddress": "Schweißweg 1",
        "postalCode": "10115",
        "addressLocality": "Berlin",
        "addressCountryCode": "DE",
    }
    assert "D-ZP-12345-01-00" in profile["description"]
    assert (
        site.client.post("/api/v1/verify", json=after.json["verifiableCredential"]).json["verdict"]
        == "VALID"
    )
    with site.read() as session:  # the credential issued before is as it was signed
        stored = session.execute(
            select(IssuedCredential.document).where(
                IssuedCredential.credential_id == before.json["verifiableCredential"]["id"]
            )
        ).scalar_one()
        assert json.loads(stored)["issuer"] == old_profile
        assert audit.verify_chain(session).ok


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"country": "Germany"}, "country"),
        ({"url": "ftp://acme.example"}, "url"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"accreditedBy": {"validUntil": "99999-01-01"}}, "accreditedBy.validUntil"),
        ({"accreditedBy": {"validFrom": "2029-01-01", "validUntil": "2028-01-01"}}, "validUntil"),
        ({"accreditedBy": {"grade": "A"}}, "accreditedBy.grade"),
        ({"address": "Berlin"}, "address"),
        ({"colour": "blue"}, "colour"),
        ({}, "body"),
    ],
)
def test_bad_body_values_are_refused_and_change_nothing(site, change, field) -> None:
    before = site.client.get("/api/v1/body", headers=site.auth("status")).json
    reply = site.client.patch(
        "/api/v1/body", json={**change, "reason": "r"}, headers=site.auth("admin")
    )
    assert reply.status_code == 400, reply.json
    assert (
        reply.json["error"]["code"] == "field_invalid" and field in reply.json["error"]["message"]
    )
    assert site.client.get("/api/v1/body", headers=site.auth("status")).json == before
    assert _events(site, Action.BODY_UPDATE) == []


def test_only_admins_change_the_body_and_always_with_a_reason(site) -> None:
    change = {"name": "Someone else", "reason": "r"}
    assert (
        site.client.patch("/api/v1/body", json=change, headers=site.auth("issue")).status_code
        == 403
    )
    assert site.client.patch("/api/v1/body", json=change).status_code == 401
    missing = site.client.patch("/api/v1/body", json={"name": "X"}, headers=site.auth("admin"))
    assert missing.status_code == 400 and missing.json["error"]["code"] == "reason_required"


def test_a_scheme_changes_for_new_credentials_and_a_retired_one_certifies_nobody(site) -> None:
    first = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    number = first.json["certification"]["number"]
    reply = site.client.patch(
        "/api/v1/schemes/CWI-2",
        json={
            "name": "Welding Inspector, level 2",
            "surveillanceMonths": 12,
            "recertification": "Every 3 years: 2 years of practice and a practical test.",
            "reason": "scheme committee, 2026-12",
        },
        headers=site.auth("admin"),
    )
    assert reply.status_code == 200, reply.json
    assert reply.json["changed"] == ["name", "recertification", "surveillance_months"]
    scheme = site.client.get("/api/v1/schemes/CWI-2", headers=site.auth("status")).json
    assert scheme["surveillanceMonths"] == 12 and scheme["retired"] is None
    second = site.client.post(
        "/api/v1/certifications",
        json={**CERTIFY, "person": {"name": "Grace Hopper"}},
        headers=site.auth("issue"),
    )
    assert second.json["verifiableCredential"]["name"] == "Welding Inspector, level 2"
    assert first.json["verifiableCredential"]["name"] != "Welding Inspector, level 2"

    retired = site.client.post(
        "/api/v1/schemes/CWI-2/retire",
        json={"reason": "replaced by WI-1"},
        headers=site.auth("admin"),
    )
    assert retired.status_code == 200 and retired.json["retired"]
    refused = site.client.post(
        "/api/v1/certifications",
        json={**CERTIFY, "person": {"name": "Alan Turing"}},
        headers=site.auth("issue"),
    )
    assert refused.status_code == 400 and "retired" in refused.json["error"]["message"]
    renew = site.client.post(
        f"/api/v1/certifications/{number}/renew", json={"reason": "r"}, headers=site.auth("issue")
    )
    assert renew.status_code == 409 and "retired" in renew.json["error"]["message"]
    suspend = site.client.post(
        f"/api/v1/certifications/{number}/suspend",
        json={"reason": "r"},
        headers=site.auth("status"),
    )
    assert suspend.status_code == 200  # its certifications run their course
    again = site.client.post(
        "/api/v1/schemes/CWI-2/retire", json={"reason": "r"}, headers=site.auth("admin")
    )
    assert again.status_code == 409
    assert [e.action for e in _events(site, Action.SCHEME_RETIRE)] == [Action.SCHEME_RETIRE]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"validityDays": 0}, 400, "validityDays"),
        ({"validityDays": 10**9}, 400, "validityDays"),
        ({"code": "NEW"}, 400, "code"),
        ({"suite": "rsa"}, 400, "suite"),
        ({"surveillanceMonths": -1}, 400, "surveillanceMonths"),
        ({"name": ""}, 400, "name"),
        ({"colour": "blue"}, 400, "colour"),
    ],
)
def test_bad_scheme_changes_are_refused(site, change, status, field) -> None:
    before = site.client.get("/api/v1/schemes/CWI-2", headers=site.auth("status")).json
    reply = site.client.patch(
        "/api/v1/schemes/CWI-2", json={**change, "reason": "r"}, headers=site.auth("admin")
    )
    assert reply.status_code == status and field in reply.json["error"]["message"], reply.json
    assert site.client.get("/api/v1/schemes/CWI-2", headers=site.auth("status")).json == before
    unknown = site.client.patch(
        "/api/v1/schemes/NOPE", json={"name": "x", "reason": "r"}, headers=site.auth("admin")
    )
    assert unknown.status_code == 404


def test_the_cli_sets_the_body_and_schemes_and_explains_bad_values(site) -> None:
    env = {"CERTVC_INSTANCE": str(site.folder), "CERTVC_DATABASE_URL": site.url}
    runner = CliRunner()
    done = runner.invoke(
        main,
        ["body", "set", "--name", "ACME", "--country", "fr", "--reason", "renamed", "--json"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["body"]["country"] == "FR"
    shown = runner.invoke(main, ["body", "show"], env=env)
    assert shown.exit_code == 0 and "ACME" in shown.stdout
    bad = runner.invoke(main, ["body", "set", "--email", "nope", "--reason", "r"], env=env)
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines() == [
        "certvc: error: field_invalid: email: must be an e-mail address, e.g. "
        "certification@example.org"
    ]
    created = runner.invoke(
        main,
        [
            "schemes",
            "create",
            "--code",
            "WI-1",
            "--name",
            "Welding Inspector",
            "--criteria",
            "Exam",
            "--standard",
            "ISO 9712:2021",
            "--validity-days",
            "1095",
            "--reason",
            "new scheme",
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    duplicate = runner.invoke(
        main,
        [
            "schemes",
            "create",
            "--code",
            "WI-1",
            "--name",
            "x",
            "--criteria",
            "x",
            "--standard",
            "x",
            "--validity-days",
            "1",
            "--reason",
            "r",
        ],
        env=env,
    )
    assert duplicate.exit_code == 2 and "already_exists" in duplicate.stderr
    retired = runner.invoke(main, ["schemes", "retire", "WI-1", "--reason", "r"], env=env)
    assert retired.exit_code == 0
    listed = runner.invoke(main, ["schemes", "list"], env=env)
    assert "WI-1" in listed.stdout and "retired" in listed.stdout


PASSWORD = "correct horse battery"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1).decode()


def _login(site: AppEnv, username: str, role: Role) -> str:
    site.write(
        lambda s: accounts.create_user(
            s, username=username, password=PASSWORD, role=role, actor="t", now=NOW
        )
    )
    site.client = site.app.test_client()
    page = site.client.get("/admin/login").data
    reply = site.client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302
    return _csrf(site.client.get("/admin/").data)


def _body_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "ACME Welding Certification GmbH",
        "url": "https://acme-welding.example",
        "email": "certification@acme-welding.example",
        "address.locality": "Berlin",
        "country": "DE",
        "accreditedBy.body": "DAkkS",
        "accreditedBy.number": "D-ZP-12345-01-00",
        "accreditedBy.standard": "ISO/IEC 17024:2012",
        "accreditedBy.validUntil": "2029-06-30",
        "reason": "accreditation certificate received",
    }
    form.update(changes)
    return form


def test_an_admin_sets_the_body_and_schemes_in_the_admin_ui(site) -> None:
    token = _login(site, "adam", Role.ADMIN)
    page = site.client.get("/admin/body").data
    assert b'id="body-form"' in page and b"Example Personnel Certification Body" in page
    bad = site.client.post("/admin/body", data=_body_form(token, email="nope"))
    assert bad.status_code == 400 and b"email: must be an e-mail address" in bad.data
    assert b'value="ACME Welding Certification GmbH"' in bad.data  # what was typed stays
    assert _events(site, Action.BODY_UPDATE) == []
    done = site.client.post("/admin/body", data=_body_form(token))
    assert done.status_code == 302
    page = site.client.get(done.location).data
    assert b"Accredited to ISO/IEC 17024:2012 by DAkkS" in page
    assert json.loads(_events(site, Action.BODY_UPDATE)[0].details)["changed"]["country"] == [
        None,
        "DE",
    ]

    schemes = site.client.get("/admin/schemes").data
    assert b"CWI-2" in schemes
    scheme = {
        "csrf_token": token,
        "code": "WI-1",
        "name": "Welding Inspector",
        "criteria": "Passed the examinations",
        "standard": "ISO 9712:2021",
        "validityDays": "1095",
        "surveillanceMonths": "12",
        "achievementType": "Certification",
        "suite": "eddsa-rdfc-2022",
        "reason": "scheme committee",
    }
    duplicate = site.client.post("/admin/schemes", data={**scheme, "code": "CWI-2"})
    assert duplicate.status_code == 409 and b"already_exists" in duplicate.data
    created = site.client.post("/admin/schemes", data=scheme)
    assert created.status_code == 302, created.data[:300]
    edited = site.client.post(
        "/admin/schemes/WI-1", data={**scheme, "validityDays": "730", "reason": "shorter"}
    )
    assert edited.status_code == 302
    shown = site.client.get("/api/v1/schemes/WI-1", headers=site.auth("status")).json
    assert (shown["validityDays"], shown["surveillanceMonths"]) == (730, 12)
    retired = site.client.post(
        "/admin/schemes/WI-1/retire", data={"csrf_token": token, "confirm": "on", "reason": "r"}
    )
    assert retired.status_code == 302
    assert b"retired" in site.client.get("/admin/schemes").data


def test_the_body_and_schemes_pages_are_for_admins_only(site) -> None:
    token = _login(site, "olga", Role.OFFICER)
    assert site.client.get("/admin/body").status_code == 403
    assert site.client.get("/admin/schemes").status_code == 403
    assert site.client.post("/admin/body", data=_body_form(token)).status_code == 403
    _login(site, "adam", Role.ADMIN)
    missing = site.client.post("/admin/body", data={**_body_form("x"), "csrf_token": ""})
    assert missing.status_code == 403
    assert _events(site, Action.BODY_UPDATE) == []


def test_the_did_document_names_the_body_s_current_website(site) -> None:
    """Issue 12: the did:web document shows the current profile (its website, as a
    LinkedDomains service); credentials still verify against it."""
    document = site.client.get("/.well-known/did.json").json
    assert document["service"] == [
        {
            "id": f"{document['id']}#website",
            "type": "LinkedDomains",
            "serviceEndpoint": "http://127.0.0.1:8000",
        }
    ]
    site.client.patch(
        "/api/v1/body",
        json={"url": "https://acme-welding.example", "reason": "new website"},
        headers=site.auth("admin"),
    )
    document = site.client.get("/.well-known/did.json").json
    assert document["service"][0]["serviceEndpoint"] == "https://acme-welding.example"
