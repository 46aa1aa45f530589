"""Prometheus metrics at /metrics (issue 18): off unless configured, a bearer token when set,
request latency by route template, verdicts, and the deployment's figures read from the
database (issuances and status changes from the audit log, the job queue, the status-list
publication lag). The figures are read back with prometheus_client's own parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from issuer.db.models import JobKind
from issuer.services import jobs

from .conftest import AppEnv
from .support import BACKENDS, NOW

CERTIFY = {
    "scheme": "CWI-2",
    "scope": "steel groups 1 and 2",
    "person": {"name": "Ada Lovelace", "reference": "P-1"},
    "reason": "committee decision 2026-11",
}
TOKEN = "s3cret-metrics-token"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.moment


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[AppEnv, Clock]]:
    clock = Clock()
    environment = AppEnv(
        tmp_path / "instance",
        database_url,
        METRICS="1",
        METRICS_TOKEN=TOKEN,
        # a scrape reads the database on a fresh connection within this limit (1 s by default):
        # a loaded machine (tests in parallel) must not turn the figures into "database down"
        READY_TIMEOUT_SECONDS=30,
        CLOCK=clock,
        VERIFIER_CLOCK=clock,
    )
    yield environment, clock
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    reply = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.data[:300]
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(reply.data.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_configured(app_env: AppEnv) -> None:
    assert app_env.client.get("/metrics").status_code == 404


def test_the_metrics_token_is_required_when_set(site) -> None:
    site, _ = site
    refused = site.client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "auth_required"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = site.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert TOKEN.encode() not in refused.data + wrong.data


def test_issuances_status_changes_and_verdicts_are_counted(site) -> None:
    site, _ = site
    before = scrape(site.client)
    assert value(before, "certvc_database_up") == 1
    created = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    assert created.status_code == 201
    credential = created.json["verifiableCredential"]
    number = created.json["certification"]["number"]
    assert site.client.post("/api/v1/verify", json=credential).json["verdict"] == "VALID"
    for action in ("suspend", "reinstate", "suspend"):
        reply = site.client.post(
            f"/api/v1/certifications/{number}/{action}",
            json={"reason": "surveillance"},
            headers=site.auth("status"),
        )
        assert reply.status_code == 200
    assert site.client.post("/api/v1/verify", json=credential).json["verdict"] == "SUSPENDED"
    refused = site.client.post("/api/v1/certifications", json={}, headers=site.auth("issue"))
    assert refused.status_code == 400  # refused: nothing issued, nothing counted

    after = scrape(site.client)
    issued = value(after, "certvc_issuances_total", action="issue")
    assert issued - value(before, "certvc_issuances_total", action="issue") == 1
    for action, count in (("suspend", 2), ("reinstate", 1), ("withdraw", 0)):
        change = value(after, "certvc_status_changes_total", action=action) - value(
            before, "certvc_status_changes_total", action=action
        )
        assert change == count, action
    assert value(after, "certvc_verifications_total", verdict="VALID") == 1
    assert value(after, "certvc_verifications_total", verdict="SUSPENDED") == 1
    # Latency by route template (never the certification's number), method and status.
    act = {"method": "POST", "route": "/api/v1/certifications/<number>/<action>", "status": "200"}
    assert value(after, "certvc_http_request_duration_seconds_count", **act) == 3
    assert value(after, "certvc_http_request_duration_seconds_bucket", le="+Inf", **act) == 3
    issue = {"method": "POST", "route": "/api/v1/certifications"}
    assert value(after, "certvc_http_request_duration_seconds_count", **issue, status="201") == 1
    assert value(after, "certvc_http_request_duration_seconds_count", **issue, status="400") == 1
    assert not any(number in str(labels) for _, labels in after)
    # The issuance went through a group commit of one (the test client sends one at a time).
    group = {"work": "api_v1.issue_together"}
    # (the empty request was refused while it was read, before any transaction)
    assert value(after, "certvc_write_group_size_count", **group) == 1
    assert value(after, "certvc_write_group_size_bucket", le="1.0", **group) == 1

    site.client.get("/no/such/page/P-123")
    unmatched = scrape(site.client)
    assert (
        value(
            unmatched,
            "certvc_http_request_duration_seconds_count",
            method="GET",
            route="<unmatched>",
            status="404",
        )
        == 1
    )
    # Read incrementally, the totals stay right however often they are scraped.
    assert value(unmatched, "certvc_issuances_total", action="issue") == issued


def test_job_queue_depth(site) -> None:
    site, _ = site
    assert value(scrape(site.client), "certvc_jobs", state="queued") == 0
    site.write(
        lambda session: jobs.enqueue(
            session,
            kind=JobKind.CSV_IMPORT,
            actor="t",
            title="upload.csv",
            payload="name\n",
            params={},
            total=1,
            now=NOW,
        )
    )
    samples = scrape(site.client)
    assert value(samples, "certvc_jobs", state="queued") == 1
    assert value(samples, "certvc_jobs", state="running") == 0


def test_publication_lag_is_how_late_a_due_supersession_is(site) -> None:
    """A renewal starting later supersedes the old credential at its start: until a worker (or
    a request for the list) applies it, the published list is late by that much."""
    site, clock = site
    created = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    number = created.json["certification"]["number"]
    starts = NOW + timedelta(days=10)
    renewed = site.client.post(
        f"/api/v1/certifications/{number}/renew",
        json={"reason": "recertified", "effective": starts.isoformat()},
        headers=site.auth("issue"),
    )
    assert renewed.status_code == 200, renewed.json
    assert value(scrape(site.client), "certvc_status_list_publication_lag_seconds") == 0
    clock.moment = starts + timedelta(seconds=90)
    assert value(scrape(site.client), "certvc_status_list_publication_lag_seconds") == 90
    status_url = created.json["verifiableCredential"]["credentialStatus"][0]["statusListCredential"]
    assert site.client.get(status_url.split("8000", 1)[1]).status_code == 200  # applies it
    samples = scrape(site.client)
    assert value(samples, "certvc_status_list_publication_lag_seconds") == 0
    assert value(samples, "certvc_status_changes_total", action="supersede") == 1
