"""Surveillance records (issue 13, ISO/IEC 17024 §9.6) through the API, the admin UI and the
CLI: recorded and audited with their attachments; an oversized or unknown file, a date in the
future, a withdrawn certification each refused clearly with nothing changed; an outcome with
findings offers the lifecycle's moves and takes none; the admin home counts and the cycle page;
each scheme's reminder days.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from issuer.db.models import (
    Action,
    AuditEvent,
    Role,
    SurveillanceAttachment,
    SurveillanceRecord,
)
from issuer.services import accounts

from .conftest import AppEnv
from .support import NOW

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CERTIFY = {
    "person": {"name": "Zoë Ångström", "reference": "SV-1"},
    "scheme": "CWI-2",
    "scope": "VT-2",
    "reason": "examination passed",
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Any:
    environment = AppEnv(
        tmp_path / "instance",
        database_url,
        CLOCK=lambda: NOW,
        SURVEILLANCE_MAX_ATTACHMENT_BYTES=64 * 1024,
    )
    environment.write(
        lambda s: accounts.create_user(
            s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
        )
    )
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _certify(site: AppEnv, **person: str) -> str:
    body = {**CERTIFY, "person": {**CERTIFY["person"], **person}}  # type: ignore[dict-item]
    reply = site.client.post("/api/v1/certifications", json=body, headers=site.auth("issue"))
    assert reply.status_code == 201, reply.json
    return str(reply.json["certification"]["number"])


def _state(site: AppEnv) -> tuple[int, int, int]:
    with site.read() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (SurveillanceRecord, SurveillanceAttachment, AuditEvent)
        )


def _post(site: AppEnv, number: str, files: list[tuple[bytes, str]] = (), **fields: str) -> Any:  # type: ignore[assignment]
    data: dict[str, Any] = {
        "date": "2026-11-27",
        "kind": "document-review",
        "outcome": "satisfactory",
        **fields,
    }
    data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return site.client.post(
        f"/api/v1/certifications/{number}/surveillance",
        data=data,
        content_type="multipart/form-data",
        headers=site.auth("status"),
    )


def test_the_api_records_lists_and_serves_attachments(site: AppEnv) -> None:
    number = _certify(site)
    reply = _post(
        site,
        number,
        [(PDF, "../../etc/report.pdf"), (_png(), "photo.PNG"), (b"CPD: 40 hours\n", "cpd")],
        notes="CPD log reviewed",
        kind="cpd-evidence",
    )
    assert reply.status_code == 201, reply.json
    data = reply.json
    record = data["record"]
    assert (record["kind"], record["outcome"], record["date"]) == (
        "cpd-evidence",
        "satisfactory",
        "2026-11-27",
    )
    assert [(a["filename"], a["mediaType"]) for a in record["attachments"]] == [
        ("report.pdf", "application/pdf"),
        ("photo.png", "image/png"),
        ("cpd.txt", "text/plain"),
    ]
    assert data["followUps"] == []
    assert data["intervalMonths"] is None and data["status"]["state"] == "not-required"

    listed = site.client.get(
        f"/api/v1/certifications/{number}/surveillance", headers=site.auth("status")
    )
    assert listed.status_code == 200 and listed.json["records"] == [record]
    first = record["attachments"][0]
    download = site.client.get(
        f"/api/v1/certifications/{number}/surveillance/attachments/{first['id']}",
        headers=site.auth("status"),
    )
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    with site.read() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.SURVEILLANCE_RECORD)
        ).scalar_one()
        details = json.loads(event.details)
    assert event.subject == number and event.actor == "token:status-token"
    assert [a["sha256"] for a in details["attachments"]] == [
        a["sha256"] for a in record["attachments"]
    ]
    # Reading needs the status scope; another certification's attachment is not found.
    assert (
        site.client.get(
            f"/api/v1/certifications/{number}/surveillance", headers=site.auth("issue")
        ).status_code
        == 403
    )
    other = _certify(site, reference="SV-2")
    assert (
        site.client.get(
            f"/api/v1/certifications/{other}/surveillance/attachments/{first['id']}",
            headers=site.auth("status"),
        ).status_code
        == 404
    )


def test_json_records_an_activity_and_the_scheme_interval_gives_the_next_due_date(
    site: AppEnv,
) -> None:
    number = _certify(site)
    patched = site.client.patch(
        "/api/v1/schemes/CWI-2",
        json={"surveillanceMonths": 12, "reason": "surveillance yearly"},
        headers=site.auth("admin"),
    )
    assert patched.status_code == 200, patched.json
    reply = site.client.post(
        f"/api/v1/certifications/{number}/surveillance",
        json={"date": "2026-11-27", "kind": "interview", "outcome": "findings", "notes": "gap"},
        headers=site.auth("status"),
    )
    assert reply.status_code == 201, reply.json
    assert reply.json["followUps"] == ["suspend", "withdraw", "reduce-scope"]
    # A finding does not restart the interval: due 12 months after the start.
    assert reply.json["status"] == {
        "state": "scheduled",
        "due": "2027-11-27",
        "basis": "2026-11-27",
    }
    with site.read() as session:
        state = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == Action.SUSPEND)
        ).scalar_one()
    assert state == 0  # the outcome decided nothing
    cycle = site.client.get("/api/v1/cycle", headers=site.auth("status"))
    assert cycle.status_code == 200
    (decision,) = cycle.json["needsDecision"]
    assert decision["certification"] == number
    assert decision["reasons"][0]["code"] == "surveillance-findings"


@pytest.mark.parametrize(
    ("files", "fields", "status", "code", "words"),
    [
        (
            [(b"%PDF-" + b"x" * 70_000, "big.pdf")],
            {},
            413,
            "input_too_large",
            "'big.pdf' is larger",
        ),
        ([(b"<html><script>", "report.pdf")], {}, 415, "unsupported_media_type", "named .pdf"),
        ([(b"MZ\x90\x00\x03", "tool.exe")], {}, 415, "unsupported_media_type", "not a PDF"),
        ([(b"plain words", "page.html")], {}, 415, "unsupported_media_type", "named .html"),
        (
            [(b"\x89PNG\r\n\x1a\nnot really", "fake.png")],
            {},
            415,
            "unsupported_media_type",
            "not a PDF",
        ),
        ([(b"", "empty.txt")], {}, 400, "field_invalid", "is empty"),
        ([], {"date": "2026-11-28"}, 400, "field_invalid", "in the future"),
        ([], {"date": "2020-01-01"}, 400, "field_invalid", "before the certification"),
        ([], {"date": "01/11/2026"}, 400, "field_invalid", "ambiguous"),
        ([], {"kind": "gossip"}, 400, "field_invalid", "must be one of"),
        ([], {"outcome": ""}, 400, "field_invalid", "is required"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    site: AppEnv, files: Any, fields: dict[str, str], status: int, code: str, words: str
) -> None:
    number = _certify(site)
    before = _state(site)
    # A good attachment beside the bad one: it is not kept either.
    reply = _post(site, number, [(PDF, "good.pdf"), *files], **fields)
    assert reply.status_code == status, reply.json
    assert reply.json["error"]["code"] == code and words in reply.json["error"]["message"]
    assert _state(site) == before


def test_a_withdrawn_certification_takes_no_record(site: AppEnv) -> None:
    number = _certify(site)
    withdrawn = site.client.post(
        f"/api/v1/certifications/{number}/withdraw",
        json={"reason": "fraud"},
        headers=site.auth("status"),
    )
    assert withdrawn.status_code == 200
    before = _state(site)
    reply = _post(site, number)
    assert reply.status_code == 409 and reply.json["error"]["code"] == "transition_not_allowed"
    assert _state(site) == before


def _token(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _login(site: AppEnv) -> str:
    page = site.client.get("/admin/login").data
    reply = site.client.post(
        "/admin/login", data={"username": "olga", "password": PASSWORD, "csrf_token": _token(page)}
    )
    assert reply.status_code == 302
    return _token(site.client.get("/admin/").data)


def test_the_admin_records_offers_the_moves_and_refuses_an_oversized_file(site: AppEnv) -> None:
    number = _certify(site)
    token = _login(site)
    page = site.client.get(f"/admin/certifications/{number}").data.decode()
    assert 'id="surveillance"' in page and 'enctype="multipart/form-data"' in page

    form = {"date": "2026-11-27", "kind": "assessment", "outcome": "not-satisfactory"}
    refused = site.client.post(
        f"/admin/certifications/{number}/surveillance",
        data={**form, "attachments": (io.BytesIO(b"%PDF-" + b"0" * 70_000), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 403  # no CSRF token
    before = _state(site)
    refused = site.client.post(
        f"/admin/certifications/{number}/surveillance",
        data={
            **form,
            "csrf_token": token,
            "attachments": (io.BytesIO(b"%PDF-" + b"0" * 70_000), "scan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 413
    assert b"input_too_large" in refused.data and b"&#39;scan.pdf&#39; is larger" in refused.data
    assert _state(site) == before

    done = site.client.post(
        f"/admin/certifications/{number}/surveillance",
        data={**form, "csrf_token": token, "attachments": (io.BytesIO(PDF), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302 and "recorded=" in done.location
    page = site.client.get(done.location).data.decode()
    offered = page[page.index('id="follow-ups"') :]
    offered = offered[: offered.index("</div>")]
    assert "nothing has been changed" in offered
    assert re.findall(r'href="#h-([a-z-]+)"', offered) == ["suspend", "withdraw", "reduce-scope"]
    assert "scan.pdf" in page and "state-active" in page
    link = re.search(r'href="(/admin/certifications/[^"]+/surveillance/\d+)"', page)
    assert link is not None
    download = site.client.get(link.group(1))
    assert download.status_code == 200 and download.data == PDF


def test_the_admin_home_counts_link_to_the_cycle_lists(site: AppEnv) -> None:
    site.client.patch(
        "/api/v1/schemes/CWI-2",
        json={"surveillanceMonths": 1, "reason": "monthly surveillance"},
        headers=site.auth("admin"),
    )
    number = _certify(site)
    # The app's clock says NOW; move it past the due date (one month after the start).
    site.app.config["CLOCK"] = lambda: NOW.replace(month=12, day=28)
    _login(site)
    home = site.client.get("/admin/").data.decode()
    overdue = re.search(r'id="count-overdue">Overdue: <strong>(\d+)</strong>', home)
    assert overdue is not None and overdue.group(1) == "1"
    assert 'href="/admin/cycle?list=overdue"' in home
    assert re.search(r'id="count-expiring">Expiring soon: <strong>0</strong>', home)
    listing = site.client.get("/admin/cycle?list=overdue").data.decode()
    assert number in listing and "2026-12-27" in listing
    site.app.config["CLOCK"] = lambda: NOW.replace(month=12, day=10)
    _login(site)
    home = site.client.get("/admin/").data.decode()
    assert re.search(r'id="count-due">Surveillance due: <strong>1</strong>', home)
    assert number in site.client.get("/admin/cycle?list=due").data.decode()


def test_scheme_reminder_days_are_checked_and_kept(site: AppEnv) -> None:
    shown = site.client.get("/api/v1/schemes/CWI-2", headers=site.auth("admin")).json
    assert shown["reminderDays"] == [90, 30, 7]
    for bad in ([0], [5, 5], "ninety", list(range(1, 13)), [4000]):
        reply = site.client.patch(
            "/api/v1/schemes/CWI-2",
            json={"reminderDays": bad, "reason": "x"},
            headers=site.auth("admin"),
        )
        assert reply.status_code == 400 and "reminderDays" in reply.json["error"]["message"]
    reply = site.client.patch(
        "/api/v1/schemes/CWI-2",
        json={"reminderDays": [14, 60], "reason": "two reminders"},
        headers=site.auth("admin"),
    )
    assert reply.status_code == 200 and reply.json["scheme"]["reminderDays"] == [60, 14]
    assert reply.json["changed"] == ["reminder_days"]


def _cli(site: AppEnv, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    environment.update(
        CERTVC_INSTANCE=str(site.folder),
        CERTVC_DATABASE_URL=site.url,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "issuer", *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_cli_records_and_lists(site: AppEnv, tmp_path: Path) -> None:
    number = _certify(site)
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-" + b"0" * 2000)
    before = _state(site)
    refused = _cli(
        site,
        "surveillance", "record", number, "--date", "2026-11-27", "--kind", "assessment",
        "--outcome", "satisfactory", "--attach", str(report), "--attach", str(big),
        CERTVC_SURVEILLANCE_MAX_ATTACHMENT_BYTES="1000",
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.startswith("certvc: error: input_too_large: attachments[1]: 'big.pdf'")
    assert _state(site) == before
    done = _cli(
        site,
        "surveillance", "record", number, "--date", "2026-11-30", "--kind", "assessment",
        "--outcome", "findings", "--notes", "weld gauge misread", "--attach", str(report),
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["record"]["outcome"] == "findings"
    assert data["followUps"] == ["suspend", "withdraw", "reduce-scope"]
    listed = _cli(site, "surveillance", "list", number)
    assert listed.returncode == 0, listed.stderr
    assert "2026-11-30 assessment: findings (report.pdf)" in listed.stdout
    assert "weld gauge misread" in listed.stdout
    unknown = _cli(site, "surveillance", "list", "NO-SUCH")
    assert unknown.returncode == 2 and "not_found" in unknown.stderr
