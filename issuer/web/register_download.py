"""Sending the register: audited first, then streamed (the API's export and the admin UI's
download share it)."""

from __future__ import annotations

from flask import Response, stream_with_context

from ..services import register
from .extensions import database, now


def export_response(
    register_filter: register.RegisterFilter,
    export_format: register.ExportFormat,
    *,
    actor: str,
    reason: str | None,
) -> Response:
    """Audit the export (its own transaction, committed before the first row leaves), then
    stream the rows from the request's read session (kept open by ``stream_with_context``)."""
    moment = now()
    database.write(
        lambda s: register.record_export(
            s, register_filter, export_format, actor=actor, now=moment, reason=reason
        )
    )
    records = register.rows(database.session(), register_filter, now=moment)
    body = register.chunks(records, register_filter, export_format, now=moment)
    response = Response(stream_with_context(body), content_type=export_format.media_type)
    name = f"register-{moment.strftime('%Y%m%d')}.{export_format.value}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
