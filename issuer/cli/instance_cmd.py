"""The ``certvc`` commands that work on an instance: init, tokens, the lifecycle,
import-csv, keys rotate, status publish (``certvc audit``: :mod:`issuer.cli.audit_cmd`).

Adapters: they read the environment and the clock, open the instance, run one service in one
transaction and print (JSON with ``--json``). Exit codes as the rest of the CLI: 0 success,
1 not valid, 2 unusable input; errors are one line on
stderr, ``certvc: error: <code>: <what to fix>``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from contexts.errors import InputError
from keys.keypair import KeyType
from keys.keystore import load_passphrase
from keys.pkcs11_token import TokenConfig, load_pin

from .. import db, signing_pool
from ..db.models import Action
from ..errors import FieldError
from ..services import (
    accounts,
    audit,
    csv_import,
    fields,
    instance,
    issuance,
    key_report,
    keyring,
    lifecycle,
    static_publish,
    status_lists,
)
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    passphrase_option,
    reason_option,
    reports_instance_errors,
)

# --- init ---------------------------------------------------------------------------------


@click.command("init")
@instance_option
@click.option("--public-url", envvar="CERTVC_PUBLIC_URL", help="Base URL the issuer is served at.")
@click.option("--dev", is_flag=True, help="Development instance: unencrypted keys allowed.")
@click.option("--no-demo", is_flag=True, help="Do not create the demonstration scheme.")
@click.option(
    "--body-name",
    help="The certification body's name (later: certvc body set --name ... --reason ...).",
)
@click.option(
    "--suite-key",
    "suite_keys",
    metavar="SUITE=TYPE",
    multiple=True,
    help="The key type a suite signs with, at creation (repeatable): ecdsa-rdfc-2019=p-384, "
    "vc+jwt=p-256|p-384|p-521 (default: ecdsa-rdfc-2019 with p-256, vc+jwt with ed25519).",
)
@passphrase_option
@click.option(
    "--key-backend",
    type=click.Choice(["file", "pkcs11"]),
    default=None,
    help="Where the signing keys live: encrypted key files in the instance (the default), or "
    "generated inside a PKCS#11 token (an HSM; PIN from $CERTVC_PKCS11_PIN or the file "
    "$CERTVC_PKCS11_PIN_FILE names). Fixed at the first init.",
)
@click.option(
    "--pkcs11-module",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --key-backend pkcs11: the token's PKCS#11 module (a .so file).",
)
@click.option("--pkcs11-token", help="With --key-backend pkcs11: the token's label.")
@json_option
@reports_instance_errors
def init(
    instance_dir: Path,
    public_url: str | None,
    dev: bool,
    no_demo: bool,
    body_name: str | None,
    suite_keys: tuple[str, ...],
    passphrase_file: Path | None,
    key_backend: str | None,
    pkcs11_module: Path | None,
    pkcs11_token: str | None,
    as_json: bool,
) -> None:
    """Create or complete an instance (idempotent): folder, database, keys, body, demo scheme.

    --suite-key chooses the key type a suite signs with (e.g. P-384 for ecdsa-rdfc-2019 and
    ES384 for vc+jwt); it is fixed when the instance is created."""
    chosen: dict[str, str] | None = None
    if suite_keys:
        chosen = {}
        for item in suite_keys:
            suite, sep, key_type = item.partition("=")
            if not sep or not suite.strip() or not key_type.strip():
                raise FieldError("--suite-key", f"{item!r} is not SUITE=TYPE")
            chosen[suite.strip()] = key_type.strip().lower()
        keyring.suite_key_types(chosen)  # refused before the folder is made
    token = _token_config(key_backend, pkcs11_module, pkcs11_token)
    passphrase = None if token is not None else load_passphrase(os.environ, passphrase_file)
    folder = instance_dir.resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = instance.database_url(folder, os.environ.get("CERTVC_DATABASE_URL"))
    engine = db.make_engine(url)
    try:
        report = instance.init_instance(
            folder,
            engine=engine,
            database=url,
            public_url=public_url,
            dev_mode=dev,
            passphrase=passphrase,
            now=now(),
            demo=not no_demo,
            body_name=body_name.strip() if body_name and body_name.strip() else None,
            suite_keys=chosen,
            key_backend=token,
            pin=load_pin(os.environ),
        )
    finally:
        engine.dispose()
    if report.settings.dev_mode and passphrase is None and report.settings.key_backend is None:
        click.echo("certvc: warning: development instance, keys are NOT encrypted", err=True)
    lines = [f"instance {report.instance} ({report.settings.did})"]
    lines += [f"created {item}" for item in report.created] or ["nothing to do: up to date"]
    if no_demo and "certification body" in report.created:
        lines.append(
            "next: certvc body set --name ... --accredited-by ... --reason ...; "
            "certvc schemes create ...; certvc users create ..."
        )
    echo_result(as_json, report.to_json(), "\n".join(lines))


def _token_config(
    backend: str | None, module: Path | None, label: str | None
) -> TokenConfig | None:
    """The PKCS#11 token ``init`` names, or None for the file key store."""
    if backend != "pkcs11":
        if module is not None or label is not None:
            raise InputError("--pkcs11-module and --pkcs11-token go with --key-backend pkcs11")
        return None
    if module is None or not label:
        raise InputError("--key-backend pkcs11 needs --pkcs11-module PATH and --pkcs11-token LABEL")
    return TokenConfig(str(module.absolute()), label)


