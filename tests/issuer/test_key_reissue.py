"""A key that may be compromised (issue 12, point 7): ``certvc keys rotate --reissue-affected``
reissues every live certification an older key signed and re-signs every status list with the
new key; ``--dry-run`` lists them and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from issuer.cli import main
from issuer.db.models import Action, AuditEvent, Certification, StatusList
from issuer.services import audit, lifecycle
from issuer.services.live_verify import instance_verifier
from verifier.result import Verdict

from .support import NOW, context


def _issue(env, name: str) -> str:
    request = lifecycle.IssueRequest("CWI-2", "steel", person_name=name)
    return env.write(
        lambda s: lifecycle.issue(s, env.ctx, request, reason="exam", actor="t", now=NOW).number
    )


def _current(env, number: str):
    with env.read() as session:
        cert = session.execute(
            select(Certification).where(Certification.number == number)
        ).scalar_one()
        current = cert.current_credential
        return current.key_id, json.loads(current.document), current.state.value


def test_rotate_and_reissue_what_the_old_key_signed(env) -> None:
    numbers = {name: _issue(env, name) for name in ("Ada", "Grace", "Alan")}
    for name, action in (("Grace", Action.SUSPEND), ("Alan", Action.WITHDRAW)):
        env.write(
            lambda s, n=numbers[name], a=action: lifecycle.transition(
                s, env.ctx, n, a, reason="r", actor="t", now=NOW + timedelta(hours=1)
            )
        )
    old_key, old_document, _ = _current(env, numbers["Ada"])
    cli = {"CERTVC_INSTANCE": str(env.folder), "CERTVC_DATABASE_URL": env.url}

    dry = CliRunner().invoke(
        main, ["keys", "rotate", "--reissue-affected", "--dry-run", "--json"], env=cli
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["reissue"] == sorted([numbers["Ada"], numbers["Grace"]])
    assert _current(env, numbers["Ada"])[0] == old_key  # nothing rotated, nothing reissued

    done = CliRunner().invoke(
        main,
        ["keys", "rotate", "--reissue-affected", "--reason", "key may be compromised", "--json"],
        env=cli,
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    new_key = result["active"]
    assert new_key != old_key and result["reissued"] == json.loads(dry.stdout)["reissue"]
    assert _current(env, numbers["Ada"])[:1] == (new_key,)
    assert _current(env, numbers["Grace"])[0] == new_key
    assert _current(env, numbers["Grace"])[2] == "suspended"
    assert _current(env, numbers["Alan"])[0] == old_key  # withdrawn: nothing to reissue

    ctx = context(env.folder)  # the key ring as it is now
    # the CLI re-signed the lists at the real time: check them at the real time too
    verifier = instance_verifier(env.factory, ctx, lambda: datetime.now(UTC))
    ada_new = _current(env, numbers["Ada"])[1]
    checked = verifier.verify(ada_new).result
    assert checked.verdict is Verdict.VALID, checked.to_json()
    assert verifier.verify(_current(env, numbers["Grace"])[1]).result.verdict is Verdict.SUSPENDED
    replaced = verifier.verify(old_document).result
    assert replaced.verdict is Verdict.SUPERSEDED and replaced.replaced_by.number == numbers["Ada"]
    with env.read() as session:
        lists = session.execute(select(StatusList.signed)).scalars().all()
        assert all(json.loads(text)["proof"]["verificationMethod"] == new_key for text in lists)
        reissued = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.REISSUE)
        ).scalars()
        assert sorted(e.subject for e in reissued) == result["reissued"]
        assert audit.verify_chain(session).ok


def test_dry_run_needs_reissue_affected(env) -> None:
    cli = {"CERTVC_INSTANCE": str(env.folder), "CERTVC_DATABASE_URL": env.url}
    done = CliRunner().invoke(main, ["keys", "rotate", "--dry-run"], env=cli)
    assert done.exit_code == 2 and "--reissue-affected" in done.stderr
