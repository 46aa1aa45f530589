"""API tokens (hashed, scoped) and users (scrypt-hashed passwords, roles)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from issuer.db.models import ApiToken, Role, Scope, User
from issuer.errors import AlreadyExists, AuthRequired, FieldError, Forbidden
from issuer.services import accounts

from .support import NOW


def test_token_is_shown_once_and_stored_hashed(env) -> None:
    token = env.write(
        lambda s: accounts.create_token(
            s, name="ci", scopes=frozenset({Scope.ISSUE}), actor="t", now=NOW
        )[1]
    )
    with env.read() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        assert token not in (row.token_hash, row.name, row.scopes)
        assert row.token_hash == accounts.hash_token(token)
        assert accounts.authenticate_token(session, token, Scope.ISSUE).name == "ci"
        with pytest.raises(Forbidden):
            accounts.authenticate_token(session, token, Scope.STATUS)
        with pytest.raises(AuthRequired):
            accounts.authenticate_token(session, token + "x", Scope.ISSUE)
        with pytest.raises(AuthRequired):
            accounts.authenticate_token(session, None, Scope.ISSUE)


def test_admin_scope_includes_the_others_and_revoked_tokens_fail(env) -> None:
    token = env.write(
        lambda s: accounts.create_token(
            s, name="root", scopes=frozenset({Scope.ADMIN}), actor="t", now=NOW
        )[1]
    )
    with env.read() as session:
        for scope in Scope:
            accounts.authenticate_token(session, token, scope)

    def revoke(session):
        session.execute(select(ApiToken)).scalar_one().revoked_at = NOW

    env.write(revoke)
    with env.read() as session, pytest.raises(AuthRequired):
        accounts.authenticate_token(session, token, Scope.ISSUE)


@pytest.mark.parametrize("value", ["", "issue,bogus", " , "])
def test_parse_scopes_refuses_unknown_or_empty(value: str) -> None:
    with pytest.raises(FieldError):
        accounts.parse_scopes(value)


def test_passwords_are_hashed_with_scrypt(env) -> None:
    env.write(
        lambda s: accounts.create_user(
            s,
            username="olga",
            password="a long enough secret",
            role=Role.OFFICER,
            actor="t",
            now=NOW,
        )
    )
    with env.read() as session:
        user = session.execute(select(User)).scalar_one()
        assert user.password_hash.startswith("scrypt:")
        assert "a long enough secret" not in user.password_hash
        assert accounts.authenticate_user(session, "olga", "a long enough secret") is not None
        assert accounts.authenticate_user(session, "olga", "wrong password!!") is None
        assert accounts.authenticate_user(session, "nobody", "a long enough secret") is None


def test_user_rules(env) -> None:
    def create(name, password):
        return env.write(
            lambda s: accounts.create_user(
                s, username=name, password=password, role=Role.AUDITOR, actor="t", now=NOW
            )
        )

    with pytest.raises(FieldError):
        create("ann", "short")
    with pytest.raises(FieldError):
        create("bad name!", "a long enough secret")
    create("ann", "a long enough secret")
    with pytest.raises(AlreadyExists):
        create("ann", "another long secret")