# --- tokens (users: users_cmd.py) ---------------------------------------------------------


@click.group("tokens")
def tokens() -> None:
    """API tokens (stored hashed; shown once)."""


@tokens.command("create")
@instance_option
@click.option("--scope", "scope", required=True, help="Comma-separated: issue,status,admin.")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@json_option
@reports_instance_errors
def tokens_create(instance_dir: Path, scope: str, name: str, as_json: bool) -> None:
    """Create a token and print it once (it is not stored)."""
    scopes = accounts.parse_scopes(scope)
    opened = OpenedInstance.open(instance_dir)
    moment = now()

    def work(session: Session) -> tuple[int, str]:
        row, token = accounts.create_token(
            session, name=name, scopes=scopes, actor=cli_actor(), now=moment
        )
        return row.id, token

    token_id, token = opened.write(work)
    data = {"id": token_id, "name": name, "scopes": sorted(s.value for s in scopes), "token": token}
    echo_result(as_json, data, token)


# --- lifecycle ----------------------------------------------------------------------------


def _certification_text(data: dict[str, Any]) -> str:
    credential = data.get("credential") or {}
    return (
        f"{data['number']}: {data['state']} ({data['scheme']}, {data['person']['name']}, "
        f"{data['effective'][:10]} .. {data['expires'][:10]})\ncredential {credential.get('id')}"
    )


#: The issuing services' field names (the API's) -> the ``issue`` command's own options.
_ISSUE_FLAGS = {
    "scheme": "--scheme",
    "scope": "--scope",
    "effective": "--effective",
    "personId": "--person-id",
    "person.name": "--name",
    "number": "--number",
}


def _in_cli_words(error: FieldError, reference: str | None) -> FieldError:
    """A service's field error named with the command's options instead of the API's fields
    (``give personId, ...`` -> ``--name``, ``--person-id`` or ``--reference``)."""
    if error.field == "person":
        if reference:
            return FieldError(
                "--name",
                f"no person is registered under --reference {reference!r}: give their name "
                "with --name to register them",
                code=error.code,
            )
        return FieldError(
            "--name",
            "give the person's name (--name NAME), or a registered person "
            "(--person-id ID or --reference REF)",
            code=error.code,
        )
    flag = _ISSUE_FLAGS.get(error.field)
    if flag is None:
        return error
    return FieldError(flag, error.message.removeprefix(f"{error.field}: "), code=error.code)


