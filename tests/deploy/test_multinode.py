"""Two certvc nodes behind HAProxy on one PostgreSQL database, one node killed mid-run
(issue 18): nothing acknowledged is lost, nothing is done twice, every status-list index is
unique, the published lists match the database, the audit chain and its signed checkpoints
verify, and both nodes serve the same did.json.

Everything is real and on loopback: PostgreSQL's test database (a fresh schema), a SoftHSM2
token holding the keys (each node with its own copy of the token, as two hosts each have their
HSM partition; encrypted key files where SoftHSM2 is not installed), two gunicorn nodes started
with ``deploy/gunicorn.conf.py`` (2 workers each, each with its own copy of the instance
folder: no shared disk), HAProxy with ``deploy/haproxy.cfg`` ending TLS in front. Clients
drive issuances, status changes and verifications through the proxy from several threads.
Once a third of the status changes are acknowledged, a CSV import is queued as a durable job
(the nodes' worker threads take it) and node 1 is killed (SIGKILL, master and workers); it is
started again at the end.

A request is *acknowledged* when the proxy answered 2xx. One that got no answer or a 5xx may
or may not have been committed (a node died under it): the client then reads the
certification's state and goes on from there, as an operator's client would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer import db
from issuer.db.models import (
    AuditEvent,
    Certification,
    CredentialState,
    IssuedCredential,
    Job,
    JobKind,
    JobState,
    Person,
    StatusEntry,
    StatusList,
)
from issuer.services import jobs
from tests.issuer.support import BACKENDS, NOW, PG_ONLY_REASON
from tests.support import softhsm
from verifier.model.status_list import Bitstring, StatusPurpose, parse_status_list_credential

from .nodes import (
    ROOT,
    Node,
    Proxy,
    clean_env,
    free_port,
    get,
    haproxy_binary,
    request,
    tls_certificate,
)

pytestmark = [
    pytest.mark.multinode,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason=PG_ONLY_REASON),
]

THREADS = 6
CERTS_PER_THREAD = 6
#: Rows of the CSV import run as a durable job meanwhile, and its chunk (one step each).
IMPORT_ROWS = 40
IMPORT_CHUNK = 5
#: The share of the planned status work acknowledged when node 1 is killed.
KILL_AFTER = 1 / 3
PASSPHRASE = "correct horse battery staple, multi-node"
#: The verdict the body's verifier gives a certification in each state.
VERDICT = {"active": "VALID", "suspended": "SUSPENDED", "withdrawn": "REVOKED"}
#: What each planned step leaves the certification in.
AFTER = {"suspend": "suspended", "reinstate": "active", "withdraw": "withdrawn"}
#: How often a client looks again before it gives up on the proxy (bounded loops).
LOOKS = 60


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    acknowledged: int = 0
    unanswered: int = 0  # no answer, or 5xx: maybe committed, maybe not
    wrong_verdicts: list[str] = field(default_factory=list)
    #: number -> credential id of every acknowledged issuance
    issued: dict[str, str] = field(default_factory=dict)
    #: number -> the state the client last saw acknowledged (or read back after a failure)
    known: dict[str, str] = field(default_factory=dict)
    #: person references of issuances that got no answer (committed or not)
    unanswered_refs: set[str] = field(default_factory=set)
    #: acknowledged status changes: (number, action)
    changes: list[tuple[str, str]] = field(default_factory=list)

    def count(self, status: int) -> None:
        with self.lock:
            self.requests += 1
            if 200 <= status < 300:
                self.acknowledged += 1
            elif status == 0 or status >= 500:
                self.unanswered += 1


class Client:
    """One operator's client: talks to the proxy only."""

    def __init__(self, base: str, ca: Path, tokens: dict[str, str], tally: Tally) -> None:
        self.base, self.ca, self.tokens, self.tally = base, ca, tokens, tally

    def call(self, method: str, path: str, body: Any = None, scope: str | None = None) -> Any:
        reply = request(
            method,
            f"{self.base}{path}",
            body=body,
            token=self.tokens[scope] if scope else None,
            ca_file=self.ca,
        )
        self.tally.count(reply.status)
        return reply

    def state(self, number: str) -> str:
        """The certification's state, asked until the proxy answers."""
        for _ in range(LOOKS):
            reply = self.call("GET", f"/api/v1/certifications/{number}", scope="status")
            if reply.status == 200:
                return str(reply.json["state"])
            time.sleep(0.25)
        raise AssertionError(f"no answer about {number}")

    def verify(self, credential: dict[str, Any], number: str, state: str) -> None:
        for _ in range(LOOKS):
            reply = self.call("POST", "/api/v1/verify", credential)
            if reply.status == 200:
                verdict = reply.json["verdict"]
                if verdict != VERDICT[state]:
                    with self.tally.lock:
                        self.tally.wrong_verdicts.append(f"{number}: {state} gave {verdict}")
                return
            time.sleep(0.25)
        raise AssertionError(f"no verification of {number}")


