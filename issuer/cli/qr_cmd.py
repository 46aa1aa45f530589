"""``certvc qr``: the reference encoder (and a decoder) of the QR payload format.

``qr encode`` is what the wallet export calls to print a credential: embed mode carries the whole
signed credential in the QR (docs/qr-format.md), link mode only the URL of the hosted credential.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from contexts.errors import InputError
from keys.suites import vc_jwt
from verifier import qr as qr_format
from verifier.inputs import loads_limited
from verifier.qr_image import is_image, read_qr_texts
from verifier.qr_symbol import (
    MAX_MODULE_PX,
    PNG_MODULE_PX,
    ErrorCorrection,
    make_symbol,
    render_png,
    render_svg,
)

from .common import output_file, read_input_bytes, reports_errors

#: The print size the figures are given for (a QR on a certificate or a badge).
PRINT_MM = 30.0


def verifier_url(option: str | None, env: Mapping[str, str]) -> str:
    """--verifier-url, else ``$CERTVC_VERIFIER_URL``, else ``$CERTVC_PUBLIC_URL`` + ``/v``."""
    if option:
        return option
    if env.get("CERTVC_VERIFIER_URL"):
        return env["CERTVC_VERIFIER_URL"]
    if env.get("CERTVC_PUBLIC_URL"):
        return env["CERTVC_PUBLIC_URL"].rstrip("/") + qr_format.VERIFIER_PATH
    raise InputError(
        "name the verifier page: --verifier-url URL (or CERTVC_VERIFIER_URL / CERTVC_PUBLIC_URL)"
    )


def _credential(raw: bytes) -> dict[str, Any] | str:
    text = raw.decode("utf-8", errors="replace").strip()
    if vc_jwt.looks_like_jwt(text):
        vc_jwt.parse(text)  # refuse a malformed token before printing it
        return text
    value = loads_limited(raw)
    if not isinstance(value, dict) or "proof" not in value:
        raise InputError("CREDENTIAL must be a signed credential (JSON with a proof, or vc+jwt)")
    return value


@click.group()
def qr_group() -> None:
    """QR codes of credentials (the format of docs/qr-format.md)."""


@qr_group.command()
@click.argument("credential_path", metavar="CREDENTIAL")
@click.option("--mode", type=click.Choice(["embed", "link"]), default="embed", show_default=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.png or FILE.svg",
)
@click.option("--verifier-url", metavar="URL", help="The verifier page the QR opens.")
@click.option("--link", metavar="URL", help="Link mode: the hosted credential (default: its id).")
@click.option(
    "--error-correction",
    type=click.Choice([level.name for level in ErrorCorrection]),
    default="L",
    show_default=True,
    help="L suits clean prints (smallest code); M or Q survive wear.",
)
@click.option(
    "--module-px", type=click.IntRange(1, MAX_MODULE_PX), default=PNG_MODULE_PX, show_default=True
)
@reports_errors
def encode(
    credential_path: str,
    mode: str,
    out: Path,
    verifier_url: str | None,
    link: str | None,
    error_correction: str,
    module_px: int,
) -> None:
    """Write the QR code of CREDENTIAL (a signed JSON file, a vc+jwt file or '-')."""
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError("--out must name a .png or .svg file")
    output_file(out)
    credential = _credential(read_input_bytes(credential_path))
    base = _verifier_url(verifier_url)
    if mode == "embed":
        payload = qr_format.encode_credential(credential)
    else:
        url = link or (credential.get("id") if isinstance(credential, dict) else None)
        if not isinstance(url, str):
            raise InputError("link mode needs --link URL (the credential has no id URL)")
        payload = qr_format.encode_link(url)
    text = qr_format.deep_link(base, payload)
    symbol = make_symbol(text, ErrorCorrection[error_correction])
    module_mm = symbol.module_mm(PRINT_MM)
    if out.suffix.lower() == ".png":
        out.write_bytes(render_png(symbol, module_px=module_px))
    else:  # the symbol PRINT_MM wide, its quiet zone around it
        out.write_bytes(render_svg(symbol, size_mm=symbol.size * module_mm))
    click.echo(
        f"{out}: QR version {symbol.version} ({symbol.modules}x{symbol.modules} modules), "
        f"error correction {error_correction}, {len(text)} characters; printed {PRINT_MM:g} mm "
        f"wide: {module_mm:.2f} mm per module"
    )


def _verifier_url(option: str | None) -> str:
    return verifier_url(option, os.environ)


@qr_group.command()
@click.argument("input_path", metavar="IMAGE|TEXT")
@reports_errors
def decode(input_path: str) -> None:
    """Print what a QR code holds: the credential JSON, the vc+jwt, or the link (not verified)."""
    path = Path(input_path)
    if input_path != "-" and not path.exists() and qr_format.looks_like_qr_payload(input_path):
        text = input_path
    else:
        raw = read_input_bytes(input_path)
        text = read_qr_texts(raw)[0] if is_image(raw) else raw.decode("utf-8", "replace")
    payload = qr_format.decode_payload(text.strip())
    if payload.kind is qr_format.PayloadKind.CREDENTIAL:
        value = loads_limited(payload.unverified_text)
        click.echo(json.dumps(value, indent=2, ensure_ascii=False))
    else:
        click.echo(payload.unverified_text)


qr_group.name = "qr"
#: The lazily loaded command (``issuer.cli.COMMANDS``).
qr = qr_group