@click.command("issue")
@instance_option
@click.argument("number", required=False)
@click.option(
    "--number",
    "number_option",
    metavar="NUMBER",
    help="The certificate number (generated if omitted; the same as the NUMBER argument).",
)
@click.option("--scheme", required=True, help="The scheme code.")
@click.option("--scope", required=True, help="The certified scope.")
@click.option("--person-id", type=int, help="An existing person.")
@click.option("--name", help="The person's name (a new person unless --reference exists).")
@click.option("--reference", help="The person's reference (the body's own id).")
@click.option(
    "--email",
    help="A new person's e-mail address: the certificate is delivered there with a claim "
    "link when CERTVC_SMTP_URL is set (docs/delivery.md).",
)
@click.option(
    "--effective",
    help="Effective date: YYYY-MM-DD (2026-11-01) or a date-time with a time zone "
    "(2026-11-01T09:00:00Z); default: now.",
)
@reason_option
@passphrase_option
@json_option
@reports_instance_errors
def issue(
    instance_dir: Path,
    number: str | None,
    number_option: str | None,
    scheme: str,
    scope: str,
    person_id: int | None,
    name: str | None,
    reference: str | None,
    email: str | None,
    effective: str | None,
    reason: str,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Certify a person: record certificate number NUMBER (or --number; generated if omitted)
    and sign its credential."""
    if number is not None and number_option is not None and number != number_option:
        raise click.UsageError(
            f"the certificate number is given twice, differently ({number!r} and --number "
            f"{number_option!r}): give it once"
        )
    try:
        request = lifecycle.IssueRequest(
            scheme_code=scheme,
            scope=scope,
            person_id=person_id,
            person_name=name,
            person_reference=reference,
            person_email=fields.email({"--email": email}, "--email"),
            number=fields.code({"--number": number_option or number}, "--number", required=False),
            effective=fields.moment({"--effective": effective}, "--effective"),
        )
        if person_id is None and not (name and name.strip()) and not reference:
            raise FieldError("person", "no person")  # worded for the CLI below
        opened = OpenedInstance.open(instance_dir, passphrase_file)
        ctx, moment = opened.context(), now()

        def work(session: Session) -> dict[str, Any]:
            cert = lifecycle.issue(
                session, ctx, request, reason=reason, actor=cli_actor(), now=moment
            )
            current = cert.current_credential
            assert current is not None
            return {
                "certification": lifecycle.certification_json(cert, moment),
                "verifiableCredential": lifecycle.credential_document(current),
            }

        result = opened.write(work)
    except FieldError as error:
        worded = _in_cli_words(error, reference)
        if worded is error:
            raise
        raise worded from error
    echo_result(as_json, result, _certification_text(result["certification"]))


def _lifecycle_command(action: Action, help_text: str) -> click.Command:
    @click.command(action.value, help=help_text)
    @instance_option
    @click.argument("key", metavar="NUMBER_OR_CREDENTIAL_ID")
    @reason_option
    @passphrase_option
    @json_option
    @reports_instance_errors
    def command(
        instance_dir: Path,
        key: str,
        reason: str,
        passphrase_file: Path | None,
        as_json: bool,
        scope: str | None = None,
        effective: str | None = None,
    ) -> None:
        when = fields.moment({"--effective": effective}, "--effective")
        opened = OpenedInstance.open(instance_dir, passphrase_file)
        ctx, moment = opened.context(), now()

        def work(session: Session) -> dict[str, Any]:
            cert = lifecycle.transition(
                session,
                ctx,
                key,
                action,
                reason=reason,
                actor=cli_actor(),
                now=moment,
                scope=scope,
                effective=when,
            )
            return lifecycle.certification_json(cert, moment)

        result = opened.write(work)
        echo_result(as_json, result, _certification_text(result))

    if action is Action.REDUCE_SCOPE:
        command = click.option("--scope", required=True, help="The new, narrower scope.")(command)
    if action is Action.RENEW:
        command = click.option(
            "--effective",
            help="Start of the new period: YYYY-MM-DD (2026-11-01) or a date-time with a time "
            "zone (2026-11-01T09:00:00Z); default: now.",
        )(command)
    return command


suspend = _lifecycle_command(Action.SUSPEND, "Suspend a certification (suspension bit set).")
reinstate = _lifecycle_command(
    Action.REINSTATE, "Reinstate a suspended certification (bit cleared)."
)
withdraw = _lifecycle_command(
    Action.WITHDRAW, "Withdraw a certification (revocation bit set; final)."
)
renew = _lifecycle_command(
    Action.RENEW, "Renew: a new credential for a new period; the old one is superseded."
)
reduce_scope = _lifecycle_command(
    Action.REDUCE_SCOPE, "Reduce the scope: the credential is withdrawn and reissued."
)


# --- import, keys, status, audit ----------------------------------------------------------


def _print_template(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(csv_import.TEMPLATE.replace("\r\n", "\n"), nl=False)
        ctx.exit()


@click.command("import-csv")
@instance_option
@click.option(
    "--template",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_template,
    help="Print a template CSV (every column, one example row) and exit.",
)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reason_option
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes that sign credentials (rows that certify); the database work stays in one.",
)
@passphrase_option
@json_option
@reports_instance_errors
def import_csv(
    instance_dir: Path,
    csv_file: Path,
    reason: str,
    jobs: int,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Import persons (and certifications) from FILE; bad rows are reported, good ones kept.

    FILE: UTF-8 (a byte-order mark is fine), comma, semicolon or tab separated, a header row
    naming the columns name (required), reference, and to certify scheme, scope, number,
    effective (YYYY-MM-DD or a date-time with a time zone); --template prints one. Running the
    same file again imports nothing twice: rows already done are reported as already present.
    """
    try:
        text = csv_import.decode(csv_file.read_bytes())
    except FieldError as error:
        raise InputError(f"{csv_file}: {error.message.removeprefix('file: ')}") from error
    audit.check_reason(reason)
    certifies = "scheme" in csv_import.columns(text)  # a bad header is refused before any work
    total = csv_import.count_rows(text)
    report = csv_import.ImportReport()
    with contextlib.ExitStack() as stack:
        opened = stack.enter_context(OpenedInstance.open(instance_dir, passphrase_file))
        ctx = opened.context() if certifies else None
        signer: issuance.BatchSigner = issuance.sign_here
        if ctx is not None and jobs > 1 and signing_pool.available():
            opened.close()  # no database connection is open across the fork
            signer = stack.enter_context(signing_pool.SigningPool(ctx, jobs))
        bar = stack.enter_context(
            click.progressbar(length=total, label="importing", file=sys.stderr)
        )
        for chunk in csv_import.chunks(csv_import.parse(text)):
            moment = now()
            part = opened.write(
                lambda s, chunk=chunk, moment=moment: csv_import.import_chunk(
                    s,
                    ctx,
                    chunk,
                    source=csv_file.name,
                    reason=reason,
                    actor=cli_actor(),
                    now=moment,
                    signer=signer,
                )
            )
            report.add(part)
            bar.update(part.rows)
    data = report.to_json()
    lines = [f"{data['imported']} of {data['rows']} rows imported"]
    if report.present:
        lines.append(f"{len(report.present)} already present (a re-run): nothing done for them")
    lines += [f"line {e.line}: {e.message}" for e in report.errors]
    echo_result(as_json, data, "\n".join(lines))


@click.command("rotate")
@instance_option
@click.option(
    "--type",
    "key_type",
    type=click.Choice([k.value for k in KeyType]),
    default=KeyType.ED25519.value,
    show_default=True,
)
@click.option("--reason", default="scheduled key rotation", show_default=True)
@click.option(
    "--reissue-affected",
    is_flag=True,
    help="A compromised key: after rotating, reissue every live certification whose current "
    "credential an older key signed, and re-sign every status list with the new key.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="With --reissue-affected: list what would be reissued; rotate and change nothing.",
)
@passphrase_option
@json_option
@reports_instance_errors
def keys_rotate(
    instance_dir: Path,
    key_type: str,
    reason: str,
    reissue_affected: bool,
    dry_run: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Rotate the instance's signing key; the old key stays in did.json (old credentials verify).

    With --reissue-affected (a key that may be compromised) the certifications it signed are
    reissued with the new key, each audited as reissue, in transactions of 200.
    """
    if dry_run and not reissue_affected:
        raise InputError(
            "--dry-run goes with --reissue-affected (a plain rotation changes no record)"
        )
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        ctx, moment = opened.context(), now()
        older = [record.id for record in ctx.keyring.records()]
        if dry_run:
            numbers = opened.write(lambda s: _signed_by(s, older, moment))
            data = {"dryRun": True, "keys": older, "reissue": numbers}
            lines = [f"would rotate and reissue {len(numbers)} certification(s):", *numbers]
            echo_result(as_json, data, "\n".join(lines))
            return
        record = ctx.keyring.rotate(KeyType(key_type), moment)
        opened.write(
            lambda s: audit.record(
                s,
                action=Action.KEY_ROTATE,
                actor=cli_actor(),
                subject=record.id,
                reason=reason,
                now=moment,
                details={"type": key_type, "reissueAffected": reissue_affected},
            )
        )
        data: dict[str, Any] = {
            "active": record.id,
            "methods": [m.id for m in ctx.keyring.methods()],
        }
        lines = [f"active key: {record.id}"]
        if reissue_affected:
            numbers = opened.write(lambda s: _signed_by(s, older, moment))
            for start in range(0, len(numbers), 200):
                chunk = numbers[start : start + 200]
                opened.write(
                    lambda s, chunk=chunk: [
                        lifecycle.reissue(
                            s, ctx, number, reason=reason, actor=cli_actor(), now=moment
                        )
                        for number in chunk
                    ]
                )
            opened.write(
                lambda s: [
                    status_lists.publish(s, ctx, row, moment) for row in status_lists.all_lists(s)
                ]
            )
            data["reissued"] = numbers
            lines.append(f"reissued {len(numbers)} certification(s); every status list re-signed")
        echo_result(as_json, data, "\n".join(lines))


def _signed_by(session: Session, keys: list[str], moment: datetime) -> list[str]:
    """The live certifications whose current credential one of ``keys`` signed."""
    numbers: list[str] = []
    for key_id in keys:
        numbers.extend(
            item["number"]
            for item in key_report.certifications_to_reissue(session, key_id, now=moment)
        )
    return sorted(set(numbers))


@click.group("status")
def status_group() -> None:
    """Status lists."""


@status_group.command("publish")
@instance_option
@click.option("--to", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@passphrase_option
@json_option
@reports_instance_errors
def status_publish(
    instance_dir: Path, directory: Path, passphrase_file: Path | None, as_json: bool
) -> None:
    """Write the signed status lists and did.json to DIR for a web server or CDN."""
    opened = OpenedInstance.open(instance_dir, passphrase_file)
    ctx = opened.context()
    moment = now()
    opened.write(lambda session: lifecycle.supersede_due(session, ctx, moment))  # renewals started
    with opened.writer() as session:
        files = static_publish.publish_static(session, ctx, directory)
    data = {"directory": str(directory), "files": [str(f.relative_to(directory)) for f in files]}
    echo_result(as_json, data, "\n".join(data["files"]))
