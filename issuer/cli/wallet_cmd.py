"""``certvc export``, ``certvc offer`` and ``certvc public-page``: wallet export from the CLI.

Adapters like the other issuer commands (:mod:`issuer.cli`): open the instance, run one
service in one transaction, print (JSON with ``--json``); exit 0 success, 2 unusable input,
with one line on stderr.

- ``export CERTIFICATE_OR_CREDENTIAL_ID --format pdf|badge-png|badge-svg|qr-png|qr-svg|json|jwt
  [--paper a4|letter] [--mode embed|link] --out FILE``: a certificate number exports its
  current credential, a credential id that credential.
- ``offer CERTIFICATE_OR_CREDENTIAL_ID [--tx-code] [--by-reference] [--json]``: a fresh
  OpenID4VCI offer; the ``openid-credential-offer://`` link on stdout (the transaction code on
  stderr, to be sent apart), or with ``--json`` the link, the offer object and the code.
- ``public-page CERTIFICATE_OR_CREDENTIAL_ID --on|--off --reason R``: the opt-in public page.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from sqlalchemy.orm import Session

from ..services import oid4vci, public_page, wallet_files
from ..services.wallet_files import ExportFormat, PaperSize, QrMode
from .common import now, output_file
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

key_argument = click.argument("key", metavar="CERTIFICATE_OR_CREDENTIAL_ID")


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader never sees half a file."""
    path = path.resolve()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


@click.command("export")
@instance_option
@key_argument
@click.option(
    "--format",
    "form",
    required=True,
    type=click.Choice([f.value for f in ExportFormat]),
    help="What to write.",
)
@click.option(
    "--paper",
    type=click.Choice([p.value for p in PaperSize]),
    default=PaperSize.A4.value,
    show_default=True,
    help="PDF page size.",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in QrMode]),
    default=QrMode.EMBED.value,
    show_default=True,
    help="QR code exports: the credential inside, or a link to its public page (the PDF "
    "prints both kinds: docs/qr-format.md).",
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file."
)
@passphrase_option
@json_option
@reports_instance_errors
def export(
    instance_dir: Path,
    key: str,
    form: str,
    paper: str,
    mode: str,
    out: Path,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Export a certificate's credential: PDF, baked badge, QR code, JSON or vc+jwt."""
    chosen = ExportFormat(form)
    output_file(out)
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        ctx, moment, actor = opened.context(), now(), cli_actor()
        source = opened.write(
            lambda session: wallet_files.prepare(session, ctx, key, chosen, actor=actor, now=moment)
        )
    download = wallet_files.render(
        source,
        chosen,
        verifier_url=wallet_files.verifier_page(ctx),
        paper=PaperSize(paper),
        mode=QrMode(mode),
    )
    _write(out, download.content)
    data = {
        "file": str(out),
        "format": chosen.value,
        "mediaType": download.media_type,
        "filename": download.filename,
        "bytes": len(download.content),
        "credentialId": source.credential_id,
    }
    echo_result(as_json, data, str(out))


@click.command("offer")
@instance_option
@key_argument
@click.option("--tx-code", is_flag=True, help="Protect the offer with a transaction code.")
@click.option(
    "--by-reference", is_flag=True, help="Put a credential_offer_uri in the link (shorter QR)."
)
@passphrase_option
@json_option
@reports_instance_errors
def offer(
    instance_dir: Path,
    key: str,
    tx_code: bool,
    by_reference: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Print a fresh OpenID4VCI credential offer for a wallet (single use, 10 minutes)."""
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        ctx, moment, actor = opened.context(), now(), cli_actor()

        def work(session: Session) -> oid4vci.OfferResult:
            return oid4vci.create_offer(
                session,
                ctx,
                key,
                tx_code=tx_code,
                by_reference=by_reference,
                actor=actor,
                now=moment,
            )

        result = opened.write(work)
    if as_json:
        echo_result(True, oid4vci.offer_json(result), "")
        return
    click.echo(result.link)
    if result.tx_code is not None:
        click.echo(f"transaction code (send it apart from the offer): {result.tx_code}", err=True)


@click.command("public-page")
@instance_option
@key_argument
@click.option("--on/--off", "enabled", required=True, help="Publish, or withdraw, the page.")
@reason_option
@json_option
@reports_instance_errors
def public_page_command(
    instance_dir: Path, key: str, enabled: bool, reason: str, as_json: bool
) -> None:
    """Turn a certification's public credential page on or off (with the person's consent)."""
    moment, actor = now(), cli_actor()

    def work(session: Session) -> dict[str, object]:
        cert = public_page.set_public_page(
            session, key, enabled, reason=reason, actor=actor, now=moment
        )
        current = cert.current_credential
        url = current.credential_id if enabled and current is not None else None
        return {"number": cert.number, "publicPage": cert.public_page, "url": url}

    with OpenedInstance.open(instance_dir) as opened:
        data = opened.write(work)
    echo_result(as_json, data, data["url"] or f"public page of {data['number']} is off")
