"""Group commit (issue 15): the issuances a threaded worker holds at once share one transaction,
each with its own answer, its own refusal and its own audit event."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select

from issuer.db.group_commit import GroupCommit
from issuer.db.models import Action, AuditEvent, Person, Scope
from issuer.errors import AuthRequired
from issuer.services import accounts
from issuer.web.extensions import database

from .support import BACKENDS, NOW, http, live_server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Grouping is about transactions and locks: every backend."""
    return request.param


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


# --- the leader/follower queue ------------------------------------------------------------


def test_a_lone_item_runs_at_once_in_a_batch_of_its_own() -> None:
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        return [n * 10 for n in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    assert group.submit(4) == 40
    assert group.submit(5) == 50
    assert seen == [[4], [5]]


def test_items_that_arrive_while_a_batch_runs_go_together_in_the_next_one() -> None:
    release = threading.Event()
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int | BaseException]:
        seen.append(list(items))
        if items == [0]:
            release.wait(30)  # the first batch runs until the others are queued
        return [ValueError(f"refused {n}") if n == 3 else n * 10 for n in items]

    sizes: list[int] = []
    group: GroupCommit[int, int] = GroupCommit(run, observe=sizes.append)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.submit, 0)
        _until(lambda: seen == [[0]], "the first batch runs")
        rest = {n: pool.submit(group.submit, n) for n in range(1, 6)}
        _until(lambda: group.waiting == 5, "five items wait")
        release.set()
        assert first.result(30) == 0
        for n, future in rest.items():
            if n == 3:  # its own refusal, raised in its own thread only
                with pytest.raises(ValueError, match="refused 3"):
                    future.result(30)
            else:
                assert future.result(30) == n * 10
    assert seen[0] == [0]
    assert sorted(seen[1]) == [1, 2, 3, 4, 5] and len(seen) == 2
    assert sizes == [1, 5]


def test_a_batch_that_raises_gives_its_error_to_every_item_and_leaves_none_waiting() -> None:
    def run(items: Sequence[int]) -> list[int]:
        raise RuntimeError("the database went away")

    group: GroupCommit[int, int] = GroupCommit(run)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(group.submit, n) for n in range(8)]
        for future in futures:
            with pytest.raises(RuntimeError, match="went away"):
                future.result(30)
    assert group.waiting == 0


def test_no_batch_holds_more_than_the_limit() -> None:
    release = threading.Event()
    seen: list[int] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(len(items))
        if len(seen) == 1:
            release.wait(30)
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(run, limit=3)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(group.submit, 0)]
        _until(lambda: seen == [1], "the first batch runs")
        futures += [pool.submit(group.submit, n) for n in range(1, 8)]
        _until(lambda: group.waiting == 7, "seven items wait")
        release.set()
        assert sorted(f.result(30) for f in futures) == list(range(8))
    assert seen[0] == 1 and max(seen) == 3 and sum(seen) == 8


# --- database.write_together ---------------------------------------------------------------


def _add_persons(session: Any, names: Sequence[str]) -> list[int | Exception]:
    """Work for a group: a person per name; ``poison`` makes the shared transaction fail
    (as an unexpected error would), ``refused`` is one item's own refusal."""
    if "poison" in names and len(names) > 1:
        raise RuntimeError("something no single item would do")
    results: list[int | Exception] = []
    for name in names:
        if name == "refused":
            results.append(AuthRequired("refused alone"))
            continue
        person = Person(name=name, created_at=NOW)
        session.add(person)
        session.flush()
        results.append(person.id)
    return results


def test_a_group_that_fails_before_its_commit_runs_each_item_alone(app_env) -> None:
    """One item that breaks the shared transaction costs the others nothing: each runs again
    in a transaction of its own, and each answer is its own."""
    group_runs: list[list[str]] = []
    release = threading.Event()

    def work(session: Any, names: Sequence[str]) -> list[int | Exception]:
        group_runs.append(list(names))
        if names == ["first"]:
            release.wait(30)
        return _add_persons(session, names)

    def submit(name: str) -> int:
        with app_env.app.app_context():
            return database.write_together(work, name)

    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(submit, "first")
        _until(lambda: group_runs == [["first"]], "the first group runs")
        names = ["Ada", "poison", "refused", "Grace"]
        futures = {name: pool.submit(submit, name) for name in names}
        groups = app_env.app.extensions["certvc.db"].groups
        _until(lambda: groups[work].waiting == 4, "four writes wait")
        release.set()
        assert isinstance(first.result(30), int)
        assert isinstance(futures["Ada"].result(30), int)
        assert isinstance(futures["Grace"].result(30), int)
        with pytest.raises(AuthRequired):
            futures["refused"].result(30)
        # Alone, the poison item is written like any other (it only broke a shared one).
        assert isinstance(futures["poison"].result(30), int)
    assert sorted(group_runs[1]) == sorted(names)
    assert sorted(map(tuple, group_runs[2:])) == sorted((name,) for name in names)
    with app_env.read() as session:
        stored = session.execute(select(Person.name).where(Person.name != "")).scalars().all()
    assert sorted(n for n in stored if n in {"first", *names}) == [
        "Ada",
        "Grace",
        "first",
        "poison",
    ]


# --- over HTTP, on a threaded server --------------------------------------------------------


def _request(n: int, **changes: Any) -> dict[str, Any]:
    body = {
        "scheme": "CWI-2",
        "scope": f"visual testing, group {n}",
        "person": {"name": f"Person {n}", "reference": f"G-{n}"},
        "reason": f"committee decision {n}",
    }
    body.update(changes)
    return body


@pytest.fixture
def server(app_env):
    with live_server(lambda base_url: app_env.app) as running:
        yield running


