"""``certvc users``: the admin UI's staff accounts (issue 12).

``list``, ``create``, ``set-role``, ``disable``, ``enable`` and ``reset-password``. Each change
runs one service of :mod:`issuer.services.accounts` in one transaction and is audited as
``user.create`` or ``user.update`` with the reason given (actor ``cli:<login>``). A generated
password is printed once and stored only as its scrypt hash. Errors are one line on stderr,
``certvc: error: <code>: <what to fix>``, exit 2 (``field_invalid`` for a bad name or role,
``unknown_reference`` for an unknown user, ``transition_not_allowed`` for the last admin).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session

from ..db.models import Role
from ..errors import FieldError
from ..services import accounts
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    reason_option,
    reports_instance_errors,
)

ROLES = ", ".join(r.value for r in Role)

password_file_option = click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from this file.",
)


def _read_password(path: Path) -> str:
    return path.read_text(encoding="utf-8").rstrip("\r\n")


@click.group("users")
def users() -> None:
    """Staff accounts of the admin UI (every change audited)."""


@users.command("list")
@instance_option
@json_option
@reports_instance_errors
def users_list(instance_dir: Path, as_json: bool) -> None:
    """List the accounts: user name, role, active or disabled."""
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        rows = [accounts.user_json(user) for user in accounts.list_users(session)]
    width = max((len(str(row["username"])) for row in rows), default=8)
    lines = [
        f"{row['username']:<{width}}  {row['role']:<7}  {'active' if row['active'] else 'disabled'}"
        for row in rows
    ]
    echo_result(as_json, rows, "\n".join(lines) or "no users")


@users.command("create")
@instance_option
@click.argument("username")
@click.option("--role", required=True, help=f"One of: {ROLES}.")
@password_file_option
@click.option(
    "--generate-password",
    is_flag=True,
    help="Set a random password and print it once (instead of prompting).",
)
@click.option(
    "--reason",
    default="user account created",
    show_default=True,
    help="Why (recorded in the audit log).",
)
@json_option
@reports_instance_errors
def users_create(
    instance_dir: Path,
    username: str,
    role: str,
    password_file: Path | None,
    generate_password: bool,
    reason: str,
    as_json: bool,
) -> None:
    """Create a user of the admin UI (password hashed with scrypt; default: prompt)."""
    chosen = accounts.parse_role(role)
    accounts.check_username(username)
    if password_file is not None and generate_password:
        raise FieldError("password", "give --password-file or --generate-password, not both")
    if generate_password:
        password = accounts.generate_password()
    elif password_file is not None:
        password = _read_password(password_file)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        opened.write(
            lambda s: accounts.create_user(
                s,
                username=username,
                password=password,
                role=chosen,
                actor=cli_actor(),
                now=moment,
                reason=reason,
            )
        )
    data: dict[str, object] = {"username": username, "role": chosen.value}
    text = f"user {username} ({chosen.value}) created"
    if generate_password:
        data["password"] = password
        text += f"\npassword (shown once): {password}"
    echo_result(as_json, data, text)


@users.command("set-role")
@instance_option
@click.argument("username")
@click.argument("role")
@reason_option
@json_option
@reports_instance_errors
def users_set_role(
    instance_dir: Path, username: str, role: str, reason: str, as_json: bool
) -> None:
    """Give USERNAME the ROLE officer, auditor or admin (the last active admin stays one)."""
    chosen = accounts.parse_role(role)
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        data = opened.write(
            lambda s: accounts.user_json(
                accounts.set_role(s, username, chosen, reason=reason, actor=cli_actor(), now=moment)
            )
        )
    echo_result(as_json, data, f"user {username} is now {chosen.value}")


def _active_command(name: str, active: bool, help_text: str) -> click.Command:
    @users.command(name, help=help_text)
    @instance_option
    @click.argument("username")
    @reason_option
    @json_option
    @reports_instance_errors
    def command(instance_dir: Path, username: str, reason: str, as_json: bool) -> None:
        moment = now()

        def work(session: Session) -> dict[str, object]:
            user = accounts.set_active(
                session, username, active, reason=reason, actor=cli_actor(), now=moment
            )
            return accounts.user_json(user)

        with OpenedInstance.open(instance_dir) as opened:
            data = opened.write(work)
        echo_result(as_json, data, f"user {username} {name}d")

    return command


users_disable = _active_command(
    "disable",
    False,
    "Disable USERNAME: no sign-in, and open sessions end on their next request.",
)
users_enable = _active_command("enable", True, "Enable USERNAME again.")


@users.command("reset-password")
@instance_option
@click.argument("username")
@reason_option
@password_file_option
@json_option
@reports_instance_errors
def users_reset_password(
    instance_dir: Path, username: str, reason: str, password_file: Path | None, as_json: bool
) -> None:
    """Set a new password for USERNAME: a random one printed once (or --password-file).
    Every open session of the user ends."""
    given = _read_password(password_file) if password_file is not None else None
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        password = opened.write(
            lambda s: accounts.reset_password(
                s, username, reason=reason, actor=cli_actor(), now=moment, password=given
            )
        )
    data: dict[str, object] = {"username": username}
    text = f"password of {username} reset"
    if given is None:
        data["password"] = password
        text += f"\npassword (shown once): {password}"
    echo_result(as_json, data, text)