def _work(client: Client, worker: int, progress: Callable[[], None]) -> None:
    """Certify, then suspend, reinstate and (every other one) withdraw, verifying each state."""
    tally = client.tally
    for n in range(CERTS_PER_THREAD):
        reference = f"MN-{worker}-{n}"
        body = {
            "scheme": "CWI-2",
            "scope": "steel groups 1 and 2",
            "person": {"name": f"Person {worker}.{n}", "reference": reference},
            "reason": "multi-node test",
        }
        reply = client.call("POST", "/api/v1/certifications", body, scope="issue")
        if reply.status != 201:
            assert reply.status == 0 or reply.status >= 500, reply.body[:300]
            with tally.lock:
                tally.unanswered_refs.add(reference)
            continue
        number = reply.json["certification"]["number"]
        credential = reply.json["verifiableCredential"]
        with tally.lock:
            tally.issued[number] = credential["id"]
            tally.known[number] = "active"
        client.verify(credential, number, "active")
        plan = ["suspend", "reinstate"] + (["withdraw"] if n % 2 else [])
        for action in plan:
            state = _change(client, number, action)
            with tally.lock:
                tally.known[number] = state
            client.verify(credential, number, state)
            progress()


def _change(client: Client, number: str, action: str) -> str:
    """Apply ``action``; after a request that got no answer, look: done (the node committed it
    before it died) or not (sent again). The state the certification is in afterwards."""
    for _ in range(LOOKS):
        reply = client.call(
            "POST",
            f"/api/v1/certifications/{number}/{action}",
            {"reason": f"multi-node {action}"},
            scope="status",
        )
        if reply.status == 200:
            with client.tally.lock:
                client.tally.changes.append((number, action))
            return str(reply.json["certification"]["state"])
        assert reply.status == 0 or reply.status >= 500, reply.body[:300]
        state = client.state(number)
        if state == AFTER[action]:
            return state
    raise AssertionError(f"{action} {number} never went through")


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "issuer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _hsm_copy(hsm: softhsm.SoftHsm, folder: Path) -> Path:
    """Another host's copy of the token (the same keys, its own token directory)."""
    tokens = folder / "tokens"
    shutil.copytree(Path(hsm.conf).parent / "tokens", tokens)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n",
        encoding="utf-8",
    )
    return conf


def _enqueue_import(url: str) -> int:
    rows = "".join(f"Imported {i},IMP-{i},CWI-2,VT-2,,\r\n" for i in range(IMPORT_ROWS))
    text = "name,reference,scheme,scope,number,effective\r\n" + rows
    engine = db.make_engine(url)
    try:
        return db.run_transaction(
            db.session_factory(engine),
            lambda session: (
                jobs.enqueue(
                    session,
                    kind=JobKind.CSV_IMPORT,
                    actor="multi-node test",
                    title="import.csv",
                    payload=text,
                    params={"reason": "multi-node import", "chunk": IMPORT_CHUNK},
                    total=IMPORT_ROWS,
                    now=NOW,
                ).id
            ),
        )
    finally:
        engine.dispose()