def _post_while_the_first_commits(
    app_env: Any, count: int, post: Callable[[int], Any]
) -> tuple[dict[int, Any], int]:
    """Post request 1, hold its commit until requests 2..count are all queued behind it, then
    let everything run: the answers by request, and how many transactions committed."""
    writer = app_env.app.extensions["certvc.db"].writer
    commits: list[int] = []
    hold = threading.Event()

    def count_and_hold(_session: Any) -> None:
        commits.append(1)
        hold.wait(30)  # the first commit waits until the others are queued

    event.listen(writer, "before_commit", count_and_hold)
    try:
        with ThreadPoolExecutor(count) as pool:
            first = pool.submit(post, 1)
            _until(lambda: len(commits) == 1, "the first issuance commits")
            rest = {n: pool.submit(post, n) for n in range(2, count + 1)}
            groups = app_env.app.extensions["certvc.db"].groups
            _until(
                lambda: sum(g.waiting for g in groups.values()) == count - 1,
                f"{count - 1} issuances wait",
            )
            hold.set()
            answers = {1: first.result(60), **{n: f.result(60) for n, f in rest.items()}}
    finally:
        hold.set()
        event.remove(writer, "before_commit", count_and_hold)
    return answers, len(commits)


def test_concurrent_issuances_share_transactions_and_keep_their_own_answers(
    app_env, server
) -> None:
    """Twelve issuances held at once (while a first one commits): fewer transactions than
    issuances, each good request issued with its own person, reason and actor, each bad one
    refused with its own error, and every answer the same as reading the certification."""
    second_token = app_env.write(
        lambda s: accounts.create_token(
            s, name="second-client", scopes=frozenset({Scope.ISSUE}), actor="t", now=NOW
        )[1]
    )
    tokens = [app_env.tokens["issue"], second_token]
    bad = {
        3: _request(3, scheme="NOPE"),
        7: _request(7, number="CWI-2-TAKEN-1"),
        8: _request(8, number="CWI-2-TAKEN-1"),  # the same number twice in one group
        10: _request(10, reason="  "),
    }
    bodies = {n: bad.get(n) or _request(n) for n in range(1, 13)}

    def post(n: int) -> Any:
        return http(
            "POST",
            server.url("/api/v1/certifications"),
            body=bodies[n],
            token=tokens[n % 2],
        )

    answers, commits = _post_while_the_first_commits(app_env, 12, post)
    assert commits < 12
    assert answers[3].status == 422 and answers[3].json["error"]["code"] == "unknown_reference"
    assert answers[10].status == 400 and answers[10].json["error"]["code"] == "reason_required"
    # One of the two requests for the same number wins it, the other is refused.
    assert sorted((answers[7].status, answers[8].status)) == [201, 409]
    issued = {n: a for n, a in answers.items() if a.status == 201}
    assert len(issued) == 9
    with app_env.read() as session:
        events = {
            e.subject: e
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.action == Action.ISSUE)
            ).scalars()
        }
    for n, answer in issued.items():
        shown = answer.json["certification"]
        assert shown["person"]["reference"] == bodies[n]["person"]["reference"]
        again = http(
            "GET", server.url(f"/api/v1/certifications/{shown['number']}"), token=tokens[0]
        )
        assert again.json == shown  # the answer is what was written
        audit_event = events[shown["number"]]
        assert audit_event.reason == bodies[n]["reason"]
        assert audit_event.actor == ("token:issue-token", "token:second-client")[n % 2]
    with app_env.read() as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 9


def _credential(n: int, **changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": f"did:example:holder-{n}"},
    }
    credential.update(changes)
    return credential


def test_concurrent_vc_api_issuances_share_transactions_and_keep_their_own_answers(
    app_env, server
) -> None:
    """Eight W3C VC API issuances held at once: fewer transactions than requests, each
    credential with its own id and status entries (no index given twice), the refused ones
    refused with their own error, each audited with its own reason."""
    bodies = {n: {"credential": _credential(n), "reason": f"batch {n}"} for n in range(1, 9)}
    bodies[4]["credential"]["credentialStatus"] = {"type": "BitstringStatusListEntry"}
    bodies[6]["credential"]["id"] = bodies[7]["credential"]["id"] = "urn:uuid:same-id"

    def post(n: int) -> Any:
        return http(
            "POST",
            server.url("/credentials/issue"),
            body=bodies[n],
            token=app_env.tokens["issue"],
        )

    answers, commits = _post_while_the_first_commits(app_env, 8, post)
    assert commits < 8
    assert answers[4].status == 400 and answers[4].json["error"]["code"] == "field_invalid"
    assert sorted((answers[6].status, answers[7].status)) == [201, 409]
    issued = {n: a.json["verifiableCredential"] for n, a in answers.items() if a.status == 201}
    assert len(issued) == 6
    entries = [
        (entry["statusListCredential"], entry["statusListIndex"])
        for credential in issued.values()
        for entry in credential["credentialStatus"]
    ]
    assert len(entries) == len(set(entries)) == 12
    with app_env.read() as session:
        reasons = {
            e.subject: e.reason
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.action == Action.CREDENTIAL_ISSUE)
            ).scalars()
        }
    for n, credential in issued.items():
        assert credential["credentialSubject"]["id"] == f"did:example:holder-{n}"
        assert reasons[credential["id"]] == f"batch {n}"


def test_an_observer_that_raises_fails_its_batch_and_blocks_nobody() -> None:
    def broken(size: int) -> None:
        raise RuntimeError("metrics backend gone")

    group: GroupCommit[int, int] = GroupCommit(lambda items: list(items), observe=broken)
    with pytest.raises(RuntimeError, match="metrics backend gone"):
        group.submit(1)
    group.observe = None
    assert group.submit(2) == 2  # the queue is not left busy
