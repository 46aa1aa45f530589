"""Surveillance attachments over HTTP, shared by the API and the admin UI: reading uploads no
further than the configured limit (``SURVEILLANCE_MAX_ATTACHMENT_BYTES``) and sending a stored
file back as a download that no browser renders in the issuer's origin."""

from __future__ import annotations

import io

from flask import Response, current_app, request, send_file

from ..db.models import SurveillanceAttachment
from ..services.surveillance import Upload


def max_attachment_bytes() -> int:
    return int(current_app.config["SURVEILLANCE_MAX_ATTACHMENT_BYTES"])


def read_uploads(limit: int) -> list[Upload]:
    """The request's files named ``attachments`` (an empty file input skipped), each read no
    further than one byte past ``limit`` (enough to tell it is too large)."""
    return [
        Upload(upload.filename or "", upload.stream.read(limit + 1))
        for upload in request.files.getlist("attachments")
        if upload.filename
    ]


def send_attachment(found: SurveillanceAttachment) -> Response:
    """The file as a download (``Content-Disposition: attachment``), typed as checked on
    upload, sandboxed and not cached."""
    response = send_file(
        io.BytesIO(found.content),
        mimetype=found.media_type.value,
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