def test_two_nodes_behind_a_proxy_lose_nothing_when_one_dies(
    tmp_path: Path, deploy_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if haproxy_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed (.ci/run installs it)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    url = deploy_database
    proxy_port, http_port = free_port(), free_port()
    base = f"https://127.0.0.1:{proxy_port}"
    pem, ca = tls_certificate(tmp_path)

    # The instance, made once by `certvc init` (keys in the token, or encrypted key files).
    seed = tmp_path / "seed"
    env = clean_env(CERTVC_DATABASE_URL=url)
    init_args = ["init", "--instance", str(seed), "--public-url", base]
    hsm = None
    if softhsm.available():
        hsm = softhsm.create_token(tmp_path / "hsm1", label="certvc-multinode")
        env.update(hsm.env())
        init_args += hsm.init_args()
        keys = f"SoftHSM2 token {hsm.token!r} (each node its own copy)"
    else:
        assert not os.environ.get("CI"), "CI installs softhsm2 (.ci/run)"
        env["CERTVC_KEY_PASSPHRASE"] = PASSPHRASE
        keys = "encrypted key files (SoftHSM2 is not installed here)"
    _cli(env, *init_args)
    tokens = {
        scope: _cli(env, "tokens", "create", "--instance", str(seed), "--scope", scope).strip()
        for scope in ("issue", "status", "admin")
    }

    # Each node: its own copy of the instance folder (and of the token); one database.
    nodes = []
    for name in ("node1", "node2"):
        folder = tmp_path / name
        shutil.copytree(seed, folder / "instance")
        node_env = clean_env(
            CERTVC_INSTANCE=str(folder / "instance"),
            CERTVC_DATABASE_URL=url,
            CERTVC_METRICS="1",
            CERTVC_LOG_FORMAT="json",
            CERTVC_WORKERS="2",
            CERTVC_THREADS="4",
            CERTVC_JOB_POLL_SECONDS="1",
            CERTVC_JOB_LEASE_SECONDS="5",
            # Every client comes through the proxy's one address here: per-address rate
            # limits (docs/deployment.md) are not what this test is about.
            CERTVC_VERIFIER_RATE_PER_MINUTE="0",
            PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"),
        )
        if hsm is not None:
            node_env.update(hsm.env())
            if name == "node2":
                node_env["SOFTHSM2_CONF"] = str(_hsm_copy(hsm, folder / "hsm"))
        else:
            node_env["CERTVC_KEY_PASSPHRASE"] = PASSPHRASE
        nodes.append(Node(name, node_env, folder / "gunicorn.log").start())
    node1, node2 = nodes
    proxy = Proxy(
        clean_env(
            CERTVC_PROXY_BIND=f"127.0.0.1:{proxy_port}",
            CERTVC_PROXY_HTTP_BIND=f"127.0.0.1:{http_port}",
            CERTVC_TLS_CERT=str(pem),
            CERTVC_NODE1=f"127.0.0.1:{node1.port}",
            CERTVC_NODE2=f"127.0.0.1:{node2.port}",
            CERTVC_DNS="127.0.0.11:53",
        ),
        tmp_path / "haproxy.log",
    )
    tally = Tally()
    engine = db.make_engine(url)
    try:
        proxy.start(proxy_port)
        for _ in range(LOOKS):  # both nodes ready behind the proxy
            if all(get(f"{n.url}/readyz").status == 200 for n in nodes):
                break
            time.sleep(0.25)
        same_did = [get(f"{n.url}/.well-known/did.json").json for n in nodes]
        assert same_did[0] == same_did[1]
        assert get(f"{base}/.well-known/did.json", ca_file=ca).json == same_did[0]
        redirect = get(f"http://127.0.0.1:{http_port}/v")
        assert redirect.status == 301 and redirect.headers["location"].startswith("https://")
        assert get(f"{base}/metrics", ca_file=ca).status == 404  # scraped on the nodes only

        job: dict[str, int] = {}
        planned = THREADS * CERTS_PER_THREAD * 2.5
        killed = threading.Event()

        def progress() -> None:
            with tally.lock:
                due = len(tally.changes) >= planned * KILL_AFTER and not killed.is_set()
                if due:
                    killed.set()
            if due:  # the import starts as node 1 dies: whoever took it, it finishes once
                job["id"] = _enqueue_import(url)
                time.sleep(1)  # a worker thread looks every second (not an assertion)
                node1.kill()

        client = Client(base, ca, tokens, tally)
        workers = [
            threading.Thread(target=_work, args=(client, i, progress), name=f"client-{i}")
            for i in range(THREADS)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=600)
        assert not any(t.is_alive() for t in workers)
        assert killed.is_set(), "node 1 was killed mid-run"

        node1.start()  # back, on its own port: the proxy's check finds it
        for _ in range(LOOKS * 2):  # the import job finishes (resumed after any worker died)
            with Session(engine) as session:
                row = session.get(Job, job["id"])
                assert row is not None
                if row.state in (JobState.DONE, JobState.FAILED):
                    break
            time.sleep(0.5)
        report = _check(engine, tally, nodes, base, ca, job["id"], tokens)
    finally:
        proxy.stop()
        for node in nodes:
            node.stop()
        engine.dispose()

    with capsys.disabled():  # the counts are shown in every run (docs/deployment.md)
        print(
            f"\nmulti-node: keys in {keys}; {THREADS} clients, 2 nodes x 2 workers, node 1 killed"
            f" mid-run\nrequests {tally.requests}, acknowledged {tally.acknowledged}, unanswered"
            f" {tally.unanswered}, issued {len(tally.issued)}, status changes acknowledged"
            f" {len(tally.changes)}, lost {report['lost']}, duplicates {report['duplicates']},"
            f" wrong verdicts {len(tally.wrong_verdicts)}, status lists {report['lists']} match,"
            f" audit events {report['events']} verified, checkpoints {report['checkpoints']},"
            f" import job {report['job']}"
        )
    assert report["lost"] == 0, report["lost_items"]
    assert report["duplicates"] == 0
    assert tally.wrong_verdicts == []


def _check(
    engine: Any,
    tally: Tally,
    nodes: list[Node],
    base: str,
    ca: Path,
    job_id: int,
    tokens: dict[str, str],
) -> dict[str, Any]:
    lost: list[str] = []
    with Session(engine) as session:
        # Nothing acknowledged is lost: each issuance's credential, each last state.
        stored = {
            cert.number: cert
            for cert in session.execute(select(Certification)).scalars()
            if cert.number in tally.known
        }
        for number, credential_id in tally.issued.items():
            cert = stored.get(number)
            if cert is None or credential_id not in {c.credential_id for c in cert.credentials}:
                lost.append(f"issuance {number}")
        for number, state in tally.known.items():
            cert = stored.get(number)
            if cert is not None and cert.state.value != state:
                lost.append(f"{number}: {cert.state.value}, acknowledged {state}")
        # Each acknowledged status change is in the audit log.
        logged = Counter(
            (event.subject, event.action.value)
            for event in session.execute(select(AuditEvent)).scalars()
        )
        for (number, action), count in Counter(tally.changes).items():
            if logged[(number, action)] < count:
                lost.append(f"audit of {action} {number}")

        # Nothing done twice: one certification per person reference asked for, one entry per
        # status-list index.
        per_person = Counter(
            session.execute(
                select(Person.reference).join(Certification, Certification.person_id == Person.id)
            ).scalars()
        )
        duplicates = [ref for ref, n in per_person.items() if n > 1]
        duplicates += [
            f"list {list_id} index {index}"
            for list_id, index, _ in session.execute(
                select(StatusEntry.list_id, StatusEntry.status_index, func.count())
                .group_by(StatusEntry.list_id, StatusEntry.status_index)
                .having(func.count() > 1)
            )
        ]

        # The published lists match the database, from the proxy and from each node.
        lists = session.execute(select(StatusList)).scalars().all()
        for row in lists:
            answers = [get(f"{base}/status/{row.id}", ca_file=ca)] + [
                get(f"{node.url}/status/{row.id}") for node in nodes
            ]
            for answer in answers:
                assert answer.status == 200
                assert answer.body.decode() == row.signed
            subject = parse_status_list_credential(json.loads(row.signed or "{}"))
            assert Bitstring.decode(subject.encoded_list).to_bytes() == row.bits
        bits = {row.id: Bitstring.from_bytes(row.bits) for row in lists}
        for entry in session.execute(select(StatusEntry)).scalars():
            credential = session.get(IssuedCredential, entry.credential_pk)
            assert credential is not None
            if entry.purpose is StatusPurpose.REVOCATION:
                want = credential.state in (CredentialState.REVOKED, CredentialState.SUPERSEDED)
            else:
                want = credential.state is CredentialState.SUSPENDED
            assert bits[entry.list_id].get(entry.status_index) == int(want), entry.id

        job = session.get(Job, job_id)
        assert job is not None
        assert job.state is JobState.DONE, job.message
        assert job.imported + job.present == IMPORT_ROWS and not json.loads(job.report)
        imported = per_person.keys() & {f"IMP-{i}" for i in range(IMPORT_ROWS)}
        assert len(imported) == IMPORT_ROWS

    # The audit chain and every signed checkpoint verify, with each node's own checkpoint file.
    chain = request("GET", f"{base}/api/v1/audit/verify", token=tokens["admin"], ca_file=ca)
    assert chain.status == 200 and chain.json["ok"], chain.json
    checkpoints = 0
    for node in nodes:
        env = dict(node.env)
        out = _cli(env, "audit", "verify", "--instance", env["CERTVC_INSTANCE"], "--json")
        result = json.loads(out)
        assert result["ok"], result
        checkpoints = max(checkpoints, int(result["checkpoints"]))

    # Both nodes (node 1 restarted) serve the same did.json, and report the same totals.
    documents = [get(f"{node.url}/.well-known/did.json").json for node in nodes]
    assert documents[0] == documents[1]
    return {
        "lost": len(lost),
        "lost_items": lost,
        "duplicates": len(duplicates),
        "lists": len(lists),
        "events": chain.json["events"],
        "checkpoints": checkpoints,
        "job": f"{job.imported} imported in {job.attempts} claim(s)",
    }
