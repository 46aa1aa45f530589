"""Static export of what the issuer publishes, for a web server or a CDN.

``<dir>/status/<id>`` holds each signed status list (serve it as ``application/vc``) and
``<dir>/.well-known/did.json`` the DID document: the same paths as the app serves, relative to
the public URL. Files are written atomically (temp file, then rename) so a server never serves
half a list.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from sqlalchemy.orm import Session

from . import body_identity, catalog, status_lists
from .issuing_context import IssuerContext


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def publish_static(session: Session, ctx: IssuerContext, directory: Path) -> list[Path]:
    """Write every status list and the DID document under ``directory``; returns the files."""
    directory = Path(directory)
    written = []
    for row in status_lists.all_lists(session):
        if row.signed is None:
            continue
        path = directory / "status" / str(row.id)
        _write(path, row.signed.encode("utf-8"))
        written.append(path)
    did_path = directory / ".well-known" / "did.json"
    document = body_identity.published_did_document(
        catalog.get_body(session), ctx.keyring.did_document()
    )
    _write(did_path, json.dumps(document, indent=2).encode("utf-8"))
    written.append(did_path)
    return written
